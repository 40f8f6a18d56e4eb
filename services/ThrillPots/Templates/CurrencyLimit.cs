namespace ThrillPots.Templates;

/// <summary>
/// Always Fair (spec wallet §6.2): the contribution values a player of one currency may choose, in that currency
/// (<c>contribution_rules.currency_limits: {"SEK": {"min": 1, "max": 50}}</c>). Both bounds are required, min &gt; 0,
/// max ≥ min, each a whole number of the currency's minor units. They bound what the player pays; the engine's
/// mathematics run on the value converted to the jackpot currency (design.md §4).
/// </summary>
public sealed record CurrencyLimit(decimal? Min, decimal? Max);
