using static ThrillPots.Tests.Templates;

namespace ThrillPots.Tests;

public class WinTests
{
    static readonly PotType Always = HitRate(1, 0.1m);

    [Test]
    public void A_win_pays_the_value_rounded_down_reseeds_from_the_fund_and_reports_the_deficit()
    {
        var template = Template("EUR", 1m, Pot("minor", 0m, 10m, types: [Always]));
        var pots = new[] { new PotState("minor", 25.678m, 3m) };

        var result = InstanceMath.ApplyContribution(template, pots, 0.1m, new DeterministicRandomSource(1), contributionId: "c1");

        var win = result.Wins.Single();
        Assert.That(win with { Reveals = [] }, Is.EqualTo(new PotWin("minor", WinTrigger.HitRate, ValueBeforeWin: 25.678m,
            WinAmount: 25.67m, Remainder: 0.008m, Seed: 10m, SeedDeficit: 6.992m, FromReseedFund: 3m, FromBoosts: 0m, [], "c1")));
        Assert.That(result.Pots[0], Is.EqualTo(new PotState("minor", 10m, 0m)));
    }

    [Test]
    public void A_full_reseed_fund_leaves_no_deficit_and_keeps_what_it_does_not_need()
    {
        var template = Template("JPY", 1m, Pot("minor", 0m, 1000m, types: [HitRate(1, 1m)]));
        var pots = new[] { new PotState("minor", 5432.75m, 1200m) { Boosts = 50m } };

        var win = InstanceMath.ApplyContribution(template, pots, 1m, new DeterministicRandomSource(1)).Wins.Single();
        Assert.That((win.WinAmount, win.Remainder, win.FromReseedFund, win.FromBoosts, win.SeedDeficit, win.Seed),
            Is.EqualTo((5432m, 0.75m, 999.25m, 0m, 0m, 1000m)));
    }

    [Test]
    public void Boosts_cover_what_the_reseed_fund_cannot()
    {
        var template = Template("KWD", 1m, Pot("top", 0m, 100m, types: [Always]));
        var pots = new[] { new PotState("top", 250.12345m, 60m) { Boosts = 30m } };

        var result = InstanceMath.ApplyContribution(template, pots, 0.1m, new DeterministicRandomSource(1));
        var win = result.Wins.Single();
        Assert.That((win.WinAmount, win.Remainder, win.FromReseedFund, win.FromBoosts, win.SeedDeficit, win.Seed),
            Is.EqualTo((250.123m, 0.00045m, 60m, 30m, 9.99955m, 100m)));
        Assert.That(result.Pots[0], Is.EqualTo(new PotState("top", 100m, 0m) { Boosts = 0m }));
    }

    [Test]
    public void Highest_awards_only_the_pot_with_the_highest_value_when_several_hit()
    {
        var template = Template("EUR", 1m,
            Pot("a", 0m, 10m, types: [Always]), Pot("b", 0m, 10m, types: [Always]), Pot("c", 0m, 10m, types: [Never]));
        var pots = new[] { new PotState("a", 50m, 10m), new PotState("b", 80m, 10m), new PotState("c", 999m, 10m) };

        var result = InstanceMath.ApplyContribution(template, pots, 0.1m, new DeterministicRandomSource(1));

        Assert.That(result.Hits, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(result.Wins.Select(w => (w.PotId, w.WinAmount)), Is.EqualTo(new[] { ("b", 80m) }));
        Assert.That(result.Pots.Select(p => p.Value), Is.EqualTo(new[] { 50m, 10m, 999m }));
    }

    [Test]
    public void Highest_breaks_a_tie_by_template_order()
    {
        var template = Template("EUR", 1m, Pot("a", 0m, 10m, types: [Always]), Pot("b", 0m, 10m, types: [Always]));
        var pots = new[] { new PotState("a", 80m, 10m), new PotState("b", 80m, 10m) };
        Assert.That(InstanceMath.ApplyContribution(template, pots, 0.1m, new DeterministicRandomSource(1)).Wins.Single().PotId, Is.EqualTo("a"));
    }

    [Test]
    public void MustDropByValue_is_won_by_the_contribution_that_takes_the_pot_to_the_drop_value()
    {
        var template = Template("EUR", 0m, Pot("drop", 1m, 10m, seedContribution: 0m, types: [ByValue(10.50m)]));
        var pots = Start(template, new DeterministicRandomSource(3));
        var drop = pots[0].ValueDrop!;
        Assert.That(drop.DropValue, Is.GreaterThan(10m).And.LessThanOrEqualTo(10.50m));

        var steps = 0;
        ContributionResult result;
        do
        {
            var before = pots[0].Value;
            result = InstanceMath.ApplyContribution(template, pots, 0.01m, new DeterministicRandomSource(4));
            Assert.That(result.Wins.Count == 1, Is.EqualTo(before + 0.01m >= drop.DropValue), $"at {before}");
            pots = result.Pots;
        } while (result.Wins.Count == 0 && ++steps < 100);

        var win = result.Wins.Single();
        Assert.That(win.Trigger, Is.EqualTo(WinTrigger.MustDropByValue));
        Assert.That(win.ValueBeforeWin, Is.EqualTo(drop.DropValue));
        Assert.That(win.Reveals.Single(), Is.EqualTo(drop.Reveal()));
        Assert.That(win.Reveals.Single().Verify(), Is.True);
        Assert.That(result.Pots[0].ValueDrop!.Commitment, Is.Not.EqualTo(drop.Commitment));
    }

    [Test]
    public void A_MustDropByValue_pot_passed_over_by_Highest_wins_on_a_later_contribution()
    {
        var template = Template("EUR", 0m, Pot("big", 0m, 10m, types: [HitRate(1, 0.01m)]), Pot("drop", 1m, 10m, seedContribution: 0m, types: [ByValue(10.01m)]));
        var pots = new[] { new PotState("big", 500m, 10m), Start(template)[1] };

        var first = InstanceMath.ApplyContribution(template, pots, 0.01m, new DeterministicRandomSource(1));
        Assert.That(first.Hits, Is.EqualTo(new[] { "big", "drop" }));
        Assert.That(first.Wins.Single().PotId, Is.EqualTo("big"));

        var second = InstanceMath.ApplyContribution(template, first.Pots, 0m, new DeterministicRandomSource(1));
        Assert.That(second.Wins.Single().PotId, Is.EqualTo("drop"));
    }

    [Test]
    public void A_revealed_drop_verifies_and_any_tampering_fails()
    {
        var drop = DropCommitments.CommitValue(1234.56m, new DeterministicRandomSource(9));
        var reveal = drop.Reveal();
        Assert.That(reveal.Value, Is.EqualTo("1234.56"));
        Assert.That(reveal.Verify(), Is.True);
        Assert.That(DropCommitments.Verify(drop.Commitment, DropKind.MustDropByValue, "1234.56", drop.Salt), Is.True);
        Assert.That((reveal with { Value = "1234.57" }).Verify(), Is.False);
        Assert.That((reveal with { Value = "1234.560" }).Verify(), Is.False);
        Assert.That((reveal with { Salt = "00" + reveal.Salt[2..] }).Verify(), Is.False);
        Assert.That((reveal with { Kind = DropKind.MustDropByTime }).Verify(), Is.False);
        Assert.That((reveal with { Commitment = new string('0', 64) }).Verify(), Is.False);
        // The documented preimage, computed independently of DropCommitments.
        var digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"MustDropByValue:1234.56:{drop.Salt}"));
        Assert.That(drop.Commitment, Is.EqualTo(Convert.ToHexStringLower(digest)));
    }

    static readonly DateTimeOffset Ten = T0.AddHours(22);

    [Test]
    public void MustDropByTime_is_won_by_the_first_contribution_at_or_after_the_drop_time()
    {
        var template = Template("EUR", 0.5m, Pot("daily", 0.5m, 10m, types: [ByTime(daily: "22:00", window: 3600)]));
        var pots = Start(template);
        var drop = pots[0].TimeDrop!;
        Assert.That(drop.DeadlineMs, Is.EqualTo(Ten.ToUnixTimeMilliseconds()));
        Assert.That(drop.DropAtMs, Is.InRange(Ten.AddHours(-1).ToUnixTimeMilliseconds(), Ten.ToUnixTimeMilliseconds() - 1));
        var dropAt = DateTimeOffset.FromUnixTimeMilliseconds(drop.DropAtMs!.Value);

        var early = InstanceMath.ApplyContribution(template, pots, 1m, new DeterministicRandomSource(1), dropAt.AddMilliseconds(-1), "early");
        Assert.That(early.Wins, Is.Empty);
        Assert.That(early.Pots[0].LastEligibleContributionId, Is.EqualTo("early"));

        var onTime = InstanceMath.ApplyContribution(template, early.Pots, 1m, new DeterministicRandomSource(1), dropAt, "on-time");
        var win = onTime.Wins.Single();
        Assert.That((win.Trigger, win.ContributionId), Is.EqualTo((WinTrigger.MustDropByTime, "on-time")));
        Assert.That(win.Reveals.Single().Verify(), Is.True);
        Assert.That(long.Parse(win.Reveals.Single().Value), Is.EqualTo(drop.DropAtMs));
        // Won in today's cycle: the next cycle ends at tomorrow's deadline, and nobody is eligible yet.
        Assert.That(onTime.Pots[0].TimeDrop!.DeadlineMs, Is.EqualTo(Ten.AddDays(1).ToUnixTimeMilliseconds()));
        Assert.That(onTime.Pots[0].LastEligibleContributionId, Is.Null);
    }

    [Test]
    public void At_the_deadline_the_last_eligible_contributor_wins_when_nobody_reached_the_drop_time()
    {
        var template = Template("EUR", 0.5m, Pot("daily", 0.5m, 10m, seedContribution: 0m, types: [ByTime(daily: "22:00", window: 3600)]));
        var pots = Start(template);
        pots = InstanceMath.ApplyContribution(template, pots, 1m, new DeterministicRandomSource(1), T0.AddHours(19), "first").Pots;
        pots = InstanceMath.ApplyContribution(template, pots, 1m, new DeterministicRandomSource(1), T0.AddHours(20), "last").Pots;

        var notYet = InstanceMath.ExpireDeadlines(template, pots, Ten.AddMilliseconds(-1), new DeterministicRandomSource(1));
        Assert.That(notYet.Wins, Is.Empty);
        Assert.That(notYet.Pots, Is.EqualTo(pots));

        // A contribution at the deadline is not eligible any more.
        pots = InstanceMath.ApplyContribution(template, pots, 1m, new DeterministicRandomSource(1), Ten, "too-late").Pots;
        var due = InstanceMath.ExpireDeadlines(template, pots, Ten, new DeterministicRandomSource(1));
        var win = due.Wins.Single();
        Assert.That((win.Trigger, win.ContributionId, win.WinAmount), Is.EqualTo((WinTrigger.DeadlineFallback, "last", 11.5m)));
        Assert.That(long.Parse(win.Reveals.Single().Value), Is.GreaterThan(T0.AddHours(20).ToUnixTimeMilliseconds()));
        Assert.That(due.Pots[0].TimeDrop!.DeadlineMs, Is.EqualTo(Ten.AddDays(1).ToUnixTimeMilliseconds()));
    }

    [Test]
    public void A_deadline_without_contributions_starts_the_next_cycle_and_a_one_off_deadline_ends()
    {
        var daily = Template("EUR", 0.5m, Pot("daily", 0.5m, 10m, types: [ByTime(daily: "22:00")]));
        var due = InstanceMath.ExpireDeadlines(daily, Start(daily), Ten.AddMinutes(5), new DeterministicRandomSource(1));
        Assert.That(due.Wins, Is.Empty);
        Assert.That(due.Pots[0].TimeDrop!.DeadlineMs, Is.EqualTo(Ten.AddDays(1).ToUnixTimeMilliseconds()));

        var once = Template("EUR", 0.5m, Pot("once", 0.5m, 10m, types: [ByTime(deadline: Ten.ToUnixTimeMilliseconds())]));
        var pots = InstanceMath.ApplyContribution(once, Start(once), 1m, new DeterministicRandomSource(1), T0.AddHours(1), "only").Pots;
        var ended = InstanceMath.ExpireDeadlines(once, pots, Ten, new DeterministicRandomSource(1));
        Assert.That(ended.Wins.Single().ContributionId, Is.EqualTo("only"));
        Assert.That(ended.Pots[0].TimeDrop, Is.Null);
    }

    [Test]
    public void A_time_trigger_needs_the_contributions_time() =>
        Assert.That(() => InstanceMath.ApplyContribution(Template("EUR", 0.5m, Pot("daily", 0.5m, 10m, types: [ByTime(daily: "22:00")])),
            Start(Template("EUR", 0.5m, Pot("daily", 0.5m, 10m, types: [ByTime(daily: "22:00")]))), 1m, new DeterministicRandomSource(1)),
            Throws.ArgumentException);
}
