using ThrillSuite.Contracts.Gate;

namespace ThrillConnect.IntegrationTests;

/// <summary>
/// ThrillGate's freebet events (spec services-id-connect-bitbridge.md §9.4, source thrillgate) over the sockets: a real award
/// and removal through ThrillGate's bonus API reach the player's own sockets through ThrillGate's outbox and RabbitMQ; the
/// other lifecycle events reach them from the bus; other players never see them, services see those of brands they may read.
/// </summary>
public class BonusEventTests
{
    static async Task<string> AwardAsync(Player p, string requestId)
    {
        var reply = (await Servers.Gate.PostAsync("/thrillgate/bonus/playerbonus/create", Servers.Platform, new
        {
            request_id = requestId, operator_id = p.Operator, brand_id = p.Brand, players = new[] { p.Id }, bonus_name = "Welcome",
            bonus = new { type = "VariableFreeSpins", currency = "EUR", amount = "1.50" }, timestamp_bonus_expires = 0, promo_id = "promo-42",
        })).Expect(HttpStatusCode.OK).Json;
        return reply.EnumerateArray().Single().GetProperty("id").GetString()!;
    }

    [Test]
    public async Task An_award_and_its_removal_in_ThrillGate_reach_the_players_own_socket_with_the_specs_payload()
    {
        var p = await Servers.PlayerAsync("cna:a1");
        var neighbour = await Servers.PlayerAsync("cna:a1");
        await using var ws = await Ws.PlayerAsync(p);
        await using var other = await Ws.PlayerAsync(neighbour);
        await using var operatorA = await Ws.ServiceAsync(Servers.OperatorA);
        await using var operatorB = await Ws.ServiceAsync(Servers.OperatorB);
        await ws.SubscribeToAsync("thrillgate", "*");
        await other.SubscribeToAsync("thrillgate", "*");
        await operatorA.SubscribeToAsync("thrillgate", "PlayerBonusAdded");
        await operatorB.SubscribeToAsync("thrillgate", "*");

        var id = await AwardAsync(p, "award-" + Guid.NewGuid().ToString("N"));

        var added = await ws.NextAsync(f => f.Name == "PlayerBonusAdded", "the PlayerBonusAdded of the award");
        Assert.That(added.Type, Is.EqualTo("Event"));
        Assert.That(added.Json.GetProperty("source").GetString(), Is.EqualTo("thrillgate"));
        Assert.That(added.Json.GetProperty("operator_id").GetString(), Is.EqualTo(p.Operator));
        Assert.That(added.Json.GetProperty("brand_id").GetString(), Is.EqualTo(p.Brand));
        Assert.That(added.Json.GetProperty("player_id").GetString(), Is.EqualTo(p.Id));
        Assert.That(added.Json.GetProperty("timestamp").GetInt64(), Is.GreaterThan(0));
        var data = added.Data;
        Assert.That(data.GetProperty("id").GetString(), Is.EqualTo(id));
        Assert.That(data.GetProperty("promo_id").GetString(), Is.EqualTo("promo-42"));
        Assert.That(data.GetProperty("state").GetString(), Is.EqualTo("Available"));
        Assert.That(data.GetProperty("timestamp_bonus_consumed").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(data.GetProperty("timestamp_bonus_awarded").GetInt64(), Is.GreaterThan(0));
        var type = data.GetProperty("bonus_data").GetProperty("Freespins").GetProperty("freespin_type");
        Assert.That(type.GetProperty("type").GetString(), Is.EqualTo("PlayerVariableFreeSpins"));
        Assert.That(type.GetProperty("amount").GetDecimal(), Is.EqualTo(1.5m));
        Assert.That(type.GetProperty("amount_used").GetDecimal(), Is.EqualTo(0m));
        Assert.That(type.GetProperty("currency").GetString(), Is.EqualTo("EUR"));
        Assert.That(type.TryGetProperty("count", out _), Is.False, "a variable bonus has no count");

        var seen = await operatorA.NextAsync(f => f.Name == "PlayerBonusAdded" && f.Data.GetProperty("id").GetString() == id,
            "the award on the operator's service connection");
        Assert.That(seen.Json.GetProperty("player_id").GetString(), Is.EqualTo(p.Id));

        (await Servers.Gate.DeleteAsync($"/thrillgate/bonus/playerbonus/{id}", Servers.Platform)).Expect(HttpStatusCode.OK);
        var removed = await ws.NextAsync(f => f.Name == "PlayerBonusRemoved", "the PlayerBonusRemoved of the removal");
        Assert.That(removed.Data.GetProperty("id").GetString(), Is.EqualTo(id));
        Assert.That(removed.Data.GetProperty("state").GetString(), Is.EqualTo("Removed"));

        await other.AssertNeverAsync(f => f.Json.GetProperty("source").GetString() == "thrillgate", "another player's freebet events");
        await operatorB.AssertNeverAsync(f => f.Json.GetProperty("source").GetString() == "thrillgate", "another operator's freebet events");
        await operatorA.AssertNeverAsync(f => f.Name == "PlayerBonusRemoved", "an event type the service did not subscribe to");
    }

    [Test]
    public async Task Each_lifecycle_event_reaches_a_player_subscribed_to_it_once_even_when_the_outbox_sends_it_again()
    {
        var p = await Servers.PlayerAsync("cna:a2");
        await using var ws = await Ws.PlayerAsync(p);
        await using var unsubscribed = await Ws.PlayerAsync(p);
        await ws.SubscribeToAsync("thrillgate", "PlayerBonusUpdated", "PlayerBonusConsumed", "PlayerBonusExpired");
        await unsubscribed.SubscribeAsync("*"); // thrillpots only

        var bonus = Guid.NewGuid();
        var updated = Guid.NewGuid();
        await Servers.Bus.PublishAsync(new PlayerBonusUpdated(p.Operator, p.Brand, p.Id, Events.Bonus(bonus, "Available"), 1767225700000), updated);
        await Servers.Bus.PublishAsync(new PlayerBonusUpdated(p.Operator, p.Brand, p.Id, Events.Bonus(bonus, "Available"), 1767225700000), updated);
        await Servers.Bus.PublishAsync(new PlayerBonusConsumed(p.Operator, p.Brand, p.Id, Events.Bonus(bonus, "Consumed"), 1767230000000), Guid.NewGuid());
        await Servers.Bus.PublishAsync(new PlayerBonusExpired(p.Operator, p.Brand, p.Id, Events.Bonus(Guid.NewGuid(), "Expired", variable: true),
            1767312000000), Guid.NewGuid());

        var frames = new[]
        {
            await ws.SeenAsync(f => f.Name == "PlayerBonusUpdated", "PlayerBonusUpdated"),
            await ws.SeenAsync(f => f.Name == "PlayerBonusConsumed", "PlayerBonusConsumed"),
            await ws.SeenAsync(f => f.Name == "PlayerBonusExpired", "PlayerBonusExpired"),
        };
        Assert.That(frames.Select(f => f.Json.GetProperty("timestamp").GetInt64()), Is.EqualTo(new[] { 1767225700000, 1767230000000, 1767312000000 }),
            "each event's own timestamp");
        var fixedType = frames[0].Data.GetProperty("bonus_data").GetProperty("Freespins").GetProperty("freespin_type");
        Assert.That((fixedType.GetProperty("type").GetString(), fixedType.GetProperty("count").GetInt32(), fixedType.GetProperty("used").GetInt32(),
            fixedType.GetProperty("value").GetDecimal()), Is.EqualTo(("PlayerFixedFreeSpins", 5, 2, 0.2m)));
        Assert.That(fixedType.TryGetProperty("amount", out _), Is.False, "a fixed bonus has no amount");
        Assert.That(frames[1].Data.GetProperty("timestamp_bonus_consumed").GetInt64(), Is.EqualTo(1767230000000));

        var all = await ws.BarrierAsync();
        Assert.That(all.Count(f => f.Name == "PlayerBonusUpdated"), Is.EqualTo(1), "the re-sent message (same id) is shown once");
        await unsubscribed.AssertNeverAsync(f => f.Json.GetProperty("source").GetString() == "thrillgate", "freebet events without a thrillgate subscription");
    }
}
