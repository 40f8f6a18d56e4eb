using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ThrillPots.IntegrationTests;

/// <summary>The asynchronous v2 form with links: one webhook event per instance contributed to (spec §14.2).</summary>
[NonParallelizable]
public class LinkedAsyncTests
{
    static WebApplication receiver = null!;
    static readonly ConcurrentQueue<JsonElement> Received = new();

    [OneTimeSetUp]
    public async Task StartReceiverAsync()
    {
        var port = TestEnvironment.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        receiver = builder.Build();
        receiver.MapPost("/linked-hooks", async (HttpContext http) =>
        {
            Received.Enqueue((await JsonDocument.ParseAsync(http.Request.Body)).RootElement.Clone());
            return Results.Ok();
        });
        await receiver.StartAsync();
        (await Servers.Pots.PutAsync("/config/operators/tpa/webhook", Servers.OperatorA,
            new { url = $"http://127.0.0.1:{port}/linked-hooks", secret = "linked-webhook-secret-0123456" })).Expect(HttpStatusCode.OK);
    }

    [OneTimeTearDown]
    public async Task StopReceiverAsync() => await receiver.DisposeAsync();

    [Test]
    public async Task An_async_v2_contribution_sends_one_webhook_event_per_instance()
    {
        var daily = await LinkedJackpotTests.InstanceAsync("Daily");
        var weekly = await LinkedJackpotTests.InstanceAsync("Weekly", optIn: true, linkedInstance: daily.Id);
        var monthly = await LinkedJackpotTests.InstanceAsync("Monthly", linkedInstance: daily.Id);

        var requestId = (await Servers.Pots.PostAsync("/v2/jackpots/contribute/async", Servers.OperatorA, LinkedJackpotTests.V2(daily, Fixtures.Unique("p"))))
            .Expect(HttpStatusCode.Accepted).Json.GetProperty("request_id").GetString()!;

        var events = await Eventually.ValueAsync(() =>
        {
            var mine = Received.Where(r => r.GetProperty("request_id").GetString() == requestId).ToList();
            return Task.FromResult(mine.Count >= 3 ? mine : null);
        }, TimeSpan.FromSeconds(30), "three webhook events");
        var byInstance = events.ToDictionary(e => e.GetProperty("data").GetProperty("instance_id").GetString()!);
        Assert.That(byInstance.Keys, Is.EquivalentTo(new[] { daily.Id, weekly.Id, monthly.Id }));
        Assert.That(events.Select(e => e.GetProperty("event_id").GetString()).Distinct().Count(), Is.EqualTo(3));
        Assert.That(byInstance[daily.Id].GetProperty("success").GetBoolean(), Is.True);
        Assert.That(byInstance[monthly.Id].GetProperty("success").GetBoolean(), Is.True);
        Assert.That(byInstance[weekly.Id].GetProperty("success").GetBoolean(), Is.False);
        Assert.That(byInstance[weekly.Id].GetProperty("data").GetProperty("reason").GetString(), Is.EqualTo("not_opted_in"));
        Assert.That(byInstance[weekly.Id].GetProperty("request").GetProperty("metadata").GetProperty("bet").GetString(), Is.EqualTo("x"));
        Assert.That(await Jackpots.LedgerCountAsync(monthly), Is.EqualTo(1));
    }
}
