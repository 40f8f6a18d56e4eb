namespace ThrillSuite.Contracts.Gate;

/// <summary>A player's freebets are fully used. (spec §8.5; <see cref="Brand"/> is operator:brand.)</summary>
public sealed record PlayerBonusConsumed(string OperatorId, string BrandId, string PlayerId, PlayerBonus Data, long Timestamp)
{
    public string Brand => $"{OperatorId}:{BrandId}";
}
