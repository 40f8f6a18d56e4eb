namespace ThrillConnect.IntegrationTests;

/// <summary>SubscribeRequest (spec §2.5, README): nothing before it, only what it names, additive, a snapshot of the tickers.</summary>
public class SubscriptionTests
{
    static Bus Bus => Servers.Bus;

    [Test]
    public async Task Nothing_is_pushed_before_a_subscription_then_a_snapshot_of_the_latest_values_at_once()
    {
        var p = await Servers.PlayerAsync("cna:a1");
        await using var quiet = await Ws.PlayerAsync(p);
        await using var witness = await Ws.PlayerAsync(p);
        await witness.SubscribeAsync("*");
        var instance = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"], minor: 11m));
        await Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"], minor: 12m));
        await Bus.PublishAsync(Events.Win(instance, "cna:a1", p.Id, 5m));
        await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", p.Id));
        await witness.NextAsync(f => f.Is("JackpotUpdate", instance) && f.Data.GetProperty("pots")[0].GetProperty("current_value").GetDecimal() == 12m,
            "the latest update on the subscribed socket");
        await witness.SeenAsync(f => f.Is("WinEvent", instance), "the win on the subscribed socket");
        await witness.SeenAsync(f => f.Is("OptInEvent", instance), "the opt-in on the subscribed socket");

        var before = await quiet.BarrierAsync();
        Assert.That(before.Where(f => f.Type == "Event").Select(f => f.ToString()), Is.Empty, "no event before a SubscribeRequest");

        await quiet.SendJsonAsync(new { SubscribeRequest = new { events = new[] { new { source = "thrillpots", event_type = "JackpotUpdate" } } } });
        var snapshot = await quiet.SeenAsync(f => f.Is("JackpotUpdate", instance), "the instance in the snapshot");
        Assert.That(snapshot.Data.GetProperty("pots")[0].GetProperty("current_value").GetDecimal(), Is.EqualTo(12m), "the latest values");
        await quiet.AssertNeverAsync(f => f.Name is "WinEvent" or "OptInEvent", "past wins and opt-ins are not replayed");
    }

    [Test]
    public async Task The_snapshot_holds_only_instances_the_connection_may_see()
    {
        var a1 = await Servers.PlayerAsync("cna:a1");
        var mine = Guid.NewGuid();
        var notMine = Guid.NewGuid();
        await using (var witness = await Ws.ServiceAsync(Servers.OperatorA))
        {
            await witness.SubscribeAsync("JackpotUpdate");
            await Bus.PublishAsync(Events.Update(notMine, Servers.OrgA, ["cna:a2"]));
            await Bus.PublishAsync(Events.Update(mine, Servers.OrgA, ["cna:a1"]));
            await witness.SeenAsync(f => f.Is("JackpotUpdate", notMine), "the a2-only update");
            await witness.SeenAsync(f => f.Is("JackpotUpdate", mine), "the a1 update");
        }
        await using var ws = await Ws.PlayerAsync(a1);
        await ws.SendJsonAsync(new { SubscribeRequest = new { events = new[] { new { source = "thrillpots", event_type = "*" } } } });
        await ws.SeenAsync(f => f.Is("JackpotUpdate", mine), "the a1 instance in the snapshot");
        await ws.AssertNeverAsync(f => f.InstanceId == notMine, "the a2-only instance is not in a1's snapshot");
    }

    [Test]
    public async Task Only_the_subscribed_event_types_arrive()
    {
        var p = await Servers.PlayerAsync("cna:a1");
        await using var wins = await Ws.PlayerAsync(p);
        await using var optIns = await Ws.PlayerAsync(p);
        await wins.SubscribeAsync("WinEvent");
        await optIns.SubscribeAsync("OptInEvent");
        var instance = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"]));
        await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", p.Id));
        await optIns.NextAsync(f => f.Is("OptInEvent", instance), "the opt-in");
        await Bus.PublishAsync(Events.Win(instance, "cna:a1", p.Id, 5m));
        await wins.NextAsync(f => f.Is("WinEvent", instance), "the win");

        await wins.AssertNeverAsync(f => f.Type == "Event" && f.Name != "WinEvent", "a WinEvent subscription gets wins only");
        await optIns.AssertNeverAsync(f => f.Type == "Event" && f.Name != "OptInEvent", "an OptInEvent subscription gets opt-ins only");
    }

    [Test]
    public async Task A_star_subscription_gets_every_thrillpots_event()
    {
        var p = await Servers.PlayerAsync("cna:a1");
        await using var ws = await Ws.PlayerAsync(p);
        await ws.SubscribeAsync("*");
        var instance = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"]));
        await ws.NextAsync(f => f.Is("JackpotUpdate", instance), "the update");
        await Bus.PublishAsync(Events.Win(instance, "cna:a1", p.Id, 5m));
        await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", p.Id));
        await ws.SeenAsync(f => f.Is("WinEvent", instance), "the win");
        await ws.SeenAsync(f => f.Is("OptInEvent", instance), "the opt-in");
    }

    [Test]
    public async Task Subscriptions_add_up()
    {
        var p = await Servers.PlayerAsync("cna:a1");
        await using var ws = await Ws.PlayerAsync(p);
        await ws.SubscribeAsync("WinEvent");
        await ws.SubscribeAsync("OptInEvent");
        var instance = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"]));
        await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", p.Id));
        await ws.NextAsync(f => f.Is("OptInEvent", instance), "the opt-in (the second subscription)");
        await Bus.PublishAsync(Events.Win(instance, "cna:a1", p.Id, 5m));
        await ws.NextAsync(f => f.Is("WinEvent", instance), "the win (the first subscription still holds)");
        await ws.AssertNeverAsync(f => f.Name == "JackpotUpdate", "no tickers until they are subscribed");

        await ws.SubscribeAsync("JackpotUpdate");
        // The snapshot may come before the subscription's barrier answer: among the frames read so far.
        await ws.SeenAsync(f => f.Is("JackpotUpdate", instance), "the instance's snapshot once tickers are subscribed");
    }

    [TestCase("""{"SubscribeRequest": {"events": [{"source": "thrillpots", "event_type": "RaffleWon"}]}}""")]
    [TestCase("""{"SubscribeRequest": {"events": [{"source": "thrillgate", "event_type": "JackpotUpdate"}]}}""")]
    [TestCase("""{"SubscribeRequest": {"events": [{"source": "thrilldrops", "event_type": "*"}]}}""")]
    [TestCase("""{"SubscribeRequest": {"events": [{"source": "thrillpots"}]}}""")]
    [TestCase("""{"SubscribeRequest": {"events": []}}""")]
    [TestCase("""{"SubscribeRequest": {"events": "JackpotUpdate"}}""")]
    [TestCase("""{"SubscribeRequest": {}}""")]
    [TestCase("""{"SubscribeRequest": "JackpotUpdate"}""")]
    public async Task An_invalid_subscription_is_an_error_and_subscribes_nothing(string message)
    {
        var p = await Servers.PlayerAsync("cna:a1");
        await using var ws = await Ws.PlayerAsync(p);
        await ws.SendAsync(message);
        var error = await ws.NextAsync(f => f.Type == "Error", "the error");
        Assert.That(error.Name, Is.EqualTo("SubscribeRequest"));
        Assert.That(error.Data.GetProperty("code").GetString(), Is.EqualTo("invalid_request"));
        var instance = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"]));
        await ws.SubscribeAsync("OptInEvent");
        await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", p.Id));
        await ws.NextAsync(f => f.Is("OptInEvent", instance), "the opt-in of a valid subscription after it");
        await ws.AssertNeverAsync(f => f.Name == "JackpotUpdate", "the invalid subscription subscribed nothing");
    }
}
