using System.Text.Json.Serialization;

namespace ThrillPots.Templates;

// A pot's community payout (spec thrillpots-engine.md §8, design.md §4): a share of the pot's payout paid to players other
// than (or besides) the triggering one, split over strategies whose shares are fractions of the payout and add up to the
// community share: {"share": 0.5, "strategies": [{"ActivePlayers": {"share": 0.2, "winners": 3, "window_hours": 24}},
// {"HighestContributionPerWin": {"share": 0.2, "winners": 2}}, {"HighestLifetimeContributor": {"share": 0.1, "winners": 1}}]}.
// Counts are decimal so that 1.5 winners is refused by name rather than failing to parse.

public sealed record CommunityPayout(decimal? Share, IReadOnlyList<CommunityStrategy>? Strategies);

/// <summary>One strategy of a community payout: exactly one member is set.</summary>
public sealed record CommunityStrategy(
    [property: JsonPropertyName("ActivePlayers")] ActivePlayersStrategy? ActivePlayers,
    [property: JsonPropertyName("HighestContributionPerWin")] RankedStrategy? HighestContributionPerWin,
    [property: JsonPropertyName("HighestLifetimeContributor")] RankedStrategy? HighestLifetimeContributor)
{
    public const string ActivePlayersName = "ActivePlayers";
    public const string HighestContributionPerWinName = "HighestContributionPerWin";
    public const string HighestLifetimeContributorName = "HighestLifetimeContributor";

    /// <summary>The strategy's tag, share and winner count; null when not exactly one member is set.</summary>
    public (string Name, decimal? Share, decimal? Winners)? Selected =>
        (ActivePlayers is null ? 0 : 1) + (HighestContributionPerWin is null ? 0 : 1) + (HighestLifetimeContributor is null ? 0 : 1) != 1 ? null
        : ActivePlayers is { } a ? (ActivePlayersName, a.Share, a.Winners)
        : HighestContributionPerWin is { } h ? (HighestContributionPerWinName, h.Share, h.Winners)
        : (HighestLifetimeContributorName, HighestLifetimeContributor!.Share, HighestLifetimeContributor.Winners);
}

/// <summary>X random players among those who contributed to the instance in the last <see cref="WindowHours"/> hours.</summary>
public sealed record ActivePlayersStrategy(decimal? Share, decimal? Winners, decimal? WindowHours);

/// <summary>The top <see cref="Winners"/> contributors (to the pot since its last win, or to the instance over its lifetime).</summary>
public sealed record RankedStrategy(decimal? Share, decimal? Winners);
