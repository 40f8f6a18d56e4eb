using System.Diagnostics;
using ThrillPots.Contributions;
using static ThrillPots.Tests.Templates;

namespace ThrillPots.Tests;

/// <summary>Always Fair multi-currency (spec wallet §6.2, design.md §4): per-currency bounds and odds per unit of base money.</summary>
public class AlwaysFairTests
{
    static readonly MultiplierSet Rates = new("EUR", new Dictionary<string, decimal>
    {
        ["EUR"] = 1m, ["GBP"] = 0.8592m, ["SEK"] = 11.6761m, ["JPY"] = 162.5m, ["USD"] = 1.0762m,
    });

    /// <summary>The spec's example minimums (EUR 0.10, GBP 0.10, SEK 1, JPY 10) with round maximums.</summary>
    static readonly Dictionary<string, CurrencyLimit> Limits = new()
    {
        ["EUR"] = new(0.1m, 5m), ["GBP"] = new(0.1m, 5m), ["SEK"] = new(1m, 50m), ["JPY"] = new(10m, 500m),
    };

    static TemplateDefinition WithLimits(TemplateDefinition t, IReadOnlyDictionary<string, CurrencyLimit>? limits, decimal fixedValue = 0.1m) =>
        t with { ContributionRules = t.ContributionRules! with { ContributionType = new ContributionType(fixedValue), CurrencyLimits = limits } };

    static IReadOnlyList<TemplateViolation> Check(IReadOnlyDictionary<string, CurrencyLimit> limits, decimal fixedValue = 0.1m) =>
        TemplateRules.Check(WithLimits(QuickHit(), limits, fixedValue));

    [Test]
    public void Round_limits_per_currency_are_a_valid_template() =>
        Assert.That(Check(Limits), Is.Empty);

    [TestCase("SEK", null, 50, "contribution_rules.currency_limits.SEK.min")]
    [TestCase("SEK", 0, 50, "contribution_rules.currency_limits.SEK.min")]
    [TestCase("SEK", -1, 50, "contribution_rules.currency_limits.SEK.min")]
    [TestCase("SEK", 1, null, "contribution_rules.currency_limits.SEK.max")]
    [TestCase("SEK", 5, 4, "contribution_rules.currency_limits.SEK.max")]
    [TestCase("JPY", 10.5, 500, "contribution_rules.currency_limits.JPY.min")] // JPY has no minor unit
    [TestCase("EUR", 0.1, 5.005, "contribution_rules.currency_limits.EUR.max")]
    [TestCase("KWD", 0.0001, 1, "contribution_rules.currency_limits.KWD.min")] // 3 decimals
    [TestCase("XYZ", 1, 2, "contribution_rules.currency_limits.XYZ")]
    [TestCase("sek", 1, 2, "contribution_rules.currency_limits.sek")]
    [TestCase("GBP", 1, 2_000_000, "contribution_rules.currency_limits.GBP.max")]
    public void Bad_limits_are_refused_naming_the_field(string code, double? min, double? max, string field)
    {
        var violations = Check(new Dictionary<string, CurrencyLimit> { [code] = new((decimal?)min, (decimal?)max) });
        Assert.That(violations.Select(v => v.Field), Does.Contain(field), string.Join("; ", violations));
    }

    [Test]
    public void Min_equal_to_max_and_three_decimal_currencies_are_accepted() =>
        Assert.That(Check(new Dictionary<string, CurrencyLimit> { ["SEK"] = new(2m, 2m), ["KWD"] = new(0.005m, 1.25m) }), Is.Empty);

    [Test]
    public void The_templates_Fixed_must_lie_within_its_own_currencys_limits()
    {
        var violations = Check(new Dictionary<string, CurrencyLimit> { ["EUR"] = new(0.2m, 5m) }, fixedValue: 0.1m);
        Assert.That(violations.Single().Field, Is.EqualTo("contribution_rules.contribution_type.Fixed"));
        Assert.That(violations.Single().Message, Does.Contain("min 0.2, max 5 EUR"));
    }

    [TestCase("SEK", 0.99, "min 1, max 50 SEK")]
    [TestCase("SEK", 50.01, "min 1, max 50 SEK")]
    [TestCase("JPY", 9, "min 10, max 500 JPY")]
    [TestCase("EUR", 0.09, "min 0.1, max 5 EUR")]
    public void A_value_outside_the_range_is_refused_naming_the_range(string currency, decimal value, string range)
    {
        var refusal = AlwaysFair.Refusal(WithLimits(QuickHit(), Limits), value, currency);
        Assert.That(refusal, Does.Contain(range).And.Contain($"{value} {currency}"));
    }

    [TestCase("SEK", 1), TestCase("SEK", 50), TestCase("JPY", 10), TestCase("JPY", 500), TestCase("EUR", 0.1), TestCase("GBP", 5)]
    [TestCase("USD", 0.01)] // no limits for USD: anything the opt-in API takes
    public void Values_at_the_bounds_are_accepted(string currency, decimal value) =>
        Assert.That(AlwaysFair.Refusal(WithLimits(QuickHit(), Limits), value, currency), Is.Null);

    [Test]
    public void The_default_value_is_clamped_into_the_players_currency_bounds()
    {
        var template = WithLimits(QuickHit(), Limits, fixedValue: 0.05m);
        // Fixed EUR 0.05 is below every minimum: each player contributes their currency's minimum, worth its EUR equivalent.
        Assert.That(ContributionValues.InJackpotCurrency(template, false, null, null, Rates, "EUR", "EUR"), Is.EqualTo(0.1m));
        Assert.That(ContributionValues.InJackpotCurrency(template, false, null, null, Rates, "EUR", "SEK"), Is.EqualTo(Rates.Convert(1m, "SEK", "EUR")));
        Assert.That(ContributionValues.InJackpotCurrency(template, false, null, null, Rates, "EUR", "JPY"), Is.EqualTo(Rates.Convert(10m, "JPY", "EUR")));
        // USD has no bounds: Basic mode, the converted Fixed.
        Assert.That(ContributionValues.InJackpotCurrency(template, false, null, null, Rates, "EUR", "USD"), Is.EqualTo(0.05m));
    }

    [Test]
    public void A_preferred_value_chosen_in_another_currency_is_clamped_into_the_contribution_currencys_bounds()
    {
        var template = WithLimits(QuickHit(), Limits);
        // EUR 10 (chosen on a EUR session) contributed from a SEK wallet: 116.76 SEK, above SEK's 50.
        Assert.That(ContributionValues.InJackpotCurrency(template, true, 10m, "EUR", Rates, "EUR", "SEK"), Is.EqualTo(Rates.Convert(50m, "SEK", "EUR")));
        // Within the bounds: unchanged, to the last digit.
        Assert.That(ContributionValues.InJackpotCurrency(template, true, 2m, "EUR", Rates, "EUR", "SEK"), Is.EqualTo(2m));
        Assert.That(ContributionValues.InJackpotCurrency(template, true, 3m, "SEK", Rates, "EUR", "SEK"), Is.EqualTo(Rates.Convert(3m, "SEK", "EUR")));
        // Without bounds on the template nothing is clamped.
        Assert.That(ContributionValues.InJackpotCurrency(QuickHit(), true, 10m, "EUR", Rates, "EUR", "SEK"), Is.EqualTo(10m));
    }

    /// <summary>
    /// The statistical proof: players contributing in EUR, GBP, SEK and JPY at their currency's minimum win in proportion
    /// to the base-currency value they contributed. K exceeds every contribution, so P(win) = v / (K·M) exactly (one fractional
    /// draw): each currency's win count must lie within 4σ of n·v/(K·M), and the counts per euro contributed must agree.
    /// </summary>
    [Test]
    public void Players_at_their_currency_minimums_win_in_proportion_to_the_base_currency_value_they_contributed()
    {
        const long M = 20;
        const decimal K = 0.2m;
        var template = WithLimits(Template("EUR", 0.5m, Pot("p", 0.5m, 100m, types: [HitRate(M, K)])), Limits);
        string[] currencies = ["EUR", "GBP", "SEK", "JPY"];
        // Each player opted in at their minimum in their own currency; the engine sees the value in EUR (its base currency).
        var values = currencies.ToDictionary(c => c, c => ContributionValues.InJackpotCurrency(template, true, Limits[c].Min, c, Rates, "EUR", c));
        Assert.That(values["EUR"], Is.EqualTo(0.1m));
        Assert.That(values["JPY"], Is.EqualTo(Rates.Convert(10m, "JPY", "EUR")));
        var random = new DeterministicRandomSource(20260909);
        var pots = Start(template, random);
        var wins = currencies.ToDictionary(c => c, _ => 0L);
        var stopwatch = Stopwatch.StartNew();

        const int PerCurrency = 262_500; // 1,050,000 contributions in all
        for (var i = 0; i < PerCurrency * currencies.Length; i++)
        {
            var currency = currencies[i % currencies.Length];
            var result = InstanceMath.ApplyContribution(template, pots, values[currency], random);
            wins[currency] += result.Wins.Count;
            pots = result.Pots;
        }

        var perEuro = new Dictionary<string, double>();
        foreach (var c in currencies)
        {
            var p = ThrillPots.Engine.HitRate.Probability(values[c], M, K);
            Assert.That(p, Is.EqualTo((double)(values[c] / (K * M))).Within(1e-12), "proportional to the value by construction");
            var expected = PerCurrency * p;
            var sigma = Math.Sqrt(PerCurrency * p * (1 - p));
            perEuro[c] = wins[c] / (PerCurrency * (double)values[c]);
            TestContext.Out.WriteLine($"{c}: {Limits[c].Min} {c} = {values[c]} EUR; {wins[c]} wins, expected {expected:F1} ± {sigma:F1} " +
                $"({(wins[c] - expected) / sigma:+0.00;-0.00} σ); {perEuro[c]:F4} wins per EUR contributed");
            Assert.That(Math.Abs(wins[c] - expected), Is.LessThanOrEqualTo(4 * sigma), c);
        }
        TestContext.Out.WriteLine($"{PerCurrency * currencies.Length} contributions in {stopwatch.Elapsed.TotalSeconds:F1} s");

        // Wins per euro agree across currencies: every pair within 4σ of their difference (binomial variances, scaled).
        foreach (var a in currencies)
            foreach (var b in currencies.Where(b => string.CompareOrdinal(a, b) < 0))
            {
                double Var(string c) => ThrillPots.Engine.HitRate.Probability(values[c], M, K) * (1 - ThrillPots.Engine.HitRate.Probability(values[c], M, K)) / PerCurrency / Math.Pow((double)values[c], 2);
                Assert.That(Math.Abs(perEuro[a] - perEuro[b]), Is.LessThanOrEqualTo(4 * Math.Sqrt(Var(a) + Var(b))), $"{a} vs {b}");
            }

        // The test can tell: odds per contribution (not per euro) would give JPY players EUR players' win count, far outside 4σ.
        var jpySigma = Math.Sqrt(PerCurrency * ThrillPots.Engine.HitRate.Probability(values["JPY"], M, K));
        Assert.That(wins["EUR"] - wins["JPY"], Is.GreaterThan(8 * jpySigma));
    }
}
