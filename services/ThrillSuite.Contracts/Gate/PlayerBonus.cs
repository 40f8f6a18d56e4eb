using System.Text.Json.Serialization;

namespace ThrillSuite.Contracts.Gate;

/// <summary>
/// The <c>data</c> object of the five freebet events (spec wallet-thrillgate-freebets.md §8.5), also what the bonus API
/// answers for a player bonus. <see cref="State"/> is Available, Consumed, Expired or Removed (an admin removal).
/// </summary>
public sealed record PlayerBonus(Guid Id, string? PromoId, Guid? BonusInstanceId, IReadOnlyList<BonusScope> AvailableFor,
    IReadOnlyDictionary<string, BonusFreespins> BonusData, string State, long TimestampBonusAwarded, long TimestampBonusExpires,
    long? TimestampBonusConsumed);

/// <summary>A provider and the games of it a bonus applies to; no games = all of the provider's games.</summary>
public sealed record BonusScope(string ProviderId, IReadOnlyList<string> GameIds);

/// <summary>The <c>Freespins</c> variant of <c>bonus_data</c>.</summary>
public sealed record BonusFreespins(Guid Id, string Name, PlayerFreeSpinType FreespinType);

/// <summary>
/// The player-level FreeSpinType, tagged by <see cref="Type"/>: PlayerFixedFreeSpins (count, used, value) or
/// PlayerVariableFreeSpins (amount, amount_used); the other variant's fields are null and not written, so the API, the
/// webhooks and the sockets show each variant as the spec does.
/// </summary>
public sealed record PlayerFreeSpinType(string Type, string Currency,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Count = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Used = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Value = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Amount = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? AmountUsed = null);
