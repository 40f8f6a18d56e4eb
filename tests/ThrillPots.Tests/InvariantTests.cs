using static ThrillPots.Tests.Templates;

namespace ThrillPots.Tests;

public class InvariantTests
{
    static readonly MultiplierSet Rates = new("EUR", new Dictionary<string, decimal>
    {
        ["EUR"] = 1m, ["GBP"] = 0.8537m, ["USD"] = 1.0762m, ["JPY"] = 161.37m, ["BTC"] = 0.0000109m,
    });

    [Test]
    public void Pot_value_plus_reseed_fund_equals_the_ledger_exactly_after_a_long_random_sequence()
    {
        var template = Template("EUR", 0.2m,
            Pot("minor", 0.25m, 10m, types: [HitRate(50, 0.1m)]),
            Pot("major", 0.2m, 100m, minReseed: 80m, maxPotValue: 400m, types: [HitRate(2_000, 0.1m)]),
            Pot("value", 0.15m, 50m, seedContribution: 0.6m, types: [ByValue(75m)]),
            Pot("daily", 0.1m, 20m, types: [ByTime(daily: "18:30", window: 7200), HitRate(100_000, 1m)]),
            Pot("fixed", 0.1m, 25m, progressive: false, types: [HitRate(500, 0.1m)]));
        Assert.That(TemplateRules.Check(template), Is.Empty);

        var random = new DeterministicRandomSource(314159);
        var pots = Start(template, random);
        var ledger = new Ledger(pots);
        string[] currencies = ["EUR", "GBP", "USD", "JPY", "BTC"];
        var now = T0;

        for (var i = 0; i < 200_000; i++)
        {
            now = now.AddSeconds(1 + random.NextInt(30));
            var due = InstanceMath.ExpireDeadlines(template, pots, now, random);
            ledger.Record(due);
            pots = due.Pots;

            if (random.NextInt(5_000) == 0)
            {
                var boost = 1m + random.NextInt(1_000) / 100m;
                pots = InstanceMath.AddBoost(pots, "major", boost);
                ledger.RecordBoost("major", boost);
            }

            var currency = currencies[random.NextInt(currencies.Length)];
            var amount = Money.RoundDown((1 + random.NextInt(500)) * 0.01m * Rates.MultiplierOf(currency), currency);
            var result = InstanceMath.ApplyContribution(template, pots, Rates.Convert(amount, currency, "EUR"), random, now, $"c{i}");
            ledger.Record(result);
            pots = result.Pots;

            if (i % 10_000 == 0)
                Assert.That(ledger.Reconcile(pots).Select(r => r.Difference), Has.All.EqualTo(0m), $"after contribution {i}");
        }

        var reconciliation = ledger.Reconcile(pots);
        foreach (var r in reconciliation)
            TestContext.Out.WriteLine($"{r.PotId}: expected {r.Expected} actual {r.Actual} difference {r.Difference}; {ledger[r.PotId]}");
        Assert.That(reconciliation.Select(r => r.Difference), Has.All.EqualTo(0m));
        Assert.That(reconciliation.Select(r => r.PotId), Is.EquivalentTo(new[] { "minor", "major", "value", "daily", "fixed" }));
        Assert.That(ledger.SplitsBalance, Is.True);
        Assert.That(ledger.Pots.Select(p => p.Wins), Has.All.GreaterThan(0m), "every pot was won at least once");
        Assert.That(ledger.Pots.Sum(p => p.SeedDeficits), Is.GreaterThan(0m), "some reseeds ran short");
        Assert.That(ledger["major"].Boosts, Is.GreaterThan(0m));
    }

    [Test]
    public void Reconciliation_reports_a_pot_that_moved_outside_the_ledger()
    {
        var template = QuickHit();
        var pots = Start(template);
        var ledger = new Ledger(pots);
        var result = InstanceMath.ApplyContribution(template, pots, 0.1m, new DeterministicRandomSource(2));
        ledger.Record(result);
        var tampered = result.Pots.Select(p => p.PotId == "major" ? p with { Value = p.Value + 0.000000000001m } : p).ToList();

        var report = ledger.Reconcile(tampered);
        Assert.That(report.Where(r => !r.Balanced).Select(r => (r.PotId, r.Difference)), Is.EqualTo(new[] { ("major", 0.000000000001m) }));
    }
}
