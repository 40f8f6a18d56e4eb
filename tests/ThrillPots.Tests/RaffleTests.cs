using System.Text.Json;
using ThrillPots.Raffles;
using static ThrillPots.Tests.Templates;

namespace ThrillPots.Tests;

/// <summary>Raffle rules (design.md §4): periods, ticket accrual, the weighted draw, template validation.</summary>
public class RaffleTests
{
    static readonly long T0Ms = T0.ToUnixTimeMilliseconds();

    static RafflePeriod Seconds(long n) => RaffleMath.ParsePeriod(JsonDocument.Parse($$"""{"Seconds": {{n}}}""").RootElement, out _)!;

    [Test]
    public void Fixed_periods_tile_time_from_the_start_and_the_last_millisecond_belongs_to_its_period()
    {
        var period = Seconds(2);
        Assert.That(RaffleMath.PeriodAt(period, null, T0Ms, T0Ms + 1999), Is.EqualTo((T0Ms, T0Ms + 2000)));
        Assert.That(RaffleMath.PeriodAt(period, null, T0Ms, T0Ms + 2000), Is.EqualTo((T0Ms + 2000, T0Ms + 4000)));
        Assert.That(RaffleMath.PeriodAt(period, null, T0Ms, T0Ms - 1), Is.Null);

        var rng = new Random(9);
        for (var i = 0; i < 20_000; i++)
        {
            var length = rng.NextInt64(1, 10) * 1000 * (rng.Next(2) == 0 ? 1 : 60);
            var p = new RafflePeriod(length);
            var t = T0Ms + rng.NextInt64(1_000_000_000);
            var (start, end) = RaffleMath.PeriodAt(p, null, T0Ms, t)!.Value;
            Assert.That(start <= t && t < end && end - start == length && (start - T0Ms) % length == 0, $"{t} in [{start}, {end})");
            Assert.That(RaffleMath.PeriodAt(p, null, T0Ms, end - 1), Is.EqualTo((start, end)));
            Assert.That(RaffleMath.PeriodAt(p, null, T0Ms, end)!.Value.Start, Is.EqualTo(end), "the next period starts where this one ends");
        }
    }

    [Test]
    public void A_schedule_cuts_the_last_fixed_period_and_schedule_periods_are_its_windows()
    {
        var schedule = new Schedule(T0Ms + 500, T0Ms + 5500, null);
        Assert.That(RaffleMath.PeriodAt(Seconds(2), schedule, T0Ms, T0Ms + 4600), Is.EqualTo((T0Ms + 4500, T0Ms + 5500)));
        Assert.That(RaffleMath.PeriodAt(Seconds(2), schedule, T0Ms, T0Ms + 5500), Is.Null);
        Assert.That(RaffleMath.PeriodAt(new RafflePeriod((long?)null), schedule, T0Ms, T0Ms + 5499), Is.EqualTo((T0Ms + 500, T0Ms + 5500)));
    }

    [Test]
    public void Tickets_accrue_from_cost_and_the_remainder_is_kept()
    {
        var rng = new Random(77);
        for (var n = 0; n < 2000; n++)
        {
            var price = rng.Next(1, 500) / 100m;
            var account = new TicketAccount(0, 0m, 0m);
            var total = 0m;
            for (var i = rng.Next(1, 40); i > 0; i--)
            {
                var cost = rng.Next(0, 1000) / 100m;
                total += cost;
                account = RaffleMath.Accrue(account, cost, price);
                Assert.That(account.Tickets * price + account.AccumulatedCost, Is.EqualTo(total));
                Assert.That(account.AccumulatedCost, Is.GreaterThanOrEqualTo(0m).And.LessThan(price));
                Assert.That(account.TotalCost, Is.EqualTo(total));
            }
        }
        Assert.That(RaffleMath.Accrue(new TicketAccount(2, 0.4m, 3m), 0.7m, 0.5m), Is.EqualTo(new TicketAccount(4, 0.1m, 3.7m)));
    }

    [Test]
    public void Each_place_draws_by_tickets_among_those_not_drawn_yet()
    {
        var random = new DeterministicRandomSource(42);
        var holders = new List<(string, string, long)> { ("op:b", "p1", 1), ("op:b", "p2", 3), ("op:c", "p3", 6), ("op:c", "p0", 0) };
        var first = new Dictionary<string, int>();
        const int draws = 40_000;
        for (var i = 0; i < draws; i++)
        {
            var places = RaffleMath.Draw(holders, 100m, [0.5m, 0.3m, 0.2m, 0m], "EUR", random);
            Assert.That(places.Select(p => p.PlayerId).Distinct().Count(), Is.EqualTo(3), "a player wins at most once; p0 holds no ticket");
            Assert.That(places.Select(p => p.Prize), Is.EqualTo(new[] { 50m, 30m, 20m }));
            first[places[0].PlayerId] = first.GetValueOrDefault(places[0].PlayerId) + 1;
        }
        // First place by weight 1:3:6; four standard deviations of tolerance.
        Assert.That(first["p1"] / (double)draws, Is.EqualTo(0.1).Within(4 * Math.Sqrt(0.1 * 0.9 / draws)));
        Assert.That(first["p2"] / (double)draws, Is.EqualTo(0.3).Within(4 * Math.Sqrt(0.3 * 0.7 / draws)));
        Assert.That(first["p3"] / (double)draws, Is.EqualTo(0.6).Within(4 * Math.Sqrt(0.6 * 0.4 / draws)));
    }

    [Test]
    public void Prizes_are_rounded_down_and_places_without_a_holder_stay_empty()
    {
        var places = RaffleMath.Draw([("op:b", "only", 5)], 10.009m, [0.333m, 0.667m], "EUR", new DeterministicRandomSource(1));
        Assert.That(places, Is.EqualTo(new[] { new RafflePlace(1, "op:b", "only", 5, 3.33m) }));
        Assert.That(RaffleMath.Draw([], 10m, [1m], "EUR", new DeterministicRandomSource(1)), Is.Empty);
    }

    static TemplateDefinition Raffle(RaffleDefinition? raffle, string type = TemplateDefinition.RaffleType, params PotDefinition[] pots) =>
        Template("EUR", 0.2m, pots.Length > 0 ? pots : [Pot("pool", 0.8m, 0m, types: [])]) with { JackpotType = type, Raffle = raffle };

    static RaffleDefinition Definition(string period = """{"Minutes": 5}""", decimal price = 1m, string basis = "Contribution", decimal[]? prizes = null) =>
        new(price, basis, JsonDocument.Parse(period).RootElement, prizes ?? [0.5m, 0.3m, 0.2m]);

    [Test]
    public void Raffle_templates_are_checked()
    {
        Assert.That(TemplateRules.Check(Raffle(Definition())), Is.Empty);
        Assert.That(TemplateRules.Check(Raffle(Definition("\"Schedule\""))), Is.Empty);
        Assert.That(TemplateRules.Check(Raffle(null)).Select(e => e.Field), Is.EqualTo(new[] { "raffle" }));
        Assert.That(TemplateRules.Check(Raffle(Definition(), TemplateDefinition.Jackpot, Pot("p", 0.8m, 0m))).Select(e => e.Field),
            Is.EqualTo(new[] { "raffle" }));
        Assert.That(TemplateRules.Check(Raffle(Definition("""{"Fortnights": 1}""", 0m, "Bet", [0.5m, 1.2m]))).Select(e => e.Field),
            Is.EquivalentTo(new[] { "raffle.ticket_price", "raffle.ticket_basis", "raffle.period", "raffle.prizes[1]", "raffle.prizes" }));
        Assert.That(TemplateRules.Check(Raffle(Definition("""{"Seconds": 0}"""))).Select(e => e.Field), Is.EqualTo(new[] { "raffle.period" }));
        Assert.That(TemplateRules.Check(Raffle(Definition(), TemplateDefinition.RaffleType, Pot("a", 0.4m, 0m, types: []), Pot("b", 0.4m, 0m, types: [])))
            .Select(e => e.Field), Is.EqualTo(new[] { "pots" }));
        Assert.That(TemplateRules.Check(Raffle(Definition(), TemplateDefinition.RaffleType, Pot("a", 0.8m, 0m, types: [HitRate(5, 1m)])))
            .Select(e => e.Field), Is.EqualTo(new[] { "pots[0].pot_types" }));
    }

    [Test]
    public void A_raffle_pot_without_triggers_takes_contributions_and_never_wins_by_itself()
    {
        var template = Raffle(Definition());
        var pots = InstanceMath.Initialize(template, new DeterministicRandomSource(1), T0);
        var result = InstanceMath.ApplyContribution(template, pots, 10m, new DeterministicRandomSource(1), T0);
        Assert.That(result.Wins, Is.Empty);
        Assert.That(result.Pots[0].Value + result.Pots[0].ReseedFund, Is.EqualTo(8m));
    }
}
