using Microsoft.Extensions.Options;
using ReferenceWallet.Wallet;
using ThrillSuite.ServiceDefaults.Hosting;

namespace ReferenceWallet.Simulation;

/// <summary>Players given in configuration (<c>Wallet:Players</c>), created at start when they do not exist yet.</summary>
public sealed class SeedPlayer
{
    public string? Id { get; set; }
    public string? Token { get; set; }
    public string? Currency { get; set; }
    public decimal? Balance { get; set; }
    public string? OperatorId { get; set; }
    public string? BrandId { get; set; }
    public string? Nickname { get; set; }
}

/// <summary>
/// Seeds the configured players once: a player that exists keeps its balance (a restart never resets what the tests or
/// the demo did with it). A malformed entry stops start-up with the setting's name.
/// </summary>
public sealed class SeedPlayers(Players players, IOptions<WalletOptions> options) : IStartupTask
{
    public async Task RunAsync(CancellationToken ct)
    {
        var seeds = options.Value.Players;
        for (var i = 0; i < seeds.Count; i++)
        {
            var seed = seeds[i];
            if (string.IsNullOrWhiteSpace(seed.Id))
                throw new StartupSettingException($"Wallet:Players:{i}:Id (env Wallet__Players__{i}__Id) is required.");
            if (await players.GetAsync(seed.Id, ct) is not null) continue;
            try
            {
                await players.PutAsync(seed.Id, new PlayerRequest(seed.Token, seed.Currency, seed.Balance, seed.OperatorId, seed.BrandId, null, seed.Nickname,
                    null, null, null, null));
            }
            catch (WalletFailure failure)
            {
                throw new StartupSettingException($"Wallet:Players:{i} (env Wallet__Players__{i}__*) is not a valid player: {failure.Message}");
            }
        }
    }
}
