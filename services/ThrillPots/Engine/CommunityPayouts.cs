namespace ThrillPots.Engine;

/// <summary>
/// A player who may share a community payout: <see cref="Amount"/> is what the strategy ranks by (jackpot currency),
/// <see cref="FirstAt"/> and <see cref="FirstOrder"/> place the player's earliest counted contribution (ties go to the earlier).
/// </summary>
public sealed record CommunityCandidate(string BrandId, string PlayerId, decimal Amount, DateTime FirstAt, long FirstOrder);

/// <summary>A strategy with the winners it drew and its share of the payout.</summary>
public sealed record CommunityDraw(string Strategy, decimal Share, IReadOnlyList<CommunityCandidate> Winners);

/// <summary>One player's community credit: strategy, 1-based rank within it, amount in the jackpot currency.</summary>
public sealed record CommunityShare(string Strategy, int Rank, string BrandId, string PlayerId, decimal Amount);

/// <summary>The community credits of a win and what is left for the triggering player (payout − Σ credits).</summary>
public sealed record CommunitySplit(IReadOnlyList<CommunityShare> Shares, decimal ToTrigger)
{
    public decimal Paid => Shares.Sum(s => s.Amount);
}

/// <summary>
/// The pure part of community payouts (spec §8, design.md §4): choosing winners and splitting money. Every strategy's
/// amount is RoundDown(payout × share) in the jackpot currency, split equally among the winners it actually found, each
/// rounded down to the minor unit; whatever is not paid to the community (rounding remainders, a strategy without
/// candidates) goes to the triggering player, so Σ shares + ToTrigger = payout exactly.
/// </summary>
public static class CommunityPayouts
{
    /// <summary>Candidates in tie-break order: earliest first contribution, then brand and player id (ordinal).</summary>
    public static IOrderedEnumerable<CommunityCandidate> ByEarliest(IEnumerable<CommunityCandidate> candidates) =>
        candidates.OrderBy(c => c.FirstAt).ThenBy(c => c.FirstOrder).ThenBy(c => c.BrandId, StringComparer.Ordinal)
            .ThenBy(c => c.PlayerId, StringComparer.Ordinal);

    /// <summary>The <paramref name="count"/> highest by amount (players with nothing counted excluded); ties by earliest contribution.</summary>
    public static IReadOnlyList<CommunityCandidate> Top(IEnumerable<CommunityCandidate> candidates, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return [.. candidates.Where(c => c.Amount > 0m).OrderByDescending(c => c.Amount).ThenBy(c => c.FirstAt).ThenBy(c => c.FirstOrder)
            .ThenBy(c => c.BrandId, StringComparer.Ordinal).ThenBy(c => c.PlayerId, StringComparer.Ordinal).Take(count)];
    }

    /// <summary>
    /// <paramref name="count"/> distinct candidates drawn uniformly (a partial Fisher–Yates shuffle over the candidates in
    /// tie-break order, so a given random sequence always picks the same players); all of them when there are fewer.
    /// </summary>
    public static IReadOnlyList<CommunityCandidate> Random(IEnumerable<CommunityCandidate> candidates, int count, IRandomSource random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var pool = ByEarliest(candidates).ToArray();
        var take = Math.Min(count, pool.Length);
        for (var i = 0; i < take; i++)
        {
            var j = i + random.NextInt(pool.Length - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..take];
    }

    /// <summary>Splits <paramref name="payout"/> (jackpot currency, already rounded to its minor unit) over the draws.</summary>
    public static CommunitySplit Split(decimal payout, string currency, IEnumerable<CommunityDraw> draws)
    {
        var shares = new List<CommunityShare>();
        foreach (var draw in draws)
        {
            if (draw.Winners.Count == 0) continue;
            var amount = Money.RoundDown(payout * draw.Share, currency);
            var each = Money.RoundDown(amount / draw.Winners.Count, currency);
            if (each <= 0m) continue;
            for (var i = 0; i < draw.Winners.Count; i++)
                shares.Add(new CommunityShare(draw.Strategy, i + 1, draw.Winners[i].BrandId, draw.Winners[i].PlayerId, each));
        }
        var toTrigger = payout - shares.Sum(s => s.Amount);
        if (toTrigger < 0m) throw new InvalidOperationException($"Community shares exceed the payout {payout}.");
        return new CommunitySplit(shares, toTrigger);
    }
}
