namespace ThrillSuite.Contracts.Gate;

/// <summary>A player's freebet state changed (a use was taken or given back). (spec §8.5; <see cref="Brand"/> is operator:brand.)</summary>
public sealed record PlayerBonusUpdated(string OperatorId, string BrandId, string PlayerId, PlayerBonus Data, long Timestamp)
{
    public string Brand => $"{OperatorId}:{BrandId}";
}
