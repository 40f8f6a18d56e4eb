namespace ThrillPots.Engine;

/// <summary>One source pot's rule of a model switch (spec §21.4): the fraction of it each target pot receives.</summary>
public sealed record PotRule(string SourcePot, IReadOnlyList<KeyValuePair<string, decimal>> TargetPots);

/// <summary>What one source pot gives one target pot: each part of the pot's total, moved alike.</summary>
public sealed record PotTransfer(string SourcePot, string TargetPot, decimal Value, decimal ReseedFund, decimal SeedBoost)
{
    public decimal Amount => Value + ReseedFund + SeedBoost;
}

/// <summary>
/// Splitting money between pots without losing any of it: each part is cut to <see cref="Money.InternalScale"/> and what
/// the cuts leave (the residue) goes to the pot with the largest fraction (the first of them on a tie), so the parts always
/// add up to the amount exactly.
/// </summary>
public static class PotTransfers
{
    public static IReadOnlyList<KeyValuePair<string, decimal>> Split(decimal amount, IReadOnlyList<KeyValuePair<string, decimal>> fractions)
    {
        if (fractions.Count == 0) throw new ArgumentException("At least one fraction.", nameof(fractions));
        var parts = fractions.Select(f => KeyValuePair.Create(f.Key, Money.ToInternal(amount * f.Value))).ToArray();
        return WithResidue(amount, parts, fractions);
    }

    static KeyValuePair<string, decimal>[] WithResidue(decimal amount, KeyValuePair<string, decimal>[] parts, IReadOnlyList<KeyValuePair<string, decimal>> fractions)
    {
        var largest = 0;
        for (var i = 1; i < fractions.Count; i++)
            if (fractions[i].Value > fractions[largest].Value) largest = i;
        parts[largest] = KeyValuePair.Create(parts[largest].Key, parts[largest].Value + amount - parts.Sum(p => p.Value));
        return parts;
    }

    /// <summary>An amount spread over pots in proportion to their weights (equal shares when every weight is 0).</summary>
    public static IReadOnlyList<KeyValuePair<string, decimal>> Spread(decimal amount, IReadOnlyList<KeyValuePair<string, decimal>> weights)
    {
        if (weights.Count == 0) throw new ArgumentException("At least one weight.", nameof(weights));
        var total = weights.Sum(w => w.Value);
        if (total == 0) weights = [.. weights.Select(w => KeyValuePair.Create(w.Key, 1m))];
        total = weights.Sum(w => w.Value);
        // amount × weight first, then ÷ total: 11 over weights 10 and 100 is exactly 1 and 10.
        var parts = weights.Select(w => KeyValuePair.Create(w.Key, Money.ToInternal(amount * w.Value / total))).ToArray();
        return WithResidue(amount, parts, weights);
    }

    /// <summary>
    /// Validates switch rules against the source pots and the target template's pots (id → initial seed): every source pot
    /// has exactly one rule, every target pot named exists, fractions are in (0, 1] and sum to exactly 1, and a target pot
    /// receiving money starts at an initial seed of 0. Errors are keyed by the request's field path.
    /// </summary>
    public static Dictionary<string, string[]> Validate(IReadOnlyList<string> sourcePots, IReadOnlyDictionary<string, decimal> targetSeeds,
        IReadOnlyList<PotRule> rules)
    {
        var errors = new Dictionary<string, string[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if (!sourcePots.Contains(rule.SourcePot))
                errors[$"pot_rules[{i}].source_pot"] = [$"The source instance has no pot '{rule.SourcePot}' (pots: {string.Join(", ", sourcePots)})."];
            else if (!seen.Add(rule.SourcePot))
                errors[$"pot_rules[{i}].source_pot"] = [$"Pot '{rule.SourcePot}' has more than one rule."];
            if (rule.TargetPots.Count == 0)
            {
                errors[$"pot_rules[{i}].target_pot"] = ["Required: at least one {\"target pot\": fraction}."];
                continue;
            }
            foreach (var (pot, fraction) in rule.TargetPots)
            {
                if (!targetSeeds.TryGetValue(pot, out var seed))
                    errors[$"pot_rules[{i}].target_pot.{pot}"] = [$"The template has no pot '{pot}' (pots: {string.Join(", ", targetSeeds.Keys)})."];
                else if (fraction is <= 0m or > 1m)
                    errors[$"pot_rules[{i}].target_pot.{pot}"] = ["A fraction > 0 and ≤ 1."];
                else if (seed != 0m)
                    errors[$"pot_rules[{i}].target_pot.{pot}"] = [$"Pot '{pot}' receives money, so its initial_seed_value must be 0 (it is {seed})."];
            }
            if (rule.TargetPots.Select(t => t.Key).Distinct().Count() != rule.TargetPots.Count)
                errors[$"pot_rules[{i}].target_pot"] = ["A target pot is named twice."];
            else if (rule.TargetPots.Sum(t => t.Value) != 1m)
                errors[$"pot_rules[{i}].target_pot"] = [$"The fractions must sum to exactly 1 (they sum to {rule.TargetPots.Sum(t => t.Value)}): the whole pot moves."];
        }
        var missing = sourcePots.Where(p => !seen.Contains(p) && !rules.Any(r => r.SourcePot == p)).ToList();
        if (missing.Count > 0)
            errors["pot_rules"] = [$"Every source pot needs a rule; none for: {string.Join(", ", missing)}."];
        return errors;
    }

    /// <summary>The transfers of one source pot (value, reseed fund and unused boosts, each split by the rule's fractions).</summary>
    public static IReadOnlyList<PotTransfer> Move(PotState pot, PotRule rule)
    {
        var values = Split(pot.Value, rule.TargetPots);
        var funds = Split(pot.ReseedFund, rule.TargetPots);
        var boosts = Split(pot.Boosts, rule.TargetPots);
        return [.. rule.TargetPots.Select((t, i) => new PotTransfer(pot.PotId, t.Key, values[i].Value, funds[i].Value, boosts[i].Value))];
    }
}
