using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillSuite.EndToEnd;

/// <summary>
/// An event processor's whole path through the edge: a token from Thrill-ID, a jackpot set up through ThrillPots' admin
/// API, a winning contribution over HTTP traced from the caller to the win's event, and the gRPC batch through the edge's
/// h2c listener (which does not route ThrillPots' internal service).
/// </summary>
public class ContributionTests
{
    static HttpClient Http => WinningJackpot.Http;
    static string processor = null!, instance = null!;

    [OneTimeSetUp]
    public async Task SetUpAsync()
    {
        // Brand e2eop:b1 pays through its wallet (the reference wallet) via ThrillGate.
        var jackpot = await WinningJackpot.SetUpAsync("e2eop", "E2E", new[] { "e2e-player" }.Concat(Enumerable.Range(0, 5).Select(i => $"grpc-{i}")));
        processor = jackpot.Processor;
        instance = jackpot.Instance;
    }

    [Test]
    public async Task A_winning_contribution_through_the_edge_is_one_trace_from_the_caller_to_the_win_event()
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Suite.Edge}/jackpots/contribute/instance")
        {
            Content = JsonContent.Create(new
            {
                token = "token-e2e-player", brand_id = "e2eop:b1", player_id = "e2e-player", instance_id = instance, gameround_id = Guid.NewGuid().ToString(),
                currency = "USD", base_wager = 1,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", processor);
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await Http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        var win = body.GetProperty("wins").EnumerateArray().Single();
        // 0.5 EUR is debited as USD 0.55; the pot pays 5 + 0.55/1.1 × 0.5 = 5.25 EUR, USD 5.77 to the player.
        Assert.That(body.GetProperty("player_contribution_value").GetDecimal(), Is.EqualTo(0.55m));
        Assert.That(win.GetProperty("win_amount").GetDecimal(), Is.EqualTo(5.25m));
        Assert.That(win.GetProperty("player_win_amount").GetDecimal(), Is.EqualTo(5.77m), "5.25 EUR × 1.1, rounded down to the cent");

        // One trace from the caller: ThrillPots' server span, the debit through ThrillGate to the wallet, the win and its
        // event, and ThrillGate paying the credit to the wallet.
        await Eventually.TrueAsync(() => Task.FromResult(
            Suite.Otlp.Spans.Any(s => s.TraceId == traceId && s.Service == "thrillpots" && s.Name == "jackpot win") &&
            Suite.Otlp.Spans.Any(s => s.TraceId == traceId && s.Service == "thrillpots" && s.Kind == 4 && s.Name.Contains("JackpotWon")) &&
            Suite.Otlp.Spans.Any(s => s.TraceId == traceId && s.Service == "thrillgate" && s.Name == "credit win") &&
            Suite.Otlp.Spans.Count(s => s.TraceId == traceId && s.Service == "thrillgate" && s.Kind == 3) >= 2),
            TimeSpan.FromSeconds(30), "the debit, the win, its event and its credit in the caller's trace: " +
            string.Join(", ", Suite.Otlp.Spans.Where(s => s.TraceId == traceId).Select(s => $"{s.Service}:{s.Name}:{s.Kind}")));
        Assert.That(Suite.Otlp.Spans.Any(s => s.TraceId == traceId && s.Service == "thrillpots" && s.Kind == 2), Is.True, "the HTTP server span");
        Assert.That(Suite.Otlp.Spans.Any(s => s.TraceId == traceId && s.Service == "referencewallet" && s.Kind == 2), Is.True, "the wallet's server spans");
    }

    [Test]
    public async Task The_grpc_batch_is_public_at_the_edge_and_the_internal_service_is_not()
    {
        using var client = GrpcClient.ForAddress($"http://127.0.0.1:{Suite.EdgeGrpcPort}");
        var services = Proto.PotsReflection.Descriptor.Services;
        var batch = new Proto.ContributeBatchRequest();
        for (var i = 0; i < 50; i++)
            batch.Contributions.Add(new Proto.Contribution
            {
                Target = new Proto.Target { Type = "instance", Id = instance }, BrandId = "e2eop:b1", PlayerId = $"grpc-{i % 5}", Token = $"token-grpc-{i % 5}",
                GameroundId = Guid.NewGuid().ToString(), Currency = "USD", BaseWager = "2",
            });
        var reply = await client.UnaryAsync<Proto.ContributeBatchReply>(Method("Contributions", "ContributeBatch"), batch,
            CallOptions.WithTimeout(TimeSpan.FromSeconds(30), new Metadata().Add("authorization", "Bearer " + processor)));
        Assert.That(reply.Results.Select(r => r.Items.Single().Outcome), Is.All.EqualTo("accepted"));

        var hidden = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<Proto.Instance>(Method("PlayerJackpots", "GetInstance"),
            new Proto.GetInstanceRequest { InstanceId = instance }, CallOptions.WithTimeout(TimeSpan.FromSeconds(10))));
        Assert.That(hidden!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));

        MethodDescriptor Method(string service, string name) => services.Single(s => s.Name == service).FindMethodByName(name);
    }
}
