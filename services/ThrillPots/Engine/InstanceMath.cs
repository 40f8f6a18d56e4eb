using ThrillPots.Templates;

namespace ThrillPots.Engine;

/// <summary>How one contribution was split (design.md §4): what the house kept and, per pot, its share and where it went.</summary>
public sealed record PotShare(string PotId, decimal Share, decimal ToReseedFund, decimal ToPot, decimal Overflow);

public enum WinTrigger { HitRate, MustDropByValue, MustDropByTime, DeadlineFallback }

/// <summary>
/// A won pot. <see cref="WinAmount"/> = RoundDown(<see cref="ValueBeforeWin"/>); <see cref="Remainder"/> (below the minor
/// unit) stays in the pot and counts towards the reseed. <see cref="Seed"/> is the value the pot was reset to;
/// <see cref="SeedDeficit"/> the part of it that neither the reseed fund nor boosts covered (funded by the operator, and
/// counted as operator seed by the <see cref="Ledger"/>). <see cref="Reveals"/> opens every drop commitment the win retired.
/// </summary>
public sealed record PotWin(
    string PotId,
    WinTrigger Trigger,
    decimal ValueBeforeWin,
    decimal WinAmount,
    decimal Remainder,
    decimal Seed,
    decimal SeedDeficit,
    decimal FromReseedFund,
    decimal FromBoosts,
    IReadOnlyList<DropReveal> Reveals,
    string? ContributionId);

/// <summary>
/// The outcome of one contribution: <see cref="Value"/> is the contribution as applied (cut to
/// <see cref="Money.InternalScale"/>), <see cref="Hits"/> every pot whose trigger fired, <see cref="Wins"/> those awarded
/// (at most one under "Highest").
/// </summary>
public sealed record ContributionResult(
    decimal Value,
    decimal HouseShare,
    IReadOnlyList<PotShare> Shares,
    IReadOnlyList<PotState> Pots,
    IReadOnlyList<string> Hits,
    IReadOnlyList<PotWin> Wins);

public sealed record DeadlineResult(IReadOnlyList<PotState> Pots, IReadOnlyList<PotWin> Wins);

/// <summary>
/// The pure mathematics of one jackpot instance: no I/O, no clock, no global randomness. The caller (the instance's single
/// writer) owns the state, passes the template (validated by <see cref="TemplateRules"/>), the pots in template order, the
/// random source and, when any pot has MustDropByTime, the time.
/// </summary>
public static class InstanceMath
{
    /// <summary>The pots of a new instance: each at its initial seed, empty reseed fund, drops drawn.</summary>
    public static IReadOnlyList<PotState> Initialize(TemplateDefinition template, IRandomSource random, DateTimeOffset at)
    {
        var currency = Currency(template);
        return Pots(template).Select(p =>
        {
            var seed = Required(p.SeedStrategy?.InitialSeedValue, p, "seed_strategy.initial_seed_value");
            return Draw(new PotState(p.Id!, seed, 0m), p, currency, seed, random, at.ToUnixTimeMilliseconds(), previousDeadline: null);
        }).ToList();
    }

    /// <summary>
    /// Applies one contribution of <paramref name="contributionValue"/> (jackpot currency) to the pots. Contributions at or
    /// after a pot's MustDropByTime deadline are not eligible for that trigger: the writer calls
    /// <see cref="ExpireDeadlines"/> when a deadline passes, before applying later contributions.
    /// </summary>
    public static ContributionResult ApplyContribution(
        TemplateDefinition template,
        IReadOnlyList<PotState> pots,
        decimal contributionValue,
        IRandomSource random,
        DateTimeOffset? at = null,
        string? contributionId = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contributionValue);
        var definitions = Pots(template);
        CheckAligned(definitions, pots);
        if (template.WinSelectorStrategy is not (null or TemplateDefinition.Highest))
            throw new NotSupportedException($"win_selector_strategy '{template.WinSelectorStrategy}' is not supported.");
        var currency = Currency(template);
        var value = Money.ToInternal(contributionValue);
        long? atMs = at?.ToUnixTimeMilliseconds();

        var next = new PotState[pots.Count];
        var shares = new PotShare[pots.Count];
        var fired = new WinTrigger?[pots.Count];
        var pooled = 0m;
        for (var i = 0; i < pots.Count; i++)
        {
            var (state, share) = Split(definitions[i], pots[i], value);
            pooled += share.Share;
            shares[i] = share;
            (next[i], fired[i]) = Trigger(definitions[i], state, value, random, atMs, contributionId);
        }

        var hits = new List<string>();
        var winner = -1;
        for (var i = 0; i < next.Length; i++)
        {
            if (fired[i] is null)
                continue;
            hits.Add(next[i].PotId);
            // "Highest": only the pot with the highest current value is awarded; ties go to the first in template order.
            if (winner < 0 || next[i].Value > next[winner].Value)
                winner = i;
        }

        var wins = new List<PotWin>();
        if (winner >= 0)
        {
            var (reset, win) = Win(definitions[winner], next[winner], fired[winner]!.Value, currency, random, atMs, contributionId);
            next[winner] = reset;
            wins.Add(win);
        }
        return new(value, value - pooled, shares, next, hits, wins);
    }

    /// <summary>
    /// Called by the writer when MustDropByTime deadlines pass (at or after them). A pot whose deadline is ≤ now and that
    /// had eligible contributions in the cycle is won by the last of them (nobody reached the drop time, or a higher pot
    /// was awarded each time); a pot without any starts its next cycle. Every pot due is settled: each pot must drop.
    /// </summary>
    public static DeadlineResult ExpireDeadlines(TemplateDefinition template, IReadOnlyList<PotState> pots, DateTimeOffset now, IRandomSource random)
    {
        var definitions = Pots(template);
        CheckAligned(definitions, pots);
        var currency = Currency(template);
        var nowMs = now.ToUnixTimeMilliseconds();
        var next = pots.ToArray();
        var wins = new List<PotWin>();
        for (var i = 0; i < next.Length; i++)
        {
            if (next[i].TimeDrop is not { DeadlineMs: long deadline } || deadline > nowMs)
                continue;
            if (next[i].LastEligibleAtMs is not null)
            {
                var (reset, win) = Win(definitions[i], next[i], WinTrigger.DeadlineFallback, currency, random, nowMs, next[i].LastEligibleContributionId);
                next[i] = reset;
                wins.Add(win);
            }
            else
            {
                var trigger = TimeTrigger(definitions[i])!;
                next[i] = next[i] with { TimeDrop = DropCommitments.DrawTime(trigger, nowMs, random) };
            }
        }
        return new(next, wins);
    }

    /// <summary>An operator seed boost credited to one pot: kept apart and spent on its next reseed after the fund.</summary>
    public static IReadOnlyList<PotState> AddBoost(IReadOnlyList<PotState> pots, string potId, decimal amount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount);
        if (!pots.Any(p => p.PotId == potId))
            throw new ArgumentException($"No pot '{potId}'.", nameof(potId));
        return pots.Select(p => p.PotId == potId ? p with { Boosts = p.Boosts + Money.ToInternal(amount) } : p).ToList();
    }

    static (PotState, PotShare) Split(PotDefinition definition, PotState pot, decimal value)
    {
        var share = Money.ToInternal(value * Required(definition.Contribution?.Percentage, definition, "contribution"));
        var minReseed = Required(definition.SeedStrategy?.MinReseedValue, definition, "seed_strategy.min_reseed_value");
        decimal toFund;
        if (definition.IsProgressive == false)
            toFund = share; // a fixed pot does not grow: its whole share funds the prize it pays
        else if (pot.ReseedFund < minReseed)
            toFund = Math.Min(Money.ToInternal(share * Required(definition.SeedContribution?.Percentage, definition, "seed_contribution")),
                minReseed - pot.ReseedFund);
        else
            toFund = 0m;
        var toPot = share - toFund;
        var visible = pot.Value + toPot;
        var overflow = 0m;
        if (definition.MaxPotValue is decimal cap && visible > cap)
        {
            overflow = visible - cap;
            visible = cap;
        }
        return (pot with { Value = visible, ReseedFund = pot.ReseedFund + toFund + overflow },
            new PotShare(pot.PotId, share, toFund, toPot - overflow, overflow));
    }

    static (PotState, WinTrigger?) Trigger(PotDefinition definition, PotState pot, decimal value, IRandomSource random, long? atMs, string? contributionId)
    {
        WinTrigger? fired = null;
        foreach (var type in definition.PotTypes ?? [])
        {
            if (type.HitRate is { } hitRate)
            {
                var m = hitRate.MaxMagicNumber ?? throw Missing(definition, "pot_types.HitRate.max_magic_number");
                var k = hitRate.CostPerAttempt ?? throw Missing(definition, "pot_types.HitRate.cost_per_attempt");
                if (HitRate.Draw(value, m, k, random))
                    fired ??= WinTrigger.HitRate;
            }
            else if (type.MustDropByValue is not null)
            {
                if (pot.ValueDrop?.DropValue is decimal drop && pot.Value >= drop)
                    fired ??= WinTrigger.MustDropByValue;
            }
            else if (type.MustDropByTime is not null && pot.TimeDrop is { DropAtMs: long dropAt, DeadlineMs: long deadline })
            {
                var now = atMs ?? throw new ArgumentException($"Pot '{definition.Id}' has MustDropByTime: the contribution needs its time.");
                if (now >= deadline)
                    continue;
                pot = pot with { LastEligibleContributionId = contributionId, LastEligibleAtMs = now };
                if (now >= dropAt)
                    fired ??= WinTrigger.MustDropByTime;
            }
        }
        return (pot, fired);
    }

    /// <summary>Pays the pot (rounded down to the minor unit) and reseeds it to min_reseed_value: the remainder first, then
    /// the reseed fund, then boosts; the rest is the operator-funded seed deficit. Then draws the next cycle's drops.</summary>
    static (PotState, PotWin) Win(PotDefinition definition, PotState pot, WinTrigger trigger, string currency, IRandomSource random, long? atMs, string? contributionId)
    {
        var paid = Money.RoundDown(pot.Value, currency);
        var remainder = pot.Value - paid;
        var target = Required(definition.SeedStrategy?.MinReseedValue, definition, "seed_strategy.min_reseed_value");
        var need = Math.Max(0m, target - remainder);
        var fromFund = Math.Min(pot.ReseedFund, need);
        var fromBoosts = Math.Min(pot.Boosts, need - fromFund);
        var deficit = need - fromFund - fromBoosts;
        var seed = remainder + need;

        var reveals = new List<DropReveal>(2);
        if (pot.ValueDrop is { } valueDrop)
            reveals.Add(valueDrop.Reveal());
        if (pot.TimeDrop is { } timeDrop)
            reveals.Add(timeDrop.Reveal());

        var reset = new PotState(pot.PotId, seed, pot.ReseedFund - fromFund) { Boosts = pot.Boosts - fromBoosts };
        var fromMs = Math.Max(atMs ?? 0, pot.TimeDrop?.DeadlineMs ?? 0);
        reset = Draw(reset, definition, currency, seed, random, fromMs, pot.TimeDrop?.DeadlineMs);
        return (reset, new PotWin(pot.PotId, trigger, pot.Value, paid, remainder, seed, deficit, fromFund, fromBoosts, reveals, contributionId));
    }

    /// <summary>Draws the drops of a new cycle: the value drop in (seed, max_value], the time drop before the first
    /// deadline after max(now, the previous deadline) — a pot won during a cycle next must drop by the following deadline.</summary>
    static PotState Draw(PotState pot, PotDefinition definition, string currency, decimal seed, IRandomSource random, long fromMs, long? previousDeadline)
    {
        if (definition.PotTypes?.FirstOrDefault(t => t.MustDropByValue is not null)?.MustDropByValue is { } byValue)
        {
            var max = byValue.MaxValue ?? throw Missing(definition, "pot_types.MustDropByValue.max_value");
            pot = pot with { ValueDrop = DropCommitments.CommitValue(DropCommitments.DrawValue(seed, max, currency, random), random) };
        }
        if (TimeTrigger(definition) is { } byTime)
            pot = pot with { TimeDrop = DropCommitments.DrawTime(byTime, Math.Max(fromMs, previousDeadline ?? long.MinValue), random) };
        return pot;
    }

    static MustDropByTimeTrigger? TimeTrigger(PotDefinition definition) =>
        definition.PotTypes?.FirstOrDefault(t => t.MustDropByTime is not null)?.MustDropByTime;

    static IReadOnlyList<PotDefinition> Pots(TemplateDefinition template) =>
        template.Pots is { Count: > 0 } pots ? pots : throw new ArgumentException("The template has no pots.", nameof(template));

    static string Currency(TemplateDefinition template) =>
        template.Currency ?? throw new ArgumentException("The template has no currency.", nameof(template));

    static void CheckAligned(IReadOnlyList<PotDefinition> definitions, IReadOnlyList<PotState> pots)
    {
        if (definitions.Count != pots.Count)
            throw new ArgumentException($"The template has {definitions.Count} pots, the state {pots.Count}.", nameof(pots));
        for (var i = 0; i < pots.Count; i++)
            if (definitions[i].Id != pots[i].PotId)
                throw new ArgumentException($"Pot {i} is '{definitions[i].Id}' in the template but '{pots[i].PotId}' in the state.", nameof(pots));
    }

    static decimal Required(decimal? value, PotDefinition definition, string field) => value ?? throw Missing(definition, field);

    static ArgumentException Missing(PotDefinition definition, string field) =>
        new($"Pot '{definition.Id}' has no {field}; validate templates with TemplateRules first.");
}
