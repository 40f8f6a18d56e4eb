namespace ThrillSuite.Contracts.Pots;

/// <summary>A player's opt-in state or preferred value on an instance changed (spec §18.3 OptInEvent).</summary>
public sealed record OptInChanged(
    Guid InstanceId,
    string PlayerId,
    string ExtPlayerId,
    string PlayerBrandId,
    decimal? PreferredContributionValue,
    string? PreferredCurrency,
    long ContributionCount,
    decimal ContributionValue,
    bool OptedIn,
    long LastUpdated)
{
    public const string EventType = "OptInEvent";
}
