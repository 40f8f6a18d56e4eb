using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillPots.Engine;

namespace ThrillPots.Contributions;

/// <summary>
/// Hands each contribution to its instance's single writer (one per instance in this process, started on first use and
/// retired when idle) and completes when the writer has committed it. After SIGTERM no new work is taken (503, retry
/// elsewhere with the same key); what is queued is still committed within the shutdown grace.
/// </summary>
public sealed class ContributionEngine(
    NpgsqlDataSource db, IRandomSource random, IOptions<WriterOptions> options, ILogger<ContributionEngine> logger,
    IHostApplicationLifetime lifetime, TimeProvider clock, TotalsFolder folder)
{
    readonly ConcurrentDictionary<Guid, InstanceWriter> writers = new();
    readonly ConcurrentDictionary<Task, byte> running = new();

    public Task<ContributionResult> SubmitAsync(Guid instanceId, Contribution contribution) =>
        EnqueueAsync(instanceId, new WorkItem(contribution, Activity.Current?.Context ?? default));

    /// <summary>Asks the instance's writer to settle MustDropByTime deadlines and raffle periods that have passed.</summary>
    public Task TickAsync(Guid instanceId) => EnqueueAsync(instanceId, new WorkItem(null, default));

    Task<ContributionResult> EnqueueAsync(Guid instanceId, WorkItem item)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            return Task.FromResult(ContributionResult.Refused(instanceId, Reasons.Unavailable, "ThrillPots is shutting down; retry with the same key."));
        while (true)
        {
            var writer = writers.GetOrAdd(instanceId, Start);
            if (writer.TryEnqueue(item)) return item.Done.Task;
            if (!writer.Retired)
                return Task.FromResult(ContributionResult.Refused(instanceId, Reasons.Unavailable,
                    $"Instance {instanceId} has {options.Value.QueueLimit} contributions waiting; retry with the same key."));
            writers.TryRemove(KeyValuePair.Create(instanceId, writer));
        }
    }

    /// <summary>
    /// Each writer runs on a thread of its own with synchronous database calls: its round trips never queue behind the
    /// thread pool's backlog of HTTP and gRPC work, which under load would stretch every batch (and so every answer).
    /// </summary>
    InstanceWriter Start(Guid instanceId)
    {
        var writer = new InstanceWriter(instanceId, db, random, options.Value, logger, clock, folder);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        running.TryAdd(done.Task, 0);
        _ = done.Task.ContinueWith(t => running.TryRemove(t, out _), TaskScheduler.Default);
        new Thread(() =>
        {
            try { writer.Run(lifetime.ApplicationStopping); }
            catch (Exception ex)
            {
                logger.LogCritical(ex, "The writer of instance {InstanceId} stopped", instanceId);
                writer.Abandon();
            }
            finally
            {
                writers.TryRemove(KeyValuePair.Create(instanceId, writer));
                done.SetResult();
            }
        }) { IsBackground = true, Name = "writer " + instanceId.ToString("N")[..8] }.Start();
        return writer;
    }

    /// <summary>Waits for the writers to commit what they hold (called on shutdown).</summary>
    public Task DrainAsync() => Task.WhenAll(running.Keys);
}

/// <summary>Waits, on shutdown, until every writer has committed and answered its queue.</summary>
sealed class ContributionDrain(ContributionEngine engine) : IHostedService
{
    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StopAsync(CancellationToken ct) => engine.DrainAsync().WaitAsync(ct);
}
