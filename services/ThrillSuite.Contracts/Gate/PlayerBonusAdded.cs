namespace ThrillSuite.Contracts.Gate;

/// <summary>Freebets were awarded to a player. (spec §8.5; <see cref="Brand"/> is operator:brand.)</summary>
public sealed record PlayerBonusAdded(string OperatorId, string BrandId, string PlayerId, PlayerBonus Data, long Timestamp)
{
    public string Brand => $"{OperatorId}:{BrandId}";
}
