using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ThrillSuite.ServiceDefaults.Hosting;

/// <summary>
/// A worker that drains a database queue: it runs rounds back to back while they come back full, otherwise waits for a
/// wake-up from this process (work just stored here) or the poll interval (work stored by another replica).
/// </summary>
public abstract class PollingService(ILogger logger) : BackgroundService
{
    readonly SemaphoreSlim wake = new(0, 1);

    protected abstract int RoundSize { get; }
    protected virtual TimeSpan PollInterval => TimeSpan.FromMilliseconds(500);

    /// <summary>One round; returns how many items it took.</summary>
    public abstract Task<int> RunOnceAsync(CancellationToken ct);

    /// <summary>Coalescing: any number of calls wake the worker once.</summary>
    public void Wake()
    {
        try { wake.Release(); }
        catch (SemaphoreFullException) { }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var taken = 0;
            try { taken = await RunOnceAsync(stoppingToken); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) { logger.LogWarning(ex, "{Worker} round failed; trying again", GetType().Name); }
            if (taken >= RoundSize) continue;
            try { await wake.WaitAsync(PollInterval, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
