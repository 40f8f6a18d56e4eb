namespace ThrillSuite.Contracts.Gate;

/// <summary>A player's freebets expired unused. (spec §8.5; <see cref="Brand"/> is operator:brand.)</summary>
public sealed record PlayerBonusExpired(string OperatorId, string BrandId, string PlayerId, PlayerBonus Data, long Timestamp)
{
    public string Brand => $"{OperatorId}:{BrandId}";
}
