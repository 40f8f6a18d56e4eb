using static ThrillPots.Tests.Templates;

namespace ThrillPots.Tests;

public class SplitTests
{
    static readonly DeterministicRandomSource Random = new(7);

    [Test]
    public void A_contribution_is_split_between_house_pots_and_reseed_funds()
    {
        var template = Template("EUR", 0.3m,
            Pot("minor", 0.25m, 10m, types: [Never]), Pot("major", 0.25m, 100m, types: [Never]), Pot("mega", 0.2m, 1000m, types: [Never]));
        var result = InstanceMath.ApplyContribution(template, Start(template), 0.1m, Random);

        Assert.That(result.HouseShare, Is.EqualTo(0.03m));
        Assert.That(result.Shares.Select(s => s.Share), Is.EqualTo(new[] { 0.025m, 0.025m, 0.02m }));
        Assert.That(result.Shares[0], Is.EqualTo(new PotShare("minor", 0.025m, 0.02125m, 0.00375m, 0m)));
        Assert.That(result.Pots[0], Is.EqualTo(new PotState("minor", 10.00375m, 0.02125m)));
        Assert.That(result.Pots[2].Value, Is.EqualTo(1000.003m));
        Assert.That(result.Hits, Is.Empty);
        Assert.That(result.Wins, Is.Empty);
    }

    [Test]
    public void The_reseed_fund_fills_to_min_reseed_value_and_the_part_that_would_overfill_it_goes_to_the_pot()
    {
        var template = Template("EUR", 0.75m, Pot("minor", 0.25m, 10m, types: [Never]));
        var pots = new[] { new PotState("minor", 12m, 9.99m) };

        var first = InstanceMath.ApplyContribution(template, pots, 0.1m, Random);
        Assert.That(first.Shares[0], Is.EqualTo(new PotShare("minor", 0.025m, 0.01m, 0.015m, 0m)));
        Assert.That(first.Pots[0], Is.EqualTo(new PotState("minor", 12.015m, 10m)));

        var second = InstanceMath.ApplyContribution(template, first.Pots, 0.1m, Random);
        Assert.That(second.Shares[0], Is.EqualTo(new PotShare("minor", 0.025m, 0m, 0.025m, 0m)));
        Assert.That(second.Pots[0], Is.EqualTo(new PotState("minor", 12.04m, 10m)));
    }

    [Test]
    public void Max_pot_value_caps_the_visible_pot_and_the_overflow_goes_to_the_reseed_fund()
    {
        var template = Template("EUR", 0m, Pot("capped", 1m, 10m, maxPotValue: 20m, types: [Never]));
        var pots = new[] { new PotState("capped", 19.99m, 10m) };

        var result = InstanceMath.ApplyContribution(template, pots, 0.5m, Random);
        Assert.That(result.Shares[0], Is.EqualTo(new PotShare("capped", 0.5m, 0m, 0.01m, 0.49m)));
        Assert.That(result.Pots[0], Is.EqualTo(new PotState("capped", 20m, 10.49m)));

        var again = InstanceMath.ApplyContribution(template, result.Pots, 1m, Random);
        Assert.That(again.Pots[0], Is.EqualTo(new PotState("capped", 20m, 11.49m)));
    }

    [Test]
    public void A_fixed_pot_does_not_grow_its_share_funds_its_prize()
    {
        var template = Template("EUR", 0.5m, Pot("fixed", 0.5m, 50m, progressive: false, types: [Never]));
        var result = InstanceMath.ApplyContribution(template, Start(template), 1m, Random);
        Assert.That(result.Pots[0], Is.EqualTo(new PotState("fixed", 50m, 0.5m)));
    }

    [Test]
    public void Contributions_keep_twelve_decimal_places_and_the_house_takes_the_rounding()
    {
        var template = Template("EUR", 0.4m, Pot("a", 0.3m, 0m, types: [Never]), Pot("b", 0.3m, 0m, types: [Never]));
        var result = InstanceMath.ApplyContribution(template, Start(template), 0.0000000000017m, Random);
        Assert.That(result.Value, Is.EqualTo(0.000000000001m));
        Assert.That(result.Shares.Select(s => s.Share), Is.EqualTo(new[] { 0m, 0m }));
        Assert.That(result.HouseShare, Is.EqualTo(0.000000000001m));
    }

    [Test]
    public void Pots_must_be_passed_in_template_order()
    {
        var template = QuickHit();
        var pots = Start(template).Reverse().ToList();
        Assert.That(() => InstanceMath.ApplyContribution(template, pots, 0.1m, Random), Throws.ArgumentException);
    }
}
