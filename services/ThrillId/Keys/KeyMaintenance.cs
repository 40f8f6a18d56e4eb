using Microsoft.Extensions.Options;
using ThrillSuite.ServiceDefaults.Hosting;

namespace ThrillId.Keys;

/// <summary>Loads the keys before serving and then every SigningKeys:RefreshSeconds: picks up other replicas' rotations, rotates on schedule, drops expired keys from the JWKS.</summary>
public sealed class KeyMaintenance(SigningKeyStore store, IOptions<SigningKeyOptions> options, ILogger<KeyMaintenance> logger) : BackgroundService, IStartupTask
{
    public Task RunAsync(CancellationToken ct) => store.RefreshAsync(ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RefreshSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try { await store.RefreshAsync(stoppingToken); }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Signing key maintenance failed, keeping the current keys: {Error}", ex.Message);
            }
        }
    }
}
