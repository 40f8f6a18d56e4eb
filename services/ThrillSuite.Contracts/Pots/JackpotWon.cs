using System.Text.Json;

namespace ThrillSuite.Contracts.Pots;

/// <summary>
/// A pot was won (spec §18.3 JackpotWinEvent, the union of both documented forms). Amounts are in the jackpot currency;
/// <see cref="CurrencyMultipliers"/> convert them (the player's amount is <see cref="PlayerWinAmount"/>).
/// <see cref="Metadata"/> echoes the winning contribution's metadata; <see cref="Reveals"/> open the MustDrop commitments
/// the win retired. When the pot pays a community (spec §8), <see cref="WinAmount"/> and <see cref="PlayerWinAmount"/> are
/// the triggering player's portion (what their CreditWin pays) and <see cref="CommunityWinners"/> lists every community
/// credit in its player's currency; the pot's whole payout is the win's <c>win_amount</c> on ThrillPots' wins query.
/// </summary>
public sealed record JackpotWon(
    Guid WinId,
    string OwnerId,
    string BrandId,
    string PlayerId,
    string? SourceId,
    Guid InstanceId,
    string JackpotName,
    string JackpotCurrency,
    long Timestamp,
    string WinPotId,
    decimal WinAmount,
    CurrencyMultipliers CurrencyMultipliers,
    IReadOnlyList<string> GamesInJackpot,
    decimal Seed,
    bool WinWithheld,
    decimal SeedDeficit,
    IReadOnlyList<PayoutRecord>? CommunityWinners,
    JsonElement? Metadata,
    string? GameroundId,
    Guid? ContributionId,
    string Trigger,
    string PlayerCurrency,
    decimal PlayerWinAmount,
    IReadOnlyList<DropReveal> Reveals)
{
    public const string EventType = "JackpotWinEvent";
}

public sealed record CurrencyMultipliers(string BrandId, string BaseCurrency, IReadOnlyDictionary<string, decimal> Multipliers);

public sealed record PayoutRecord(string PlayerId, string BrandId, string Currency, decimal WinAmount);

/// <summary>An opened commitment: hex(SHA-256(UTF-8 "Kind:Value:Salt")) == Commitment.</summary>
public sealed record DropReveal(string Kind, string Value, string Salt, string Commitment);
