using static ThrillPots.Tests.Templates;

namespace ThrillPots.Tests;

public class TemplateRulesTests
{
    [Test]
    public void The_spec_example_is_valid() => Assert.That(TemplateRules.Check(QuickHit()), Is.Empty);

    [Test]
    public void Shares_must_be_fractions_that_add_up_to_one()
    {
        var errors = TemplateRules.Check(Template("EUR", 0.3m, Pot("a", 0.5m, 1m, seedContribution: 1.5m), Pot("b", 0.25m, 1m)));
        Assert.That(errors.Select(e => e.Field), Is.EquivalentTo(new[] { "pots[0].seed_contribution.Percentage", "pots" }));
        Assert.That(TemplateRules.Check(Template("EUR", 0.3m, Pot("a", 0.7m + 0.0000000001m, 1m))), Is.Empty);
    }

    [Test]
    public void Every_broken_rule_is_named_by_its_field()
    {
        var template = Template("XYZ", 0.5m,
            Pot("a", 0.25m, -1m, minReseed: 30m, maxPotValue: 20m),
            Pot("a", 0.25m, 10m, types: [new PotType(null, null, null), ByValue(10m), ByTime(daily: "25:00", window: 0), HitRate(0, 0m)]));
        var fields = TemplateRules.Check(template).Select(e => e.Field).ToList();
        Assert.That(fields, Is.EquivalentTo(new[]
        {
            "currency",
            "pots[0].seed_strategy.initial_seed_value",
            "pots[0].seed_strategy.min_reseed_value",
            "pots[1].id",
            "pots[1].pot_types[0]",
            "pots[1].pot_types[1].MustDropByValue.max_value",
            "pots[1].pot_types[1].MustDropByValue.max_value",
            "pots[1].pot_types[2].MustDropByTime.daily_time",
            "pots[1].pot_types[2].MustDropByTime.window_seconds",
            "pots[1].pot_types[3].HitRate.max_magic_number",
            "pots[1].pot_types[3].HitRate.cost_per_attempt",
        }));
    }

    [Test]
    public void A_drop_value_above_the_pot_cap_could_never_be_reached() =>
        Assert.That(TemplateRules.Check(Template("EUR", 0m, Pot("a", 1m, 10m, maxPotValue: 50m, types: [ByValue(60m)]))).Single().Field,
            Is.EqualTo("pots[0].pot_types[0].MustDropByValue.max_value"));
}
