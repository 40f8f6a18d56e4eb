namespace ThrillPots.Engine;

/// <summary>
/// What one pot should hold by the ledger alone (design.md §3): initial seed + Σ pot shares + Σ operator-funded seed
/// deficits + Σ boosts − Σ wins paid, to be compared with the pot's visible value + reseed fund + unused boosts.
/// </summary>
public sealed record PotLedger(string PotId, decimal InitialSeed, decimal Shares, decimal SeedDeficits, decimal Boosts, decimal Wins)
{
    public decimal Expected => InitialSeed + Shares + SeedDeficits + Boosts - Wins;
}

public sealed record PotReconciliation(string PotId, decimal Expected, decimal Actual)
{
    public decimal Difference => Actual - Expected;
    public bool Balanced => Difference == 0m;
}

/// <summary>
/// Recomputes every pot from the stream of applied contributions and wins, independently of the running state, so that a
/// reconciliation can prove the invariant. Exact: all amounts have at most <see cref="Money.InternalScale"/> decimals.
/// </summary>
public sealed class Ledger
{
    readonly Dictionary<string, PotLedger> pots = new(StringComparer.Ordinal);

    public Ledger(IEnumerable<PotState> initial)
    {
        foreach (var pot in initial)
            pots.Add(pot.PotId, new PotLedger(pot.PotId, pot.Total, 0m, 0m, 0m, 0m));
    }

    public decimal Contributions { get; private set; }
    public decimal HouseShares { get; private set; }
    public long ContributionCount { get; private set; }
    public long WinCount { get; private set; }

    public PotLedger this[string potId] => pots[potId];

    public IEnumerable<PotLedger> Pots => pots.Values;

    public void Record(ContributionResult result)
    {
        ContributionCount++;
        Contributions += result.Value;
        HouseShares += result.HouseShare;
        foreach (var share in result.Shares)
            pots[share.PotId] = pots[share.PotId] with { Shares = pots[share.PotId].Shares + share.Share };
        RecordWins(result.Wins);
    }

    public void Record(DeadlineResult result) => RecordWins(result.Wins);

    /// <summary>An operator seed boost credited to a pot (the boost API is later work).</summary>
    public void RecordBoost(string potId, decimal amount) => pots[potId] = pots[potId] with { Boosts = pots[potId].Boosts + amount };

    void RecordWins(IEnumerable<PotWin> wins)
    {
        foreach (var win in wins)
        {
            WinCount++;
            var pot = pots[win.PotId];
            pots[win.PotId] = pot with { Wins = pot.Wins + win.WinAmount, SeedDeficits = pot.SeedDeficits + win.SeedDeficit };
        }
    }

    /// <summary>Each pot's expected total against its actual one; pots missing on either side are reported with 0.</summary>
    public IReadOnlyList<PotReconciliation> Reconcile(IEnumerable<PotState> actual)
    {
        var actualById = actual.ToDictionary(p => p.PotId, p => p.Total, StringComparer.Ordinal);
        return pots.Keys.Union(actualById.Keys)
            .Select(id => new PotReconciliation(id, pots.TryGetValue(id, out var l) ? l.Expected : 0m, actualById.GetValueOrDefault(id)))
            .ToList();
    }

    /// <summary>Every contribution is fully accounted for: Σ values = Σ house shares + Σ pot shares.</summary>
    public bool SplitsBalance => Contributions == HouseShares + pots.Values.Sum(p => p.Shares);
}
