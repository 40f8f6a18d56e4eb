using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// The asynchronous forms against a webhook receiver of the test's own (a real HTTP server on loopback) that checks every
/// signature and answers as each test tells it to.
/// </summary>
[NonParallelizable]
public class AsyncContributionTests
{
    const string Secret = "an-operator-webhook-secret-0123";
    static WebApplication receiver = null!;
    static readonly ConcurrentQueue<(string EventId, JsonElement Body, bool SignatureValid)> Received = new();
    /// <summary>What the receiver answers next (a queue of statuses; 200 when empty).</summary>
    static readonly ConcurrentQueue<int> Answers = new();
    static string url = null!;

    [OneTimeSetUp]
    public async Task StartReceiverAsync()
    {
        var port = TestEnvironment.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        receiver = builder.Build();
        receiver.MapPost("/hooks", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var timestamp = http.Request.Headers["X-ThrillSuite-Timestamp"].ToString();
            using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(Secret));
            var expected = "sha256=" + Convert.ToHexStringLower(hmac.ComputeHash(Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray()));
            var valid = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected),
                Encoding.ASCII.GetBytes(http.Request.Headers["X-ThrillSuite-Signature"].ToString()));
            Received.Enqueue((http.Request.Headers["X-ThrillSuite-Event-Id"].ToString(), JsonDocument.Parse(body).RootElement.Clone(), valid));
            return Results.StatusCode(Answers.TryDequeue(out var status) ? status : 200);
        });
        await receiver.StartAsync();
        url = $"http://127.0.0.1:{port}/hooks";
        var configured = (await Servers.Pots.PutAsync("/config/operators/tpa/webhook", Servers.OperatorA, new { url, secret = Secret }))
            .Expect(HttpStatusCode.OK).Json;
        Assert.That(configured.GetProperty("secret_set").GetBoolean(), Is.True);
        Assert.That(configured.TryGetProperty("secret", out _), Is.False, "the secret is write-only");
    }

    [OneTimeTearDown]
    public async Task StopReceiverAsync() => await receiver.DisposeAsync();

    static Task<List<(string EventId, JsonElement Body, bool SignatureValid)>> DeliveriesOfAsync(string requestId, int count) =>
        Eventually.ValueAsync(() =>
        {
            var mine = Received.Where(r => r.Body.GetProperty("request_id").GetString() == requestId).ToList();
            return Task.FromResult(mine.Count >= count ? mine : null);
        }, TimeSpan.FromSeconds(30), $"{count} webhook deliveries of request {requestId}");

    [Test]
    public async Task An_async_contribution_is_accepted_then_applied_and_its_result_delivered_signed()
    {
        var jackpot = await Jackpots.CreateAsync();
        var body = Jackpots.Body(jackpot);
        var accepted = (await Servers.Pots.PostAsync("/jackpots/contribute/instance/async", Servers.OperatorA, body)).Expect(HttpStatusCode.Accepted).Json;
        var requestId = accepted.GetProperty("request_id").GetString()!;

        var delivery = (await DeliveriesOfAsync(requestId, 1)).Single();
        Assert.That(delivery.SignatureValid, Is.True);
        Assert.That(delivery.Body.GetProperty("event_type").GetString(), Is.EqualTo("ContributionResult"));
        Assert.That(delivery.Body.GetProperty("event_id").GetString(), Is.EqualTo(delivery.EventId));
        Assert.That(delivery.Body.GetProperty("success").GetBoolean(), Is.True);
        Assert.That(delivery.Body.GetProperty("data").GetProperty("outcome").GetString(), Is.EqualTo("accepted"));
        Assert.That(delivery.Body.GetProperty("data").GetProperty("instance_id").GetString(), Is.EqualTo(jackpot.Id));
        Assert.That(delivery.Body.GetProperty("request").GetProperty("metadata").GetProperty("bet_id").GetString(), Is.EqualTo("b-1"));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));
    }

    [Test]
    public async Task Async_refusals_are_delivered_with_the_requests_metadata_and_bad_input_is_refused_at_once()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(optIn: true));
        var body = Jackpots.Body(jackpot);
        body.Remove("instance_id");
        body["source_id"] = jackpot.Source;
        var requestId = (await Servers.Pots.PostAsync("/jackpots/contribute/source/async", Servers.OperatorA, body)).Expect(HttpStatusCode.Accepted)
            .Json.GetProperty("request_id").GetString()!;
        var delivery = (await DeliveriesOfAsync(requestId, 1)).Single();
        Assert.That(delivery.Body.GetProperty("success").GetBoolean(), Is.False);
        Assert.That(delivery.Body.GetProperty("data").GetProperty("reason").GetString(), Is.EqualTo("not_opted_in"));
        Assert.That(delivery.Body.GetProperty("request").GetProperty("metadata").GetProperty("bet_id").GetString(), Is.EqualTo("b-1"));

        body["base_wager"] = -1;
        (await Servers.Pots.PostAsync("/jackpots/contribute/source/async", Servers.OperatorA, body)).ExpectInvalid("base_wager");
        (await Servers.Pots.PostAsync("/jackpots/contribute/source/async", Servers.OperatorB, Jackpots.Body(jackpot))).ExpectInvalid("source_id");
    }

    [Test]
    public async Task A_webhook_answering_500_then_200_gets_the_event_again_and_it_is_delivered_once()
    {
        var jackpot = await Jackpots.CreateAsync();
        Answers.Enqueue(500);
        var v2 = new JsonObject
        {
            ["target"] = new JsonObject { ["type"] = "instance", ["id"] = jackpot.Id }, ["owner_id"] = "tpa",
            ["player"] = new JsonObject { ["id"] = "async-player", ["brand_id"] = "b2" }, ["gameround_id"] = Fixtures.Unique("r"),
            ["currency"] = "EUR", ["base_wager"] = 0,
        };
        var requestId = (await Servers.Pots.PostAsync("/v2/jackpots/contribute/async", Servers.OperatorA, v2)).Expect(HttpStatusCode.Accepted)
            .Json.GetProperty("request_id").GetString()!;
        var deliveries = await DeliveriesOfAsync(requestId, 2);
        Assert.That(deliveries.Select(d => d.EventId).Distinct().Count(), Is.EqualTo(1), "the same event, retried");
        var delivered = await Eventually.ValueAsync(async () =>
        {
            var json = JsonNode.Parse((await Servers.Pots.GetAsync($"/config/operators/tpa/webhook/deliveries?request_id={requestId}", Servers.OperatorA))
                .Expect(HttpStatusCode.OK).Text)!;
            return json[0]?["state"]?.GetValue<string>() == "delivered" ? json[0] : null;
        }, TimeSpan.FromSeconds(30), "the delivery to be marked delivered");
        Assert.That(delivered["attempts"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1), "retrying the webhook does not re-apply the contribution");
    }

    [Test]
    public async Task A_webhook_that_keeps_failing_is_parked_then_retried_by_hand()
    {
        var jackpot = await Jackpots.CreateAsync();
        for (var i = 0; i < 3; i++) Answers.Enqueue(503);
        var requestId = (await Servers.Pots.PostAsync("/jackpots/contribute/instance/async", Servers.OperatorA, Jackpots.Body(jackpot)))
            .Expect(HttpStatusCode.Accepted).Json.GetProperty("request_id").GetString()!;
        var failed = await Eventually.ValueAsync(async () =>
        {
            var json = JsonNode.Parse((await Servers.Pots.GetAsync($"/config/operators/tpa/webhook/deliveries?state=failed&request_id={requestId}",
                Servers.OperatorA)).Expect(HttpStatusCode.OK).Text)!.AsArray();
            return json.Count == 1 ? json[0] : null;
        }, TimeSpan.FromSeconds(30), "the delivery to be parked as failed");
        Assert.That(failed["attempts"]!.GetValue<int>(), Is.EqualTo(3));
        Assert.That(failed["last_status"]!.GetValue<int>(), Is.EqualTo(503));

        var id = failed["id"]!.GetValue<string>();
        (await Servers.Pots.PostAsync($"/config/operators/tpa/webhook/deliveries/{id}/retry", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        (await Servers.Pots.PostAsync($"/config/operators/tpa/webhook/deliveries/{id}/retry", Servers.OperatorB)).ExpectForbidden();
        var deliveries = await DeliveriesOfAsync(requestId, 4);
        Assert.That(deliveries.All(d => d.SignatureValid));
        await Eventually.TrueAsync(async () =>
            (await Servers.Pots.GetAsync($"/config/operators/tpa/webhook/deliveries?state=delivered&request_id={requestId}", Servers.OperatorA))
                .Json.GetArrayLength() == 1, TimeSpan.FromSeconds(30), "the retried delivery to succeed");
    }

    [Test]
    public async Task Webhook_settings_are_validated_and_write_only()
    {
        (await Servers.Pots.PutAsync("/config/operators/tpa/webhook", Servers.OperatorA, new { url = "ftp://x", secret = Secret })).ExpectInvalid("url");
        (await Servers.Pots.PutAsync("/config/operators/tpa/webhook", Servers.OperatorA, new { url, secret = "short" })).ExpectInvalid("secret");
        (await Servers.Pots.PutAsync("/config/operators/tpa/webhook", Servers.OperatorB, new { url, secret = Secret })).ExpectForbidden();
        var doc = (await Servers.Pots.GetAsync("/config/operators/tpa/webhook", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        Assert.That(doc.Text, Does.Not.Contain(Secret));
        var audit = await Fixtures.AuditAsync("tpa");
        Assert.That(audit.Any(a => a.GetProperty("action").GetString() == "operator.webhook"));
        Assert.That(audit.Select(a => a.ToString()), Has.None.Contains(Secret));
    }
}
