using System.Diagnostics;
using System.Globalization;
using static ThrillPots.Tests.Templates;

namespace ThrillPots.Tests;

public class StatisticalTests
{
    [Test]
    public void HitRate_wins_over_a_million_contributions_lie_within_four_standard_deviations_of_the_expectation()
    {
        const long M = 40;
        const decimal K = 0.1m;
        var template = Template("EUR", 0.5m, Pot("p", 0.5m, 100m, types: [HitRate(M, K)]));
        // Fraction only, exact multiples, integer + fraction, and several attempts.
        decimal[] values = [0.03m, 0.1m, 0.17m, 0.25m, 0.42m, 1.05m, 0.0123456789m];
        var random = new DeterministicRandomSource(20260101);
        var pots = Start(template, random);
        var stopwatch = Stopwatch.StartNew();

        const int Contributions = 1_050_000;
        double expected = 0, variance = 0;
        long wins = 0;
        for (var i = 0; i < Contributions; i++)
        {
            var value = values[i % values.Length];
            var p = ThrillPots.Engine.HitRate.Probability(value, M, K);
            expected += p;
            variance += p * (1 - p);
            var result = InstanceMath.ApplyContribution(template, pots, value, random);
            wins += result.Wins.Count;
            pots = result.Pots;
        }

        var sigma = Math.Sqrt(variance);
        TestContext.Out.WriteLine($"{Contributions} contributions in {stopwatch.Elapsed.TotalSeconds:F1} s: {wins} wins, expected {expected:F1} ± {sigma:F1} " +
            $"({(wins - expected) / sigma:+0.00;-0.00} σ)");
        Assert.That(Math.Abs(wins - expected), Is.LessThanOrEqualTo(4 * sigma));
    }

    [Test]
    public void The_fractional_draw_hits_with_probability_frac_over_M()
    {
        var random = new DeterministicRandomSource(5);
        const int Draws = 400_000;
        // v/K = 2.5 at M = 4: P(no hit) = (3/4)^2 × (1 − 0.5/4) = 0.4921875.
        var hits = Enumerable.Range(0, Draws).Count(_ => ThrillPots.Engine.HitRate.Draw(0.25m, 4, 0.1m, random));
        var p = 1 - 0.4921875;
        Assert.That(ThrillPots.Engine.HitRate.Probability(0.25m, 4, 0.1m), Is.EqualTo(p).Within(1e-15));
        Assert.That(Math.Abs(hits - Draws * p), Is.LessThanOrEqualTo(4 * Math.Sqrt(Draws * p * (1 - p))));
    }

    [Test]
    public void Every_MustDropByValue_drop_lies_in_seed_to_max_value_and_matches_its_commitment()
    {
        const decimal Seed = 10m, Max = 12m;
        var template = Template("EUR", 0m, Pot("drop", 1m, Seed, seedContribution: 0.5m, types: [ByValue(Max)]));
        var random = new DeterministicRandomSource(77);
        var pots = Start(template, random);
        var drops = new List<decimal>();

        while (drops.Count < 5_000)
        {
            var before = pots[0];
            var result = InstanceMath.ApplyContribution(template, pots, 0.01m * (1 + random.NextInt(30)), random);
            pots = result.Pots;
            if (result.Wins is not [var win])
                continue;

            var reveal = win.Reveals.Single();
            Assert.That(reveal.Verify(), Is.True);
            Assert.That(reveal.Commitment, Is.EqualTo(before.ValueDrop!.Commitment));
            var drop = decimal.Parse(reveal.Value, CultureInfo.InvariantCulture);
            Assert.That(drop, Is.GreaterThan(Seed).And.LessThanOrEqualTo(Max));
            Assert.That(drop, Is.EqualTo(Money.RoundDown(drop, "EUR")), "drawn at the minor unit");
            Assert.That(before.Value, Is.LessThan(drop), "the winning contribution is the one that reached the drop");
            Assert.That(win.ValueBeforeWin, Is.GreaterThanOrEqualTo(drop));
            Assert.That(win.Seed, Is.EqualTo(Seed));
            drops.Add(drop);
        }

        // Uniform over the 200 cents in (10, 12]: mean 11.005, variance (200² − 1)/12 cents².
        var mean = drops.Average();
        var sigma = Math.Sqrt((200.0 * 200 - 1) / 12) * 0.01 / Math.Sqrt(drops.Count);
        Assert.That((double)Math.Abs(mean - 11.005m), Is.LessThanOrEqualTo(4 * sigma));
        Assert.That(drops.Min(), Is.LessThan(10.05m));
        Assert.That(drops.Max(), Is.GreaterThan(11.95m));
    }
}
