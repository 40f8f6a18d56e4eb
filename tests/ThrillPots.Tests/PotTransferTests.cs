using ThrillPots.Engine;

namespace ThrillPots.Tests;

/// <summary>Model-switch transfers and boost spreads: nothing is ever lost to rounding, and the rules are checked field by field.</summary>
public class PotTransferTests
{
    static KeyValuePair<string, decimal> F(string pot, decimal fraction) => KeyValuePair.Create(pot, fraction);

    [Test]
    public void A_split_cuts_each_part_to_the_internal_scale_and_gives_the_residue_to_the_largest_fraction()
    {
        var parts = PotTransfers.Split(100.0000000000005m, [F("minor", 0.3333333333333333m), F("major", 0.6666666666666667m)]);
        Assert.That(parts.Sum(p => p.Value), Is.EqualTo(100.0000000000005m));
        Assert.That(parts[0].Value, Is.EqualTo(decimal.Round(100.0000000000005m * 0.3333333333333333m, 12, MidpointRounding.ToZero)));
        Assert.That(parts[1].Value, Is.EqualTo(100.0000000000005m - parts[0].Value));
        Assert.That(parts.All(p => p.Value.Scale <= 13), Is.True);
    }

    [Test]
    public void On_a_tie_the_first_largest_fraction_takes_the_residue()
    {
        var parts = PotTransfers.Split(1m, [F("a", 0.25m), F("b", 0.375m), F("c", 0.375m)]);
        Assert.That(parts.Select(p => p.Value), Is.EqualTo(new[] { 0.25m, 0.375m, 0.375m }));
        var odd = PotTransfers.Split(0.000000000001m, [F("a", 0.5m), F("b", 0.5m)]);
        Assert.That(odd.Select(p => p.Value), Is.EqualTo(new[] { 0.000000000001m, 0m }));
    }

    [Test]
    public void Random_splits_always_add_up_exactly()
    {
        var random = new System.Random(42);
        for (var i = 0; i < 10_000; i++)
        {
            var amount = Money.ToInternal((decimal)random.NextDouble() * random.Next(1, 1_000_000));
            var weights = Enumerable.Range(0, random.Next(1, 6)).Select(n => F($"p{n}", random.Next(0, 100))).ToList();
            var parts = PotTransfers.Spread(amount, weights);
            Assert.That(parts.Sum(p => p.Value), Is.EqualTo(amount));
            Assert.That(parts.All(p => p.Value >= 0), Is.True);
        }
    }

    [Test]
    public void A_spread_follows_the_weights_and_is_equal_when_they_are_all_zero()
    {
        Assert.That(PotTransfers.Spread(11m, [F("small", 10m), F("big", 100m)]).Select(p => p.Value), Is.EqualTo(new[] { 1m, 10m }));
        Assert.That(PotTransfers.Spread(9m, [F("a", 0m), F("b", 0m), F("c", 0m)]).Select(p => p.Value), Is.EqualTo(new[] { 3m, 3m, 3m }));
    }

    [Test]
    public void A_move_splits_value_reseed_fund_and_boosts_alike()
    {
        var pot = new PotState("big", 150.5m, 20.25m) { Boosts = 3m };
        var moved = PotTransfers.Move(pot, new PotRule("big", [F("minor", 0.2m), F("major", 0.8m)]));
        Assert.That(moved, Is.EqualTo(new[]
        {
            new PotTransfer("big", "minor", 30.1m, 4.05m, 0.6m),
            new PotTransfer("big", "major", 120.4m, 16.2m, 2.4m),
        }));
        Assert.That(moved.Sum(t => t.Amount), Is.EqualTo(pot.Total));
    }

    [Test]
    public void The_rules_name_each_bad_field()
    {
        string[] source = ["minor", "major", "mega"];
        var seeds = new Dictionary<string, decimal> { ["minor"] = 0m, ["major"] = 0m, ["bonus"] = 5m };
        var good = new List<PotRule>
        {
            new("minor", [F("minor", 1m)]), new("major", [F("minor", 0.05m), F("major", 0.95m)]),
            new("mega", [F("minor", 0.2m), F("major", 0.8m)]),
        };
        Assert.That(PotTransfers.Validate(source, seeds, good), Is.Empty);

        Assert.That(PotTransfers.Validate(source, seeds, good.Take(2).ToList()).Keys, Is.EqualTo(new[] { "pot_rules" }));
        Assert.That(PotTransfers.Validate(source, seeds, [.. good, new("minor", [F("major", 1m)])]).Keys, Is.EqualTo(new[] { "pot_rules[3].source_pot" }));
        Assert.That(PotTransfers.Validate(source, seeds, [.. good, new("tiny", [F("major", 1m)])]).Keys, Is.EqualTo(new[] { "pot_rules[3].source_pot" }));
        Assert.That(PotTransfers.Validate(source, seeds, [good[0], good[1], new("mega", [F("minor", 0.2m), F("major", 0.7m)])]).Keys,
            Is.EqualTo(new[] { "pot_rules[2].target_pot" }));
        Assert.That(PotTransfers.Validate(source, seeds, [good[0], good[1], new("mega", [F("bonus", 1m)])]).Keys,
            Is.EqualTo(new[] { "pot_rules[2].target_pot.bonus" }));
        Assert.That(PotTransfers.Validate(source, seeds, [good[0], good[1], new("mega", [F("nope", 1m)])]).Keys,
            Is.EqualTo(new[] { "pot_rules[2].target_pot.nope" }));
        Assert.That(PotTransfers.Validate(source, seeds, [good[0], good[1], new("mega", [F("minor", 1.5m), F("major", -0.5m)])]).Keys,
            Is.EquivalentTo(new[] { "pot_rules[2].target_pot.minor", "pot_rules[2].target_pot.major" }));
        Assert.That(PotTransfers.Validate(source, seeds, [good[0], good[1], new("mega", [])]).Keys, Is.EqualTo(new[] { "pot_rules[2].target_pot" }));
    }
}
