using System.Text.Json;
using System.Text.Json.Serialization;

namespace ThrillPots.Templates;

// The jackpot template as the ThrillTech surface spells it (spec thrillpots-engine.md §6): snake_case fields, and
// tagged unions whose tag is a PascalCase key ({"Percentage": 0.25}, {"Fixed": 0.1}, {"HitRate": {...}}).
// MustDropByValue and MustDropByTime are ThrillSuite extensions (design.md §4). Money is decimal, never double.

public sealed record Share([property: JsonPropertyName("Percentage")] decimal? Percentage);

public sealed record ContributionType([property: JsonPropertyName("Fixed")] decimal? Fixed);

/// <summary><see cref="CurrencyLimits"/>: Always Fair per-currency bounds, keyed by ISO 4217 code (see <see cref="CurrencyLimit"/>).</summary>
public sealed record ContributionRules(bool? OptInRequired, ContributionType? ContributionType, decimal? OperatorContributionPercentage,
    IReadOnlyDictionary<string, CurrencyLimit>? CurrencyLimits = null);

public sealed record SeedStrategy(decimal? InitialSeedValue, decimal? MinReseedValue, string? FundStrategy, string? ReseedStrategy)
{
    public const string CollectToMinReseed = "CollectToMinReseed";
    public const string Full = "Full";
}

/// <summary>Each contribution of value v makes floor(v/K) draws at 1/M plus one at frac(v/K)/M (design.md §4).</summary>
public sealed record HitRateTrigger(long? MaxMagicNumber, decimal? CostPerAttempt);

/// <summary>A hidden drop value uniform in (seed, max_value], committed by SHA-256 and revealed on the win.</summary>
public sealed record MustDropByValueTrigger(decimal? MaxValue);

/// <summary>
/// A hidden drop time uniform in the window ending at the deadline, committed and revealed like MustDropByValue. The deadline
/// is either a daily UTC time ("HH:mm", recurring) or one Unix timestamp in milliseconds.
/// </summary>
public sealed record MustDropByTimeTrigger(string? DailyTime, long? DeadlineTimestamp, long? WindowSeconds);

/// <summary>One trigger of a pot: exactly one member is set.</summary>
public sealed record PotType(
    [property: JsonPropertyName("HitRate")] HitRateTrigger? HitRate,
    [property: JsonPropertyName("MustDropByValue")] MustDropByValueTrigger? MustDropByValue,
    [property: JsonPropertyName("MustDropByTime")] MustDropByTimeTrigger? MustDropByTime);

public sealed record PotDefinition(
    string? Id,
    Share? Contribution,
    Share? SeedContribution,
    SeedStrategy? SeedStrategy,
    int? MaxInstantiationCount,
    bool? IsProgressive,
    bool? SupportsExternalTrigger,
    IReadOnlyList<PotType>? PotTypes,
    JsonElement? Criteria,
    decimal? MaxPotValue,
    CommunityPayout? Community = null);

/// <summary>
/// POST /templates. Fields are nullable so that validation can name every missing one; a validated template has them all.
/// Later kinds (community payouts, raffles, per-currency limits) add optional members here, never change these.
/// </summary>
public sealed record TemplateDefinition(
    string? Name,
    string? OwnerId,
    string? Currency,
    ContributionRules? ContributionRules,
    Share? HouseHoldContribution,
    string? WinSelectorStrategy,
    IReadOnlyList<PotDefinition>? Pots,
    string? JackpotType)
{
    public const string Highest = "Highest";
    public const string Jackpot = "Jackpot";
    public const string RaffleType = "Raffle";

    /// <summary>Set exactly when <see cref="JackpotType"/> is "Raffle" (spec §9, design.md §4).</summary>
    public RaffleDefinition? Raffle { get; init; }
}

/// <summary>
/// A raffle: a ticket per <see cref="TicketPrice"/> (jackpot currency) of the player's contribution value or base wager
/// (<see cref="TicketBasis"/>), drawn at the end of each <see cref="Period"/> (<c>{"Seconds"|"Minutes"|"Hours"|"Days"|"Weeks": n}</c>
/// or <c>"Schedule"</c>: each open window of the instance's schedule), the pot shared by <see cref="Prizes"/> (fractions per
/// place, summing to 1).
/// </summary>
public sealed record RaffleDefinition(decimal? TicketPrice, string? TicketBasis, JsonElement? Period, IReadOnlyList<decimal>? Prizes)
{
    public const string Contribution = "Contribution", BaseWager = "BaseWager", Schedule = "Schedule";
}
