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
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    static string admin = null!, processor = null!, instance = null!;

    [OneTimeSetUp]
    public async Task SetUpAsync()
    {
        admin = (await PostAsync("/accounts/auth", null, new { username = Suite.AdminUser, password = Suite.AdminPassword })).GetProperty("token").GetString()!;
        await PostAsync("/admin/organisations", admin, new { id = "e2eop", units = new[] { "b1" }, enabled = true });
        var account = await PostAsync("/admin/accounts", admin, new
        {
            username = "e2e-event-processor", account_type = "Service", org_id = "e2eop",
            permissions = new[] { new { system_id = "thrillpots", permissions = new[] { new { resource_id = "*", permission = "Write" } } } },
        });
        var client = await PostAsync($"/admin/accounts/{account.GetProperty("id").GetString()}/clients", admin, new { });
        using var token = await Http.PostAsync($"{Suite.Edge}/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = client.GetProperty("client_id").GetString()!,
            ["client_secret"] = client.GetProperty("client_secret").GetString()!,
        }));
        processor = JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;

        await PostAsync("/config/operators", processor, new { id = "e2eop", name = "E2E operator" });
        await PostAsync("/config/operators/e2eop/brands", processor, new[] { new { id = "b1", name = "Brand 1" } });
        using (var currencies = new HttpRequestMessage(HttpMethod.Put, $"{Suite.Edge}/config/currencies")
               { Content = JsonContent.Create(new { base_currency = "EUR", multipliers = new Dictionary<string, decimal> { ["EUR"] = 1m, ["USD"] = 1.1m } }) })
        {
            currencies.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
            using var r = await Http.SendAsync(currencies);
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK), await r.Content.ReadAsStringAsync());
        }
        var template = JsonNode.Parse("""
            { "name": "E2E", "owner_id": "e2eop", "currency": "EUR",
              "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.5 }, "operator_contribution_percentage": 0 },
              "house_hold_contribution": { "Percentage": 0.5 }, "win_selector_strategy": "Highest",
              "pots": [ { "id": "every", "contribution": { "Percentage": 0.5 }, "seed_contribution": { "Percentage": 0 },
                "seed_strategy": { "initial_seed_value": 5, "min_reseed_value": 5, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
                "max_instantiation_count": null, "is_progressive": true, "supports_external_trigger": false, "criteria": null, "max_pot_value": null,
                "pot_types": [ { "HitRate": { "max_magic_number": 1, "cost_per_attempt": 0.5 } } ] } ] }
            """)!;
        var templateId = (await PostAsync("/templates", processor, template)).GetProperty("id").GetString();
        await PostAsync($"/templates/{templateId}/publish", processor, new { });
        instance = (await PostAsync("/templates/instantiate", processor, new { template_id = templateId, owner_id = "e2eop", allowed_brands = new[] { "e2eop:b1" } }))
            .GetProperty("id").GetString()!;

        // Brand e2eop:b1 pays through its wallet (the reference wallet) via ThrillGate.
        await PostAsync("/admin/wallets", admin, new
        {
            id = "e2e-wallet", operator_id = "e2eop", brand_id = "b1", wallet_type = "StandardWallet",
            connection_details = new { protocol = "http", host = "127.0.0.1", port = Suite.Processes["ReferenceWallet"].HttpPort },
            endpoints = new Dictionary<string, object>
            {
                ["auth"] = new Dictionary<string, string> { ["POST"] = "/wallet/authenticate" },
                ["transaction"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction" },
                ["cancel_bet"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/cancel" },
            },
            config = new { secret_key = Suite.WalletSecret, request_timeout = 5 },
        });
        using (var integration = new HttpRequestMessage(HttpMethod.Put, $"{Suite.Edge}/config/operators/e2eop/brands/b1/wallet-integration")
               { Content = JsonContent.Create(new { enabled = true }) })
        {
            integration.Headers.Authorization = new AuthenticationHeaderValue("Bearer", processor);
            using var r = await Http.SendAsync(integration);
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK), await r.Content.ReadAsStringAsync());
        }
        foreach (var player in new[] { "e2e-player" }.Concat(Enumerable.Range(0, 5).Select(i => $"grpc-{i}")))
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, $"{Suite.Processes["ReferenceWallet"].BaseUrl}/sim/players/{player}")
            {
                Content = JsonContent.Create(new { token = "token-" + player, currency = "USD", balance = 1000m, operator_id = "e2eop", brand_id = "b1" }),
            };
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Suite.WalletAdminToken);
            using var r = await Http.SendAsync(put);
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK), await r.Content.ReadAsStringAsync());
        }
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

    static async Task<JsonElement> PostAsync(string path, string? token, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Suite.Edge + path) { Content = JsonContent.Create(body) };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.InRange(200, 299), $"{path}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
