namespace ThrillSuite.Contracts.Pots;

/// <summary>
/// An instance's live state (spec §18.3 JackpotUpdateEvent): published by ThrillPots' ticker when the instance changed, at
/// most once a second, and as a heartbeat every few seconds. <see cref="DropCommitments"/> are the published SHA-256
/// commitments of the pots' hidden MustDrop points (design.md §4).
/// </summary>
public sealed record JackpotUpdated(
    Guid Id,
    string OwnerId,
    string Name,
    string Status,
    string JackpotType,
    string Currency,
    IReadOnlyList<string> AllowedBrands,
    IReadOnlyList<string> AllowedSources,
    IReadOnlyList<PotTicker> Pots,
    long? TimestampStart,
    long? TimestampEnd,
    long LastUpdated)
{
    public const string EventType = "JackpotUpdateEvent";
}

public sealed record PotTicker(string Id, bool IsProgressive, decimal CurrentValue, IReadOnlyList<string>? DropCommitments = null);
