namespace ThrillPots.Engine;

/// <summary>
/// One pot of a running instance. <see cref="Value"/> is the visible (ticker) value, <see cref="ReseedFund"/> the money
/// collected to reseed it after a win, <see cref="Boosts"/> operator seed boosts not yet used (spec §7.3; the boost API is
/// later work). Amounts keep <see cref="Money.InternalScale"/> decimals. The drops are the pot's hidden MustDrop points.
/// </summary>
public sealed record PotState(string PotId, decimal Value, decimal ReseedFund)
{
    public decimal Boosts { get; init; }

    /// <summary>The hidden MustDropByValue point of the current cycle, when the pot has that trigger.</summary>
    public DropCommitment? ValueDrop { get; init; }

    /// <summary>The hidden MustDropByTime point and deadline of the current cycle, when the pot has that trigger and a
    /// deadline is still ahead.</summary>
    public DropCommitment? TimeDrop { get; init; }

    /// <summary>The last contribution of the current MustDropByTime cycle, who wins if none reaches the drop time before
    /// the deadline.</summary>
    public string? LastEligibleContributionId { get; init; }

    public long? LastEligibleAtMs { get; init; }

    /// <summary>What the invariant counts for this pot: visible value + reseed fund + unused boosts.</summary>
    public decimal Total => Value + ReseedFund + Boosts;
}

public enum DropKind { MustDropByValue, MustDropByTime }

/// <summary>
/// A hidden drop point and its published SHA-256 commitment. <see cref="Commitment"/> (and, for time drops,
/// <see cref="DeadlineMs"/>) may be published; <see cref="DropValue"/>/<see cref="DropAtMs"/> and <see cref="Salt"/> stay
/// secret until the pot is won, when <see cref="Reveal"/> publishes them.
/// </summary>
public sealed record DropCommitment(DropKind Kind, decimal? DropValue, long? DropAtMs, long? DeadlineMs, string Salt, string Commitment)
{
    public DropReveal Reveal() => new(Kind, DropCommitments.CanonicalValue(this), Salt, Commitment);
}

/// <summary>A revealed drop point: anyone can check <c>hex(SHA-256(UTF-8 "Kind:Value:Salt"))</c> == Commitment.</summary>
public sealed record DropReveal(DropKind Kind, string Value, string Salt, string Commitment)
{
    public bool Verify() => DropCommitments.Verify(Commitment, Kind, Value, Salt);
}
