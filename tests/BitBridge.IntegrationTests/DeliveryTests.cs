using ThrillSuite.Contracts.Pots;

namespace BitBridge.IntegrationTests;

public sealed class DeliveryTests
{
    const string Win = JackpotWon.EventType;

    [Test]
    public async Task A_webhook_receives_the_event_envelope_signed_with_its_secret_and_a_delivery_id()
    {
        var brand = Brands.Next();
        var hook = await Setup.WebhookAsync(brand, [Win]);
        var win = Bus.Win(brand, player: "alice");
        var eventId = await Servers.Bus.PublishAsync(win);

        var got = (await Servers.Peers.WaitAcceptedAsync(hook, 1)).Single();
        var sent = await Setup.WaitDeliveryAsync(eventId, hook, "sent");
        Assert.Multiple(() =>
        {
            Assert.That(got.SignatureValid, Is.True);
            Assert.That(got.Timestamp, Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(60));
            Assert.That(got.DeliveryId, Is.EqualTo(sent.GetProperty("id").GetString()));
            Assert.That(got.Json.GetProperty("event_id").GetString(), Is.EqualTo(eventId.ToString()));
            Assert.That(got.Json.GetProperty("event_type").GetString(), Is.EqualTo(Win));
            Assert.That(got.Json.GetProperty("brand_id").GetString(), Is.EqualTo(brand));
            Assert.That(got.Json.GetProperty("data").GetProperty("player_id").GetString(), Is.EqualTo("alice"));
            Assert.That(got.Json.GetProperty("data").GetProperty("win_amount").GetDecimal(), Is.EqualTo(125.5m));
            Assert.That(sent.GetProperty("attempts").GetInt32(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_webhook_answering_500_then_200_receives_the_event_once()
    {
        var brand = Brands.Next();
        var hook = await Setup.WebhookAsync(brand, [Win]);
        Servers.Peers.Script(hook, 500, 503);
        var eventId = await Servers.Bus.PublishAsync(Bus.Win(brand));

        var sent = await Setup.WaitDeliveryAsync(eventId, hook, "sent");
        Assert.Multiple(() =>
        {
            Assert.That(Servers.Peers.For(hook).Select(r => r.Answer), Is.EqualTo(new[] { 500, 503, 200 }));
            Assert.That(Servers.Peers.Accepted(hook), Has.Count.EqualTo(1));
            Assert.That(Servers.Peers.For(hook).Select(r => r.DeliveryId).Distinct().Count(), Is.EqualTo(1), "every attempt carries the same delivery id");
            Assert.That(sent.GetProperty("attempts").GetInt32(), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task A_permanent_refusal_is_a_dead_letter_with_its_error_and_a_replay_delivers_it_once()
    {
        var brand = Brands.Next();
        var hook = await Setup.WebhookAsync(brand, [Win]);
        Servers.Peers.Script(hook, 410);
        var eventId = await Servers.Bus.PublishAsync(Bus.Win(brand));

        var dead = await Setup.WaitDeliveryAsync(eventId, hook, "dead");
        Assert.That(dead.GetProperty("last_error").GetString(), Does.Contain("410"));
        Assert.That(dead.GetProperty("attempts").GetInt32(), Is.EqualTo(1), "a permanent refusal is not retried");
        var listed = (await Servers.Bridge.GetAsync($"/admin/deliveries?status=dead&dispatcher_id={hook}", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        Assert.That(listed.Json.EnumerateArray().Select(d => d.GetProperty("id").GetString()), Is.EqualTo(new[] { dead.GetProperty("id").GetString() }));

        var byOther = (await Servers.Bridge.GetAsync($"/admin/deliveries?status=dead&dispatcher_id={hook}", Servers.OperatorB)).Expect(HttpStatusCode.OK);
        Assert.That(byOther.Json.GetArrayLength(), Is.Zero, "another operator sees none of it");
        (await Servers.Bridge.PostAsync($"/admin/deliveries/{dead.GetProperty("id").GetString()}/replay", Servers.OperatorB)).ExpectProblem(HttpStatusCode.Forbidden);

        (await Servers.Bridge.PostAsync($"/admin/deliveries/{dead.GetProperty("id").GetString()}/replay", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        await Setup.WaitDeliveryAsync(eventId, hook, "sent");
        Assert.That(Servers.Peers.Accepted(hook).Select(r => r.DeliveryId), Is.EqualTo(new[] { dead.GetProperty("id").GetString() }));
        (await Servers.Bridge.PostAsync($"/admin/deliveries/{dead.GetProperty("id").GetString()}/replay", Servers.OperatorA)).ExpectProblem(HttpStatusCode.Conflict);
    }

    [Test]
    public async Task Transient_failures_past_the_attempt_limit_become_dead_and_a_bulk_replay_delivers_them()
    {
        var brand = Brands.Next();
        var hook = await Setup.WebhookAsync(brand, [Win]);
        Servers.Peers.Script(hook, Enumerable.Repeat(500, 12).ToArray());
        var first = await Servers.Bus.PublishAsync(Bus.Win(brand));
        var second = await Servers.Bus.PublishAsync(Bus.Win(brand));

        var dead = await Setup.WaitDeliveryAsync(first, hook, "dead");
        await Setup.WaitDeliveryAsync(second, hook, "dead");
        Assert.That(dead.GetProperty("attempts").GetInt32(), Is.EqualTo(6), "Deliveries:MaxAttempts of the test run");
        Assert.That(dead.GetProperty("last_error").GetString(), Does.Contain("500"));

        Servers.Peers.Script(hook);
        var replay = (await Servers.Bridge.PostAsync("/admin/deliveries/replay", Servers.OperatorA, new { dispatcher_id = hook })).Expect(HttpStatusCode.OK);
        Assert.That(replay.Json.GetProperty("replayed").GetInt32(), Is.EqualTo(2));
        var accepted = await Servers.Peers.WaitAcceptedAsync(hook, 2);
        Assert.That(accepted.Select(r => r.Json.GetProperty("event_id").GetGuid()), Is.EquivalentTo(new[] { first, second }));
    }

    [Test]
    public async Task A_redelivered_event_is_sent_once()
    {
        var brand = Brands.Next();
        var hook = await Setup.WebhookAsync(brand, [Win]);
        var win = Bus.Win(brand);
        var eventId = await Servers.Bus.PublishAsync(win);
        await Servers.Peers.WaitAcceptedAsync(hook, 1);

        await Servers.Bus.PublishAsync(win, eventId);
        // Published after the copy: once it is delivered, the copy has been consumed too (one queue, taken in order).
        var later = await Servers.Bus.PublishAsync(Bus.Win(brand));
        await Setup.WaitDeliveryAsync(later, hook, "sent");
        var accepted = await Servers.Peers.WaitAcceptedAsync(hook, 2);
        Assert.That(accepted.Count(r => r.Json.GetProperty("event_id").GetGuid() == eventId), Is.EqualTo(1));
    }

    [Test]
    public async Task A_slow_dispatcher_does_not_hold_up_another_dispatchers_deliveries()
    {
        var brand = Brands.Next();
        var slow = await Setup.WebhookAsync(brand, [Win]);
        var fast = await Setup.WebhookAsync(brand, [Win]);
        Servers.Peers.Delay(slow, TimeSpan.FromSeconds(2));
        for (var i = 0; i < 20; i++) await Servers.Bus.PublishAsync(Bus.Win(brand));

        // The slow one takes at least three rounds of 2 s (8 at a time): the fast one is done long before.
        await Servers.Peers.WaitAcceptedAsync(fast, 20);
        Assert.That(Servers.Peers.Accepted(slow), Has.Count.LessThanOrEqualTo(16), "the fast receiver got everything while the slow one was still busy");
        await Servers.Peers.WaitAcceptedAsync(slow, 20, seconds: 60);
    }

    [Test]
    public async Task A_busy_dispatchers_backlog_does_not_hide_another_dispatchers_due_delivery()
    {
        var busy = await Setup.WebhookAsync(Brands.Next(), [Win]);
        var brand = Brands.Next();
        var other = await Setup.WebhookAsync(brand, [Win]);
        Servers.Peers.Delay(busy, TimeSpan.FromSeconds(2.5));
        // 600 deliveries of the busy dispatcher due a minute ago, more than the deliverer's window of the earliest due ones
        // (8 per free slot: 448 while the busy one holds 8): at its limit, it fills the window on every round.
        await using (var c = new Npgsql.NpgsqlConnection(Servers.BridgeDatabase))
            await Dapper.SqlMapper.ExecuteAsync(c, """
                with e as (insert into events (id, event_type, payload) select gen_random_uuid(), 'JackpotWon', '{}' from generate_series(1, 600)
                           returning id)
                insert into deliveries (id, event_id, dispatcher_id, next_attempt_at) select gen_random_uuid(), id, @busy, now() - interval '1 minute' from e
                """, new { busy });
        try
        {
            await Servers.Peers.WaitAcceptedAsync(busy, 1);
            var eventId = await Servers.Bus.PublishAsync(Bus.Win(brand));
            // The busy one takes 8 every 2.5 s: through the window alone, the other's delivery would wait for ≈ 150 of them.
            await Setup.WaitDeliveryAsync(eventId, other, "sent", seconds: 15);
            Assert.That(Servers.Peers.Accepted(busy), Has.Count.LessThan(100), "the busy dispatcher's backlog was still there");
        }
        finally
        {
            // The rest of the backlog dies at once ("the dispatcher was deleted") instead of occupying the deliverer for minutes.
            (await Servers.Bridge.DeleteAsync($"/admin/dispatchers/{busy}", Servers.OperatorA)).Expect(HttpStatusCode.NoContent);
        }
    }

    [Test]
    public async Task A_dispatchers_max_per_second_spaces_its_deliveries()
    {
        var brand = Brands.Next();
        var id = Setup.NewId("paced");
        (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorA, new
        {
            id, dispatcher_type = "Webhook", operator_id = Servers.Operator, brand_id = brand, event_types = new[] { Win },
            config = new { url = Servers.Peers.Hook(id, Setup.Secret(id)), secret = Setup.Secret(id), max_per_second = 4 },
        })).Expect(HttpStatusCode.Created);
        // A first delivery opens the connection, so that its set-up time does not bunch up the paced ones behind it.
        await Servers.Bus.PublishAsync(Bus.Win(brand));
        await Servers.Peers.WaitAcceptedAsync(id, 1);
        for (var i = 0; i < 8; i++) await Servers.Bus.PublishAsync(Bus.Win(brand));

        var times = (await Servers.Peers.WaitAcceptedAsync(id, 9)).Skip(1).Select(r => r.At).Order().ToList();
        Assert.That(times[^1] - times[0], Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.6)), "8 deliveries at 4 per second: 7 intervals of 0.25 s");
    }

    [Test]
    public async Task ThrillGates_events_are_dispatched_by_their_brand_too()
    {
        var brand = Brands.Next();
        var hook = await Setup.WebhookAsync(brand, ["WinCreditFailed"]);
        var eventId = await Servers.Bus.PublishAsync(Bus.CreditFailed(brand));

        var got = (await Servers.Peers.WaitAcceptedAsync(hook, 1)).Single().Json;
        Assert.Multiple(() =>
        {
            Assert.That(got.GetProperty("event_id").GetGuid(), Is.EqualTo(eventId));
            Assert.That(got.GetProperty("event_type").GetString(), Is.EqualTo("WinCreditFailed"));
            Assert.That(got.GetProperty("operator_id").GetString(), Is.EqualTo(Servers.Operator));
            Assert.That(got.GetProperty("data").GetProperty("wallet_code").GetString(), Is.EqualTo("FORBIDDEN"));
        });
    }
}
