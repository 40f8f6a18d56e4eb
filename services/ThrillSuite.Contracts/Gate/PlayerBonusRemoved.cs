namespace ThrillSuite.Contracts.Gate;

/// <summary>An operator removed a player's freebets. (spec §8.5; <see cref="Brand"/> is operator:brand.)</summary>
public sealed record PlayerBonusRemoved(string OperatorId, string BrandId, string PlayerId, PlayerBonus Data, long Timestamp)
{
    public string Brand => $"{OperatorId}:{BrandId}";
}
