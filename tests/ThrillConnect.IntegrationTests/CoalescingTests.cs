namespace ThrillConnect.IntegrationTests;

/// <summary>
/// Tickers are coalesced per instance (design.md §7): a burst of JackpotUpdated reaches a player connection as at most about
/// one frame a second per instance, the newest replacing older ones still waiting; wins and opt-ins are never coalesced.
/// </summary>
public class CoalescingTests
{
    static Bus Bus => Servers.Bus;
    const int Burst = 30;

    [Test]
    public async Task A_burst_of_updates_arrives_at_most_once_a_second_per_instance_ending_with_the_latest_values()
    {
        var p = await Servers.PlayerAsync("cna:a1");
        await using var ws = await Ws.PlayerAsync(p);
        await ws.SubscribeAsync("JackpotUpdate");
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());

        var started = Environment.TickCount64;
        for (var i = 1; i <= Burst; i++)
        {
            await Bus.PublishAsync(Events.Update(first, Servers.OrgA, ["cna:a1"], minor: i, major: 100 + i));
            await Bus.PublishAsync(Events.Update(second, Servers.OrgA, ["cna:a1"], minor: 1000 + i));
        }
        var last = await ws.NextAsync(f => f.Is("JackpotUpdate", first) && Minor(f) == Burst, "the first instance's latest values");
        var lastOfSecond = await ws.SeenAsync(f => f.Is("JackpotUpdate", second) && Minor(f) == 1000 + Burst, "the second instance's latest values",
            TimeSpan.FromSeconds(5));
        var elapsed = TimeSpan.FromMilliseconds(Math.Max(last.At, lastOfSecond.At) - started);
        await ws.BarrierAsync();

        foreach (var instance in new[] { first, second })
        {
            var frames = ws.Read.Where(f => f.Is("JackpotUpdate", instance)).ToList();
            // One at once, then at most one a second (the client sees them with some network jitter).
            Assert.That(frames, Has.Count.LessThanOrEqualTo((int)elapsed.TotalSeconds + 2), $"{instance}: {frames.Count} frames in {elapsed}");
            Assert.That(frames, Has.Count.LessThan(Burst / 2), "a burst is coalesced");
            for (var i = 1; i < frames.Count; i++)
                Assert.That(frames[i].At - frames[i - 1].At, Is.GreaterThanOrEqualTo(800), $"{instance}: frames {i - 1} and {i} closer than a second");
            Assert.That(frames[^1], Is.SameAs(instance == first ? last : lastOfSecond), "nothing older follows the latest values");
        }
        Assert.That(last.Data.GetProperty("pots")[1].GetProperty("current_value").GetDecimal(), Is.EqualTo(100m + Burst), "every pot of the latest update");
        Assert.That(last.Data.GetProperty("last_updated").GetInt64(), Is.GreaterThan(ws.Read.Where(f => f.Is("JackpotUpdate", first)).First().Data.GetProperty("last_updated").GetInt64()));
    }

    [Test]
    public async Task Wins_and_opt_ins_are_never_coalesced()
    {
        var p = await Servers.PlayerAsync("cna:a1");
        await using var ws = await Ws.PlayerAsync(p);
        await ws.SubscribeAsync("WinEvent", "OptInEvent");
        var instance = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"]));
        const int count = 10;
        for (var i = 0; i < count; i++)
        {
            await Bus.PublishAsync(Events.Win(instance, "cna:a1", p.Id, 1m + i));
            await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", p.Id, optedIn: i % 2 == 0));
        }
        var wins = await ws.CountAsync(f => f.Is("WinEvent", instance), count, "the wins");
        var optIns = await ws.CountAsync(f => f.Is("OptInEvent", instance), count, "the opt-ins");
        await ws.BarrierAsync();
        Assert.That(ws.Read.Count(f => f.Is("WinEvent", instance)), Is.EqualTo(count), "each win once");
        Assert.That(wins.Select(f => f.Data.GetProperty("win_amount").GetDecimal()), Is.EquivalentTo(Enumerable.Range(0, count).Select(i => 1m + i)));
        Assert.That(ws.Read.Count(f => f.Is("OptInEvent", instance)), Is.EqualTo(count), "each opt-in once");
        Assert.That(optIns.Count(f => f.Data.GetProperty("opted_in").GetBoolean()), Is.EqualTo(count / 2));
    }

    static decimal Minor(Frame f) => f.Data.GetProperty("pots")[0].GetProperty("current_value").GetDecimal();
}
