using ThrillPots.Templates;
using static ThrillPots.Tests.Templates;

namespace ThrillPots.Tests;

/// <summary>Community payouts (issue 8): template rules, choosing winners, splitting the money.</summary>
public class CommunityTests
{
    static readonly DateTime T = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    static CommunityCandidate C(string player, decimal amount, int minutes = 0, long order = 0, string brand = "op:b") =>
        new(brand, player, amount, T.AddMinutes(minutes), order);

    static CommunityStrategy Active(decimal? share, decimal? winners, decimal? hours) => new(new ActivePlayersStrategy(share, winners, hours), null, null);
    static CommunityStrategy PerWin(decimal? share, decimal? winners) => new(null, new RankedStrategy(share, winners), null);
    static CommunityStrategy Lifetime(decimal? share, decimal? winners) => new(null, null, new RankedStrategy(share, winners));

    static TemplateDefinition WithCommunity(CommunityPayout community) =>
        Template("EUR", 0.3m, Pot("a", 0.7m, 10m) with { Community = community });

    /// <summary>A source that answers a fixed sequence (each value reduced into range), to know exactly who is drawn.</summary>
    sealed class Sequence(params int[] values) : IRandomSource
    {
        int next;
        public int NextInt(int maxExclusive) => values[next++ % values.Length] % maxExclusive;
        public long NextInt64(long maxExclusive) => NextInt((int)maxExclusive);
        public void NextBytes(Span<byte> buffer) => buffer.Clear();
    }

    [Test]
    public void The_spec_example_is_valid() =>
        Assert.That(TemplateRules.Check(WithCommunity(new CommunityPayout(0.5m, [Active(0.2m, 3, 24), PerWin(0.2m, 2), Lifetime(0.1m, 1)]))), Is.Empty);

    [Test]
    public void Every_broken_community_rule_is_named_by_its_field()
    {
        var fields = TemplateRules.Check(WithCommunity(new CommunityPayout(1.5m,
        [
            Active(0m, 1.5m, 0m),
            PerWin(null, 0),
            new CommunityStrategy(null, null, null),
            PerWin(0.1m, 1),
            Lifetime(1.2m, 2),
        ]))).Select(e => e.Field).ToList();
        Assert.That(fields, Is.EquivalentTo(new[]
        {
            "pots[0].community.share",
            "pots[0].community.strategies[0].ActivePlayers.share",
            "pots[0].community.strategies[0].ActivePlayers.winners",
            "pots[0].community.strategies[0].ActivePlayers.window_hours",
            "pots[0].community.strategies[1].HighestContributionPerWin.share",
            "pots[0].community.strategies[1].HighestContributionPerWin.winners",
            "pots[0].community.strategies[2]",
            "pots[0].community.strategies[3]",
            "pots[0].community.strategies[4].HighestLifetimeContributor.share",
        }));
        Assert.That(TemplateRules.Check(WithCommunity(new CommunityPayout(null, null))).Select(e => e.Field),
            Is.EquivalentTo(new[] { "pots[0].community.share", "pots[0].community.strategies" }));
    }

    [Test]
    public void Strategy_shares_must_add_up_to_the_community_share()
    {
        var error = TemplateRules.Check(WithCommunity(new CommunityPayout(0.5m, [PerWin(0.2m, 1), Lifetime(0.2m, 1)]))).Single();
        Assert.That(error.Field, Is.EqualTo("pots[0].community.strategies"));
        Assert.That(error.Message, Does.Contain("0.4").And.Contain("0.5"));
        Assert.That(TemplateRules.Check(WithCommunity(new CommunityPayout(0.5m, [PerWin(0.2m, 1), Lifetime(0.3m + 0.0000000001m, 1)]))), Is.Empty);
    }

    [Test]
    public void Top_ranks_by_amount_and_breaks_ties_by_the_earliest_contribution()
    {
        var top = CommunityPayouts.Top([C("late", 5m, minutes: 9), C("small", 1m), C("early", 5m, minutes: 1), C("big", 7m, minutes: 5),
            C("same-time-second", 5m, minutes: 9, order: 2), C("nothing", 0m)], 4);
        Assert.That(top.Select(c => c.PlayerId), Is.EqualTo(new[] { "big", "early", "late", "same-time-second" }));
    }

    [Test]
    public void Fewer_candidates_than_winners_gives_every_candidate()
    {
        Assert.That(CommunityPayouts.Top([C("a", 1m), C("b", 2m)], 5).Select(c => c.PlayerId), Is.EqualTo(new[] { "b", "a" }));
        Assert.That(CommunityPayouts.Random([C("a", 1m), C("b", 1m)], 5, new Sequence(1, 0)).Select(c => c.PlayerId),
            Is.EquivalentTo(new[] { "a", "b" }));
        Assert.That(CommunityPayouts.Top([], 3), Is.Empty);
    }

    [Test]
    public void Random_draws_distinct_players_from_the_candidates_in_tie_break_order()
    {
        var candidates = new[] { C("d", 1m, minutes: 4), C("a", 1m, minutes: 1), C("c", 1m, minutes: 3), C("b", 1m, minutes: 2) };
        // Ordered a, b, c, d; swap 0↔2 (c), then 1↔1+2=3 (d).
        var drawn = CommunityPayouts.Random(candidates, 2, new Sequence(2, 2));
        Assert.That(drawn.Select(c => c.PlayerId), Is.EqualTo(new[] { "c", "d" }));
        var many = Enumerable.Range(0, 200).Select(i => CommunityPayouts.Random(candidates, 3, new DeterministicRandomSource((ulong)i)))
            .ToList();
        Assert.That(many.All(d => d.Select(c => c.PlayerId).Distinct().Count() == 3), Is.True);
        Assert.That(many.SelectMany(d => d).Select(c => c.PlayerId).Distinct().Count(), Is.EqualTo(4), "every candidate can be drawn");
    }

    [Test]
    public void Each_strategy_splits_its_rounded_amount_equally_and_the_rest_goes_to_the_trigger()
    {
        // 100.00 × 0.2 = 20.00 over 3 = 6.66 each (0.02 left); × 0.2 = 20.00 over 2 = 10.00; × 0.1 = 10.00 to 1.
        var split = CommunityPayouts.Split(100m, "EUR",
        [
            new CommunityDraw("ActivePlayers", 0.2m, [C("a", 1m), C("b", 1m), C("c", 1m)]),
            new CommunityDraw("HighestContributionPerWin", 0.2m, [C("d", 3m), C("a", 2m)]),
            new CommunityDraw("HighestLifetimeContributor", 0.1m, [C("e", 9m)]),
        ]);
        Assert.That(split.Shares.Select(s => (s.Strategy, s.Rank, s.PlayerId, s.Amount)), Is.EqualTo(new[]
        {
            ("ActivePlayers", 1, "a", 6.66m), ("ActivePlayers", 2, "b", 6.66m), ("ActivePlayers", 3, "c", 6.66m),
            ("HighestContributionPerWin", 1, "d", 10m), ("HighestContributionPerWin", 2, "a", 10m),
            ("HighestLifetimeContributor", 1, "e", 10m),
        }));
        Assert.That(split.ToTrigger, Is.EqualTo(50.02m));
        Assert.That(split.Paid + split.ToTrigger, Is.EqualTo(100m));
    }

    [Test]
    public void Rounding_is_down_to_the_minor_unit_of_the_jackpot_currency()
    {
        // 10.01 × 0.33 = 3.3033 → 3.30 over 4 = 0.825 → 0.82 each; in JPY 1001 × 0.33 = 330.33 → 330 over 4 = 82.5 → 82.
        var eur = CommunityPayouts.Split(10.01m, "EUR", [new CommunityDraw("HighestLifetimeContributor", 0.33m, [C("a", 1), C("b", 1), C("c", 1), C("d", 1)])]);
        Assert.That(eur.Shares.Select(s => s.Amount), Is.All.EqualTo(0.82m));
        Assert.That(eur.ToTrigger, Is.EqualTo(10.01m - 3.28m));
        var jpy = CommunityPayouts.Split(1001m, "JPY", [new CommunityDraw("HighestLifetimeContributor", 0.33m, [C("a", 1), C("b", 1), C("c", 1), C("d", 1)])]);
        Assert.That(jpy.Shares.Select(s => s.Amount), Is.All.EqualTo(82m));
        Assert.That(jpy.ToTrigger, Is.EqualTo(673m));
    }

    [Test]
    public void A_strategy_without_candidates_or_with_shares_below_a_cent_leaves_its_money_to_the_trigger()
    {
        var split = CommunityPayouts.Split(0.05m, "EUR",
        [
            new CommunityDraw("ActivePlayers", 0.5m, []),
            new CommunityDraw("HighestLifetimeContributor", 0.5m, [C("a", 1), C("b", 1), C("c", 1)]),
        ]);
        // 0.025 → 0.02 over 3 = 0.006 → 0.00: nobody is credited nothing.
        Assert.That(split.Shares, Is.Empty);
        Assert.That(split.ToTrigger, Is.EqualTo(0.05m));
    }

    [Test]
    public void The_whole_payout_can_go_to_the_community()
    {
        var split = CommunityPayouts.Split(9m, "EUR", [new CommunityDraw("HighestLifetimeContributor", 1m, [C("a", 1), C("b", 1), C("c", 1)])]);
        Assert.That(split.Shares.Select(s => s.Amount), Is.All.EqualTo(3m));
        Assert.That(split.ToTrigger, Is.Zero);
    }
}
