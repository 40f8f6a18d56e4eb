using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Dapper;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ThrillSuite.Data.Outbox;

public sealed class OutboxRelayOptions
{
    public int BatchSize { get; set; } = 100;
    /// <summary>Fallback polling interval; commits wake the relay through LISTEN/NOTIFY sooner.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(3);
    /// <summary>Assemblies whose types the outbox may publish (the contracts).</summary>
    public List<Assembly> ContractAssemblies { get; } = [typeof(ThrillSuite.Contracts.DiagnosticProbeCompleted).Assembly];
}

/// <summary>
/// Publishes outbox rows in commit order with publisher confirms, moves them to outbox_published in the same
/// transaction that locked them (FOR UPDATE SKIP LOCKED, so replicas share the work), and retries with
/// backoff for as long as the broker is away. A crash between publish and move publishes the row again with
/// the same MessageId, which consumers' inboxes discard: at-least-once on the wire, exactly-once in effect.
/// </summary>
public sealed class OutboxRelay(
    NpgsqlDataSource db, IBus bus, IOptions<OutboxRelayOptions> options, ILogger<OutboxRelay> logger) : BackgroundService
{
    public static readonly ActivitySource Source = new("ThrillSuite.Outbox");
    readonly Dictionary<string, Type?> types = new();
    readonly SemaphoreSlim wake = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        _ = ListenAsync(stoppingToken);
        var failures = 0;
        var lastCleanup = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            int published;
            try
            {
                published = await PublishBatchAsync(o, stoppingToken);
                failures = 0;
                if (DateTime.UtcNow - lastCleanup > TimeSpan.FromMinutes(10))
                {
                    await CleanupAsync(o, stoppingToken);
                    lastCleanup = DateTime.UtcNow;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                var backoff = TimeSpan.FromMilliseconds(Math.Min(o.MaxBackoff.TotalMilliseconds,
                    100 * Math.Pow(2, Math.Min(failures, 16)) * (0.8 + Random.Shared.NextDouble() * 0.4)));
                logger.LogWarning("Outbox relay failed ({Failures} in a row), retrying in {Backoff}: {Error}", failures, backoff, ex.Message);
                await DelayAsync(backoff, stoppingToken);
                continue;
            }
            if (published < o.BatchSize) await WaitForWorkAsync(o.PollInterval, stoppingToken);
        }
    }

    async Task<int> PublishBatchAsync(OutboxRelayOptions o, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        const string select = """
            select id, message_type as MessageType, body::text as body, trace_parent as TraceParent, trace_state as TraceState,
                   destination as Destination
            from outbox_messages
            where published_at is null
            order by created_at, id
            limit @BatchSize
            for update skip locked
            """;
        var rows = (await connection.QueryAsync<OutboxRow>(new CommandDefinition(select, new { o.BatchSize }, tx, cancellationToken: ct))).ToList();
        var published = 0;
        try
        {
            foreach (var row in rows)
            {
                await PublishAsync(row, o, ct);
                await connection.ExecuteAsync(new CommandDefinition(Published, new { row.Id }, tx, cancellationToken: ct));
                published++;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Keep what was published so far; record the failure on the row that failed.
            if (published < rows.Count)
                await connection.ExecuteAsync(new CommandDefinition(
                    "update outbox_messages set attempts = attempts + 1, last_error = @Error where id = @Id",
                    new { rows[published].Id, Error = Truncate(ex.Message) }, tx, cancellationToken: CancellationToken.None));
            await tx.CommitAsync(CancellationToken.None);
            throw;
        }
        await tx.CommitAsync(ct);
        return published;
    }

    /// <summary>
    /// A published row moved out of the queue into outbox_published (0005_outbox_published.sql), its body blanked when it
    /// carries a secret: the queue holds only what is still to be published.
    /// </summary>
    internal const string Published = """
        with moved as (delete from outbox_messages where id = @Id returning *)
        insert into outbox_published (id, message_type, body, trace_parent, trace_state, created_at, published_at, attempts, last_error,
            destination, secret)
        select id, message_type, case when secret then '{}'::jsonb else body end, trace_parent, trace_state, created_at, now(), attempts + 1,
            null, destination, secret
        from moved
        """;

    async Task PublishAsync(OutboxRow row, OutboxRelayOptions o, CancellationToken ct)
    {
        var type = ResolveType(row.MessageType, o)
            ?? throw new InvalidOperationException($"Outbox message {row.Id} has unknown type {row.MessageType}.");
        var message = JsonSerializer.Deserialize(row.Body, type, Outbox.Json)!;
        ActivityContext.TryParse(row.TraceParent, row.TraceState, isRemote: true, out var parent);
        // Messaging semantic conventions: "{operation} {destination}"; an event goes to its type's exchange (MassTransit's
        // default entity name), a command to its queue. MassTransit's own send span follows as this one's child.
        var (operation, destination) = row.Destination is null ? ("publish", $"{type.Namespace}:{type.Name}") : ("send", row.Destination);
        using var activity = Source.StartActivity($"{operation} {destination}", ActivityKind.Producer, parent);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "send");
        activity?.SetTag("messaging.operation.name", operation);
        activity?.SetTag("messaging.destination.name", destination);
        activity?.SetTag("messaging.message.id", row.Id.ToString());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(o.PublishTimeout);
        if (row.Destination is null)
            await bus.Publish(message, type, context => context.MessageId = row.Id, timeout.Token);
        else
        {
            var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{row.Destination}"));
            await endpoint.Send(message, type, context => context.MessageId = row.Id, timeout.Token);
        }
    }

    Type? ResolveType(string name, OutboxRelayOptions o)
    {
        if (!types.TryGetValue(name, out var type))
        {
            type = o.ContractAssemblies.Select(a => a.GetType(name)).FirstOrDefault(t => t is not null);
            types[name] = type;
        }
        return type;
    }

    async Task CleanupAsync(OutboxRelayOptions o, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        // The queue's own published rows are those a relay of the previous version marked during a rolling upgrade.
        await connection.ExecuteAsync(new CommandDefinition("""
            delete from outbox_published where published_at < now() - @Retention;
            delete from outbox_messages where published_at < now() - @Retention;
            """, new { o.Retention }, cancellationToken: ct));
    }

    async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync(ct);
                connection.Notification += (_, _) => Wake();
                await connection.ExecuteAsync($"listen {Outbox.NotifyChannel}");
                while (!ct.IsCancellationRequested) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Polling still runs; LISTEN only lowers latency.
                logger.LogDebug("Outbox LISTEN connection lost: {Error}", ex.Message);
                await DelayAsync(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    void Wake()
    {
        try { wake.Release(); }
        catch (SemaphoreFullException) { }
    }

    async Task WaitForWorkAsync(TimeSpan interval, CancellationToken ct)
    {
        try { await wake.WaitAsync(interval, ct); }
        catch (OperationCanceledException) { }
    }

    static async Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try { await Task.Delay(delay, ct); }
        catch (OperationCanceledException) { }
    }

    static string Truncate(string s) => s.Length <= 2000 ? s : s[..2000];

    sealed record OutboxRow(Guid Id, string MessageType, string Body, string? TraceParent, string? TraceState, string? Destination);
}
