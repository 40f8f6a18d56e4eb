namespace BitBridge.IntegrationTests;

/// <summary>Spec §3.2: event type listed, operator/brand narrowing (unbound = global), highest priority wins, equal priorities all dispatch.</summary>
public sealed class SelectionTests
{
    const string Forgot = "ForgotPasswordStarted";

    [Test]
    public async Task The_highest_priority_among_the_dispatchers_whose_binding_contains_the_event_dispatch_it_and_ties_all_do()
    {
        // Operators of this test only, managed by the platform (which may act for any), so no other test's events match.
        var (a, c) = (Setup.NewId("sela"), Setup.NewId("selc"));
        var global = await Setup.WebhookAsync(null, [Forgot], priority: -1000, op: null, token: Servers.Platform);
        try
        {
            var op = await Setup.WebhookAsync(null, [Forgot], priority: 5, op: a, token: Servers.Platform);
            var brand1 = await Setup.WebhookAsync("u1", [Forgot], priority: 5, op: a, token: Servers.Platform);
            var brand2 = await Setup.WebhookAsync("u2", [Forgot], priority: 9, op: a, token: Servers.Platform);
            var otherType = await Setup.WebhookAsync("u1", ["JackpotWinEvent"], priority: 50, op: a, token: Servers.Platform);

            var toBrand1 = await Servers.Bus.PublishAsync(Bus.Forgot(a, "u1"));
            var toBrand2 = await Servers.Bus.PublishAsync(Bus.Forgot(a, "u2"));
            var toOperator = await Servers.Bus.PublishAsync(Bus.Forgot(a, null));
            var elsewhere = await Servers.Bus.PublishAsync(Bus.Forgot(c, null));

            async Task<string[]> Chosen(Guid eventId)
            {
                var rows = await Eventually.ValueAsync(async () => await Setup.DeliveriesAsync(eventId, Servers.Platform) is { Length: > 0 } r ? r : null,
                    TimeSpan.FromSeconds(30), $"deliveries of {eventId}");
                return [.. rows.Select(d => d.GetProperty("dispatcher_id").GetString()!).Order()];
            }
            var (chosen1, chosen2, chosenOperator, chosenElsewhere) = (await Chosen(toBrand1), await Chosen(toBrand2), await Chosen(toOperator), await Chosen(elsewhere));
            Assert.Multiple(() =>
            {
                Assert.That(chosen1, Is.EqualTo(new[] { op, brand1 }.Order()), "equal priorities both dispatch");
                Assert.That(chosen2, Is.EqualTo(new[] { brand2 }), "the highest priority wins");
                Assert.That(chosenOperator, Is.EqualTo(new[] { op }), "a brand binding does not contain an operator-wide event");
                Assert.That(chosenElsewhere, Is.EqualTo(new[] { global }), "an unbound dispatcher is global");
            });
            Assert.That(Servers.Peers.For(otherType), Is.Empty);
            await Servers.Peers.WaitAcceptedAsync(op, 2);
        }
        finally
        {
            (await Servers.Bridge.DeleteAsync($"/admin/dispatchers/{global}", Servers.Platform)).Expect(HttpStatusCode.NoContent);
        }
    }
}
