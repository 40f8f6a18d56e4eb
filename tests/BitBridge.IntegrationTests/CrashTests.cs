using Npgsql;
using ThrillSuite.Contracts.Pots;

namespace BitBridge.IntegrationTests;

public sealed class CrashTests
{
    [Test]
    public async Task BitBridge_killed_mid_batch_loses_nothing_and_resends_at_most_what_was_in_flight()
    {
        const int events = 150;
        var brand = Brands.Next();
        var hook = await Setup.WebhookAsync(brand, [JackpotWon.EventType]);
        // Slow enough that deliveries are in flight when the process dies.
        Servers.Peers.Delay(hook, TimeSpan.FromMilliseconds(100));
        var published = new List<Guid>();
        for (var i = 0; i < events; i++) published.Add(await Servers.Bus.PublishAsync(Bus.Win(brand)));

        await Servers.Peers.WaitAcceptedAsync(hook, 20);
        await Servers.KillAndRestartAsync();

        // The receiver counts by delivery id: every event arrives, each delivery id once except those caught between send and mark-sent.
        var accepted = await Eventually.ValueAsync(() => Task.FromResult(Servers.Peers.Accepted(hook) is { } a
            && a.Select(r => r.DeliveryId).Distinct().Count() >= events ? a : null), TimeSpan.FromSeconds(90), $"{events} distinct deliveries");
        var resent = accepted.Count - accepted.Select(r => r.DeliveryId).Distinct().Count();
        TestContext.Out.WriteLine($"{accepted.Count} requests accepted for {events} deliveries: {resent} resent after the kill");
        Assert.Multiple(() =>
        {
            Assert.That(accepted.Select(r => r.Json.GetProperty("event_id").GetGuid()).Distinct(), Is.EquivalentTo(published));
            Assert.That(resent, Is.LessThanOrEqualTo(8), "only deliveries in flight at the kill (Deliveries:ConcurrencyPerDispatcher) may arrive twice");
        });

        // Marked sent shortly after the receiver answered.
        await Eventually.TrueAsync(async () =>
        {
            await using var db = new NpgsqlConnection(Servers.BridgeDatabase);
            await db.OpenAsync();
            await using var count = new NpgsqlCommand("select count(*) filter (where status = 'sent') = @events and count(*) = @events from deliveries where dispatcher_id = @hook", db);
            count.Parameters.AddWithValue("hook", hook);
            count.Parameters.AddWithValue("events", (long)events);
            return (bool)(await count.ExecuteScalarAsync())!;
        }, TimeSpan.FromSeconds(30), $"all {events} deliveries recorded as sent, and no more");
    }
}
