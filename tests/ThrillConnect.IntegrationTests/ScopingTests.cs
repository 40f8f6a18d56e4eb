namespace ThrillConnect.IntegrationTests;

/// <summary>
/// Who receives what (README "What each connection receives"): a player gets the public events of the instances that allow
/// its brand and its own opt-ins; a service connection gets what its account may read. Each "never" is proven by a later
/// event that must arrive on the same connection, then a barrier: whatever was queued before it has been read.
/// </summary>
public class ScopingTests
{
    static Bus Bus => Servers.Bus;

    [Test]
    public async Task A_player_gets_updates_of_instances_allowing_its_brand_and_never_another_brands()
    {
        var (a1, a2) = (await Servers.PlayerAsync("cna:a1"), await Servers.PlayerAsync("cna:a2"));
        await using var wsA1 = await Ws.PlayerAsync(a1);
        await using var wsA2 = await Ws.PlayerAsync(a2);
        await wsA1.SubscribeAsync("JackpotUpdate");
        await wsA2.SubscribeAsync("JackpotUpdate");

        var onlyA2 = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(onlyA2, Servers.OrgA, ["cna:a2"]));
        await wsA2.NextAsync(f => f.Is("JackpotUpdate", onlyA2), "the a2-only update on a2's socket");
        var shared = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(shared, Servers.OrgA, ["cna:a1", "cna:a2"]));
        await wsA1.NextAsync(f => f.Is("JackpotUpdate", shared), "the shared update on a1's socket");
        await wsA2.NextAsync(f => f.Is("JackpotUpdate", shared), "the shared update on a2's socket");

        await wsA1.AssertNeverAsync(f => f.InstanceId == onlyA2, "a1's player never sees an instance that allows only a2");
    }

    [Test]
    public async Task Another_operators_brand_of_the_same_name_is_another_brand()
    {
        // cnb has no brand a1, but an instance of cnb allowing "cnb:a1" must not reach cna:a1's players: brands are operator:brand.
        var a1 = await Servers.PlayerAsync("cna:a1");
        await using var ws = await Ws.PlayerAsync(a1);
        await ws.SubscribeAsync("*");
        var foreign = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(foreign, Servers.OrgB, ["cnb:a1"]));
        await Bus.PublishAsync(Events.Win(foreign, "cnb:a1", a1.Id, 5m));
        await Bus.PublishAsync(Events.OptIn(foreign, "cnb:a1", a1.Id));
        var sentinel = Guid.NewGuid();
        await Bus.PublishAsync(Events.Update(sentinel, Servers.OrgA, ["cna:a1"]));
        await ws.NextAsync(f => f.Is("JackpotUpdate", sentinel), "the sentinel update");
        await Bus.PublishAsync(Events.OptIn(sentinel, "cna:a1", a1.Id));
        await ws.NextAsync(f => f.Is("OptInEvent", sentinel), "the sentinel opt-in");
        await ws.AssertNeverAsync(f => f.InstanceId == foreign, "nothing of cnb reaches cna:a1's player");
    }

    [Test]
    public async Task Every_player_of_a_brand_the_instance_allows_gets_its_wins_and_no_other_brand_does()
    {
        var (a1, a2) = (await Servers.PlayerAsync("cna:a1"), await Servers.PlayerAsync("cna:a2"));
        await using var wsA1 = await Ws.PlayerAsync(a1);
        await using var wsA2 = await Ws.PlayerAsync(a2);
        await wsA1.SubscribeAsync("*");
        await wsA2.SubscribeAsync("*");
        var shared = Guid.NewGuid();
        var onlyA2 = Guid.NewGuid();
        // ThrillConnect learns an instance's allowed brands from its updates.
        await Bus.PublishAsync(Events.Update(shared, Servers.OrgA, ["cna:a1", "cna:a2"]));
        await Bus.PublishAsync(Events.Update(onlyA2, Servers.OrgA, ["cna:a2"]));
        await wsA2.SeenAsync(f => f.Is("JackpotUpdate", shared), "the shared update");
        await wsA2.SeenAsync(f => f.Is("JackpotUpdate", onlyA2), "the a2-only update");

        // A win on the a2-only instance (brand B's) reaches a2, never a1.
        await Bus.PublishAsync(Events.Win(onlyA2, "cna:a2", a2.Id, 7m));
        await wsA2.NextAsync(f => f.Is("WinEvent", onlyA2), "the a2-only win on a2's socket");
        // A win of a2's player on the shared instance reaches a1's players too: "someone just won".
        await Bus.PublishAsync(Events.Win(shared, "cna:a2", a2.Id, 8m));
        var seen = await wsA1.NextAsync(f => f.Is("WinEvent", shared), "the shared instance's win on a1's socket");
        Assert.That(seen.Data.GetProperty("player_id").GetString(), Is.EqualTo(a2.Id));
        Assert.That(seen.Json.GetProperty("brand_id").GetString(), Is.EqualTo("a1"), "the envelope is addressed to the receiving brand");
        Assert.That(seen.Json.GetProperty("player_id").ValueKind, Is.EqualTo(JsonValueKind.Null), "a win is broadcast, not one player's message");
        await wsA2.NextAsync(f => f.Is("WinEvent", shared), "the shared instance's win on a2's socket");

        await wsA1.AssertNeverAsync(f => f.InstanceId == onlyA2, "a1 never sees the a2-only instance or its win");
    }

    [Test]
    public async Task A_player_gets_its_own_opt_ins_and_never_another_players()
    {
        var me = await Servers.PlayerAsync("cna:a1");
        var other = await Servers.PlayerAsync("cna:a1");
        await using var mine = await Ws.PlayerAsync(me);
        await using var theirs = await Ws.PlayerAsync(other);
        await mine.SubscribeAsync("OptInEvent");
        await theirs.SubscribeAsync("OptInEvent");
        var instance = Guid.NewGuid();

        await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", other.Id));
        await theirs.NextAsync(f => f.Is("OptInEvent", instance), "the other player's own opt-in");
        // The same player id under another brand is another player.
        await Bus.PublishAsync(Events.OptIn(instance, "cna:a2", me.Id, optedIn: false));
        await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", me.Id));
        var own = await mine.NextAsync(f => f.Is("OptInEvent", instance), "my own opt-in");
        Assert.That(own.Data.GetProperty("player_id").GetString(), Is.EqualTo(me.Id));
        Assert.That(own.Data.GetProperty("opted_in").GetBoolean(), Is.True, "cna:a1's opt-in, not cna:a2's opt-out of the same id");
        Assert.That(own.Json.GetProperty("player_id").GetString(), Is.EqualTo(me.Id));

        await mine.AssertNeverAsync(f => f.Name == "OptInEvent" && f.Data.GetProperty("player_id").GetString() != me.Id,
            "another player's opt-in never reaches me");
        Assert.That(mine.Read.Count(f => f.Name == "OptInEvent"), Is.EqualTo(1), "only my cna:a1 opt-in");
        await theirs.AssertNeverAsync(f => f.Name == "OptInEvent" && f.Data.GetProperty("player_id").GetString() == me.Id, "nor mine them");
    }

    [Test]
    public async Task A_service_connection_gets_its_organisations_events_and_never_another_organisations()
    {
        await using var orgA = await Ws.ServiceAsync(Servers.OperatorA);
        await using var orgB = await Ws.ServiceAsync(Servers.OperatorB);
        await orgA.SubscribeAsync("*");
        await orgB.SubscribeAsync("*");
        var ofB = Guid.NewGuid();
        var ofA = Guid.NewGuid();

        await Bus.PublishAsync(Events.Update(ofB, Servers.OrgB, ["cnb:y1"]));
        await Bus.PublishAsync(Events.Win(ofB, "cnb:y1", "player-y", 3m));
        await Bus.PublishAsync(Events.OptIn(ofB, "cnb:y1", "player-y"));
        foreach (var name in new[] { "JackpotUpdate", "WinEvent", "OptInEvent" })
            await orgB.SeenAsync(f => f.Is(name, ofB), $"cnb's {name} on cnb's service socket");

        // Both brands of cna: an instance owned by the organisation, a win and an opt-in of brand a2.
        await Bus.PublishAsync(Events.Update(ofA, Servers.OrgA, ["cna:a1", "cna:a2"]));
        await Bus.PublishAsync(Events.Win(ofA, "cna:a2", "player-a", 4m));
        await Bus.PublishAsync(Events.OptIn(ofA, "cna:a1", "player-a"));
        foreach (var name in new[] { "JackpotUpdate", "WinEvent", "OptInEvent" })
            await orgA.SeenAsync(f => f.Is(name, ofA), $"cna's {name} on cna's service socket");

        await orgA.AssertNeverAsync(f => f.InstanceId == ofB, "cna's service never sees cnb's events");
        await orgB.AssertNeverAsync(f => f.InstanceId == ofA, "cnb's service never sees cna's events");
    }

    [Test]
    public async Task A_brand_bound_service_account_gets_only_its_brands_events()
    {
        await using var a1 = await Ws.ServiceAsync(Servers.BrandA1);
        await a1.SubscribeAsync("*");
        var onlyA2 = Guid.NewGuid();
        var withA1 = Guid.NewGuid();

        await Bus.PublishAsync(Events.Update(onlyA2, Servers.OrgA, ["cna:a2"]));
        await Bus.PublishAsync(Events.Update(withA1, Servers.OrgA, ["cna:a1", "cna:a2"]));
        await a1.NextAsync(f => f.Is("JackpotUpdate", withA1), "an instance allowing a1");
        await Bus.PublishAsync(Events.Win(withA1, "cna:a2", "player-2", 2m));
        await Bus.PublishAsync(Events.OptIn(withA1, "cna:a2", "player-2"));
        await Bus.PublishAsync(Events.Win(withA1, "cna:a1", "player-1", 1m));
        await Bus.PublishAsync(Events.OptIn(withA1, "cna:a1", "player-1"));
        var win = await a1.SeenAsync(f => f.Is("WinEvent", withA1) && f.Data.GetProperty("brand_id").GetString() == "cna:a1", "a1's win");
        Assert.That(win.Json.GetProperty("brand_id").GetString(), Is.EqualTo("a1"));
        await a1.SeenAsync(f => f.Is("OptInEvent", withA1) && f.Data.GetProperty("player_brand_id").GetString() == "cna:a1", "a1's opt-in");

        await a1.AssertNeverAsync(f => f.InstanceId == onlyA2, "an instance that only allows a2");
        await a1.AssertNeverAsync(f => f.Name is "WinEvent" or "OptInEvent" && f.Json.GetProperty("brand_id").GetString() != "a1",
            "a2's wins and opt-ins");
    }

    [Test]
    public async Task Engine_contributions_move_the_ticker_of_the_players_whose_brand_the_instance_allows()
    {
        var jackpot = await Jackpots.CreateAsync(["cna:a1"]);
        var a1 = await Servers.PlayerAsync("cna:a1");
        var a2 = await Servers.PlayerAsync("cna:a2");
        await using var wsA1 = await Ws.PlayerAsync(a1);
        await using var wsA2 = await Ws.PlayerAsync(a2);
        await using var service = await Ws.ServiceAsync(Servers.OperatorA);
        await wsA1.SubscribeAsync("JackpotUpdate");
        await wsA2.SubscribeAsync("JackpotUpdate");
        await service.SubscribeAsync("JackpotUpdate");
        // ThrillPots' ticker announces the new instance within a second or two (seed values).
        var first = await wsA1.NextAsync(f => f.Is("JackpotUpdate", jackpot.Id), "the new instance's first ticker");
        Assert.That(Pot(first, "small"), Is.EqualTo(10m));

        await Jackpots.ContributeAsync(jackpot, a1.Id, "cna:a1", wager: 10m);
        var moved = await wsA1.NextAsync(f => f.Is("JackpotUpdate", jackpot.Id) && Pot(f, "small") > 10m, "a ticker after the contribution");
        // 0.1 contributed, 40 % to the small pot, half of that to its reseed fund.
        Assert.That(Pot(moved, "small"), Is.EqualTo(10.02m));
        await service.NextAsync(f => f.Is("JackpotUpdate", jackpot.Id) && Pot(f, "small") == 10.02m, "the same ticker on cna's service socket");

        await wsA2.AssertNeverAsync(f => f.InstanceId == jackpot.Id, "a2's player never sees an a1-only instance");
    }

    [Test]
    public async Task An_engine_win_reaches_every_player_of_the_allowed_brands_in_their_currency()
    {
        // HitRate 1: every contribution wins the small pot.
        var jackpot = await Jackpots.CreateAsync(["cna:a1", "cna:a2"], magic: 1);
        var winner = await Servers.PlayerAsync("cna:a1");
        var watcher = await Servers.PlayerAsync("cna:a2", currency: "USD");
        await using var wsWinner = await Ws.PlayerAsync(winner);
        await using var wsWatcher = await Ws.PlayerAsync(watcher);
        await wsWinner.SubscribeAsync("*");
        await wsWatcher.SubscribeAsync("*");
        await wsWatcher.SeenAsync(f => f.Is("JackpotUpdate", jackpot.Id), "the instance's ticker (ThrillConnect learns its brands)");

        await Jackpots.ContributeAsync(jackpot, winner.Id, "cna:a1");
        var own = await wsWinner.NextAsync(f => f.Is("WinEvent", jackpot.Id), "the win on the winner's socket");
        var seen = await wsWatcher.SeenAsync(f => f.Is("WinEvent", jackpot.Id), "the win on another brand's player's socket");
        var amount = own.Data.GetProperty("win_amount").GetDecimal();
        Assert.That(amount, Is.GreaterThanOrEqualTo(10m), "the seed at least");
        Assert.That(own.Data.GetProperty("player_id").GetString(), Is.EqualTo(winner.Id));
        Assert.That(own.Data.GetProperty("win_pot_id").GetString(), Is.EqualTo("small"));
        Assert.That(own.Data.GetProperty("player_currency").GetString(), Is.EqualTo("EUR"));
        Assert.That(own.Data.GetProperty("player_value").GetDecimal(), Is.EqualTo(amount));
        Assert.That(seen.Data.GetProperty("player_id").GetString(), Is.EqualTo(winner.Id));
        Assert.That(seen.Data.GetProperty("player_currency").GetString(), Is.EqualTo("USD"));
        // The win carries the multipliers of the winner's brand (a1: the system's USD 1.1).
        var usd = seen.Data.GetProperty("currency_multipliers").GetProperty("multipliers").GetProperty("USD").GetDecimal();
        Assert.That(seen.Data.GetProperty("player_value").GetDecimal(), Is.EqualTo(decimal.Round(amount * usd, 8)));
    }

    static decimal Pot(Frame f, string pot) =>
        f.Data.GetProperty("pots").EnumerateArray().Single(p => p.GetProperty("id").GetString() == pot).GetProperty("current_value").GetDecimal();
}
