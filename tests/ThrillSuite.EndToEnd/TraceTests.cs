using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ThrillSuite.EndToEnd;

/// <summary>
/// What ops read (issue 10): one winning contribution sent through the edge without trace context, while the winner's
/// WebSocket is connected through the edge, is one trace from the edge to the wallet's credit and to the player's socket,
/// with semantic-convention attributes; the domain metrics arrive over OTLP; and the Grafana dashboard queries only
/// metrics the suite exports.
/// </summary>
public partial class TraceTests
{
    const string Operator = "e2etrace", Player = "trace-player";
    static HttpClient Http => WinningJackpot.Http;
    static string instance = null!, traceId = null!, edgeSpanId = null!;
    static ClientWebSocket socket = null!;
    static JsonElement winEvent;

    [OneTimeSetUp]
    public async Task WinWhileThePlayerListensAsync()
    {
        var jackpot = await WinningJackpot.SetUpAsync(Operator, "E2E trace", [Player]);
        instance = jackpot.Instance;
        await ConnectPlayerAsync();
        await ContributeAsync(jackpot.Processor);
    }

    [OneTimeTearDown]
    public async Task CloseAsync()
    {
        if (socket?.State == WebSocketState.Open) await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        socket?.Dispose();
    }

    /// <summary>The winner's socket through the edge, subscribed; its first JackpotUpdate of the instance shows the subscription is live.</summary>
    static async Task ConnectPlayerAsync()
    {
        socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{Suite.EdgeHttpPort}/v1/events/{Operator}/b1?token=token-{Player}&currency=USD"),
            CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"SubscribeRequest": {"events": [{"source": "thrillpots", "event_type": "*"}]}}"""),
            WebSocketMessageType.Text, true, CancellationToken.None);
        await ReceiveAsync("JackpotUpdate");
    }

    static async Task ContributeAsync(string processor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Suite.Edge}/jackpots/contribute/instance")
        {
            Content = JsonContent.Create(new
            {
                token = "token-" + Player, brand_id = $"{Operator}:b1", player_id = Player, instance_id = instance, gameround_id = Guid.NewGuid().ToString(),
                currency = "USD", base_wager = 1,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", processor);
        Assert.That(request.Headers.Contains("traceparent"), Is.False, "the edge starts the trace");
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("wins").GetArrayLength(), Is.EqualTo(1), body);

        var traceResponse = response.Headers.GetValues("traceresponse").Single();
        var match = TraceParent().Match(traceResponse);
        Assert.That(match.Success, Is.True, $"traceresponse '{traceResponse}' is a W3C traceparent");
        var requestId = response.Headers.GetValues("X-Request-Id").Single();
        (traceId, edgeSpanId) = (match.Groups[1].Value, match.Groups[2].Value);
        Assert.That(traceId, Is.EqualTo(requestId), "the edge's trace id is its request id");
        winEvent = await ReceiveAsync("WinEvent");
    }

    static async Task<JsonElement> ReceiveAsync(string msgName)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, timeout.Token);
                message.Write(buffer, 0, result.Count);
            } while (!result.EndOfMessage);
            Assert.That(result.MessageType, Is.EqualTo(WebSocketMessageType.Text), $"socket closed: {socket.CloseStatus} {socket.CloseStatusDescription}");
            var envelope = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            var data = envelope.GetProperty("data");
            if (envelope.GetProperty("msg_name").GetString() == msgName
                && (data.TryGetProperty("instance_id", out var id) || data.TryGetProperty("id", out id)) && id.GetString() == instance)
                return envelope;
        }
    }

    [Test]
    public void The_winner_receives_the_win_on_the_socket_it_opened_through_the_edge()
    {
        var data = winEvent.GetProperty("data");
        Assert.That(data.GetProperty("player_id").GetString(), Is.EqualTo(Player));
        Assert.That(data.GetProperty("player_value").GetDecimal(), Is.EqualTo(5.77m), "the winner is shown what the wallet is credited");
    }

    [Test]
    public async Task The_edge_passes_a_valid_traceparent_on_and_replaces_an_invalid_one()
    {
        const string valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        foreach (var (sent, kept) in new[] { (valid, true), ("00-00000000000000000000000000000000-b7ad6b7169203331-01", false), ("garbage", false) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{Suite.Edge}/_services/thrillpots/health/live");
            request.Headers.TryAddWithoutValidation("traceparent", sent);
            using var response = await Http.SendAsync(request);
            var answered = response.Headers.GetValues("traceresponse").Single();
            if (kept) Assert.That(answered, Is.EqualTo(sent));
            else Assert.That(answered, Does.Match(TraceParent().ToString()).And.Not.Contains("-00000000000000000000000000000000-"), sent);
        }
    }

    [Test]
    public async Task One_trace_runs_from_the_edge_through_ThrillPots_the_outbox_and_RabbitMQ_to_the_wallet_and_the_players_socket()
    {
        List<ReceivedSpan> Trace() => [.. Suite.Otlp.Spans.Where(s => s.TraceId == traceId)];
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(Chain(Trace()) is not null), TimeSpan.FromSeconds(30), "the whole chain in one trace");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The trace {traceId} is incomplete:\n" + string.Join("\n", Trace().OrderBy(s => s.Service)));
        }
        var spans = Trace();
        var chain = Chain(spans)!;
        string Dump() => string.Join("\n", spans.OrderBy(s => s.Service));

        // The edge exports no span (no OTel module in Debian's nginx): its traceparent's span id is ThrillPots' parent.
        Assert.That(chain.PotsServer.ParentSpanId, Is.EqualTo(edgeSpanId), Dump());
        Assert.That(chain.PotsServer.Name, Does.StartWith("POST /jackpots/contribute/"), "HTTP server span name: method and route");
        Assert.That(chain.PotsServer.Tag("http.route"), Does.StartWith("/jackpots/contribute/"));
        Assert.That(chain.PotsServer.Tag("url.path"), Is.EqualTo("/jackpots/contribute/instance"));
        foreach (var http in spans.Where(s => s.Kind is 2 or 3 && s.Tag("rpc.system") is null && s.Tag("db.system.name") is null))
        {
            Assert.That(http.Tag("http.request.method"), Is.Not.Null, $"{http}: http.request.method");
            Assert.That(http.Tag("http.response.status_code"), Is.Not.Null, $"{http}: http.response.status_code");
            if (http.Kind == 2) Assert.That(http.Tag("url.path") ?? http.Tag("http.route"), Is.Not.Null, $"{http}: url.path or http.route");
            else Assert.That(http.Tag("url.full") ?? http.Tag("server.address"), Is.Not.Null, $"{http}: url.full");
        }
        Assert.That(chain.PotsServer.Tag("http.request.method"), Is.EqualTo("POST"));
        Assert.That(chain.PotsServer.Tag("http.response.status_code"), Is.EqualTo("200"));

        // The debit: ThrillPots calls ThrillGate's Wallets service over gRPC.
        var grpc = spans.Where(s => s.Tag("rpc.system") == "grpc").ToList();
        Assert.That(grpc.Select(s => (s.Service, s.Kind, s.Name, s.Tag("rpc.service"), s.Tag("rpc.method"), s.Tag("rpc.grpc.status_code"))), Is.SupersetOf(new[]
        {
            ("thrillpots", 3, "thrillsuite.gate.v1.Wallets/Debit", "thrillsuite.gate.v1.Wallets", "Debit", "0"),
            ("thrillgate", 2, "thrillsuite.gate.v1.Wallets/Debit", "thrillsuite.gate.v1.Wallets", "Debit", "0"),
        }), Dump());

        var db = spans.Where(s => s.Kind == 3 && (s.Tag("db.system.name") ?? s.Tag("db.system")) is not null).ToList();
        Assert.That(db.Select(s => s.Service).Distinct(), Is.SupersetOf(new[] { "thrillpots", "thrillgate" }), "Npgsql's db spans: " + Dump());
        Assert.That(db.Select(s => s.Tag("db.system.name") ?? s.Tag("db.system")), Is.All.EqualTo("postgresql"));

        // Every producer and consumer span of the trace (the outbox relay's, MassTransit's send, receive and process spans in
        // every service), except the WebSocket push, which is no messaging system's.
        var messagingSpans = spans.Where(s => s.Kind is 4 or 5 && !s.Name.StartsWith("push ")).ToList();
        Assert.That(messagingSpans, Is.SupersetOf(new[] { chain.CreditSend, chain.WonPublish, chain.GateConsume, chain.ConnectConsume }));
        foreach (var messaging in messagingSpans)
        {
            Assert.That(messaging.Tag("messaging.system"), Is.EqualTo("rabbitmq"), messaging.ToString());
            Assert.That(messaging.Tag("messaging.destination.name"), Is.Not.Empty, messaging.ToString());
            Assert.That(messaging.Tag("messaging.operation.type") ?? messaging.Tag("messaging.operation"), Is.Not.Empty, messaging.ToString());
        }
        Assert.That(chain.CreditSend.Tag("messaging.destination.name"), Is.EqualTo("thrillgate-credit-win"));
        Assert.That(chain.WalletCall.Tag("url.full"), Does.EndWith("/wallet/transaction"));
        Assert.That((chain.WalletServer.Name, chain.WalletServer.Tag("url.path")), Is.EqualTo(("POST /wallet/transaction", "/wallet/transaction")));
        Assert.That(chain.Push.Tag("thrillconnect.player_id"), Is.EqualTo(Player));
    }

    sealed record TraceChain(ReceivedSpan PotsServer, ReceivedSpan CreditSend, ReceivedSpan WonPublish, ReceivedSpan GateConsume,
        ReceivedSpan WalletCall, ReceivedSpan WalletServer, ReceivedSpan ConnectConsume, ReceivedSpan Push);

    /// <summary>
    /// The links of the chain, each a descendant of the one before: ThrillPots' server span (under the edge's) → the outbox
    /// relay's producer spans → ThrillGate's consumer span → its wallet client call → the wallet's server span; and the
    /// JackpotWon publish → ThrillConnect's consumer span → the push to the player's socket. Null while one is missing.
    /// </summary>
    static TraceChain? Chain(IReadOnlyList<ReceivedSpan> spans)
    {
        var byId = spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        bool Under(ReceivedSpan s, ReceivedSpan ancestor)
        {
            for (var hops = 0; hops < 64 && byId.TryGetValue(s.ParentSpanId, out var parent); hops++, s = parent)
                if (parent.SpanId == ancestor.SpanId) return true;
            return false;
        }
        ReceivedSpan? Find(string service, int kind, Func<ReceivedSpan, bool> match) =>
            spans.FirstOrDefault(s => s.Service == service && s.Kind == kind && match(s));

        var potsServer = Find("thrillpots", 2, s => s.ParentSpanId == edgeSpanId);
        if (potsServer is null) return null;
        var creditSend = Find("thrillpots", 4, s => s.Tag("messaging.destination.name") == "thrillgate-credit-win" && Under(s, potsServer));
        var wonPublish = Find("thrillpots", 4, s => s.Tag("messaging.destination.name")?.EndsWith(":JackpotWon") == true && Under(s, potsServer));
        if (creditSend is null || wonPublish is null) return null;
        var gateConsume = Find("thrillgate", 5, s => s.Tag("messaging.operation.type") == "process" && Under(s, creditSend));
        var connectConsume = Find("thrillconnect", 5, s => s.Tag("messaging.operation.type") == "process" && Under(s, wonPublish));
        if (gateConsume is null || connectConsume is null) return null;
        var walletCall = Find("thrillgate", 3, s => s.Tag("url.full")?.EndsWith("/wallet/transaction") == true && Under(s, gateConsume));
        var push = Find("thrillconnect", 4, s => s.Name == "push WinEvent" && s.Tag("thrillconnect.player_id") == Player && Under(s, connectConsume));
        if (walletCall is null || push is null) return null;
        var walletServer = Find("referencewallet", 2, s => s.ParentSpanId == walletCall.SpanId);
        return walletServer is null ? null
            : new TraceChain(potsServer, creditSend, wonPublish, gateConsume, walletCall, walletServer, connectConsume, push);
    }

    [Test]
    public async Task The_domain_metrics_are_exported_over_otlp()
    {
        // Cumulative series: the latest point of each is its total so far; any point at or above the bound will do.
        await ExpectPointAsync("thrillpots", "thrillpots.contributions", "counter", p => p.Tag("instance_id") == instance && p.Tag("outcome") == "accepted" && p.Value >= 1);
        await ExpectPointAsync("thrillpots", "thrillpots.wins", "counter", p => p.Tag("instance_id") == instance && p.Tag("pot_id") == "every" && p.Value >= 1);
        await ExpectPointAsync("thrillpots", "thrillpots.pot.value", "gauge",
            p => p.Tag("instance_id") == instance && p.Tag("pot_id") == "every" && p.Tag("currency") == "EUR" && p.Value >= 5);
        await ExpectPointAsync("thrillgate", "thrillgate.payout.latency", "histogram", p => p.Tag("kind") == "win" && p.Count >= 1 && p.Value > 0 && p.Unit == "s");
        await ExpectPointAsync("thrillgate", "thrillgate.credits.pending", "gauge", p => p.Tag("state") == "pending" && p.Value >= 0);
        await ExpectPointAsync("bitbridge", "bitbridge.dispatch.failures", "counter", p => p.Tag("outcome") == "dead" && p.Value >= 0);
        await ExpectPointAsync("thrillconnect", "thrillconnect.connections", "gauge", p => p.Value >= 1);
    }

    static async Task ExpectPointAsync(string service, string metric, string type, Func<ReceivedPoint, bool> match)
    {
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(Suite.Otlp.Points.Any(p => p.Service == service && p.Metric == metric && p.Type == type && match(p))),
                TimeSpan.FromSeconds(30), metric);
        }
        catch (TimeoutException)
        {
            var seen = Suite.Otlp.Points.Where(p => p.Metric == metric).TakeLast(5)
                .Select(p => $"{p.Service} {p.Type} {p.Unit} {p.Value}/{p.Count} [{string.Join(",", p.Attributes.Select(a => $"{a.Key}={a.Value}"))}]");
            Assert.Fail($"{service} exports no matching {type} {metric}; seen: {string.Join("; ", seen)}");
        }
    }

    [Test]
    public async Task The_grafana_dashboard_queries_only_metrics_the_suite_exports()
    {
        await The_domain_metrics_are_exported_over_otlp();
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepoRoot, "deploy", "grafana", "thrillsuite-dashboard.json")))!;
        Assert.That(dashboard["title"]?.GetValue<string>(), Is.Not.Empty);
        Assert.That(dashboard["templating"]!["list"]!.AsArray().Any(v => v!["type"]?.GetValue<string>() == "datasource"
            && v["query"]?.GetValue<string>() == "prometheus"), Is.True, "a Prometheus datasource variable");
        var panels = dashboard["panels"]!.AsArray().Where(p => p!["type"]?.GetValue<string>() != "row").ToList();
        Assert.That(panels, Is.Not.Empty);
        var queried = new HashSet<string>();
        foreach (var panel in panels)
        {
            Assert.That(panel!["datasource"]?["uid"]?.GetValue<string>(), Is.EqualTo("${datasource}"), $"panel '{panel["title"]}' uses the variable");
            var targets = panel["targets"]!.AsArray();
            Assert.That(targets, Is.Not.Empty, $"panel '{panel["title"]}' queries something");
            foreach (var target in targets) queried.UnionWith(SuiteMetric().Matches(target!["expr"]!.GetValue<string>()).Select(m => m.Value));
        }
        foreach (var variable in dashboard["templating"]!["list"]!.AsArray())
            if (variable!["query"] is JsonValue q && q.GetValueKind() == JsonValueKind.String)
                queried.UnionWith(SuiteMetric().Matches(q.GetValue<string>()).Select(m => m.Value));

        // What the OpenTelemetry collector's Prometheus exporter names each exported metric (dots to underscores, the unit
        // as a suffix, _total on counters; a histogram's series end in _bucket, _sum and _count).
        var exported = Suite.Otlp.Points.Select(p => (p.Metric, p.Type, p.Unit)).Distinct()
            .SelectMany(m => PrometheusSeries(m.Metric, m.Type, m.Unit)).ToHashSet();
        Assert.That(queried, Is.SupersetOf(new[]
        {
            "thrillpots_contributions_total", "thrillpots_wins_total", "thrillpots_pot_value", "thrillgate_payout_latency_seconds_bucket",
            "thrillgate_credits_pending", "bitbridge_dispatch_failures_total", "thrillconnect_connections",
        }), "a panel for every domain metric");
        Assert.That(queried.Except(exported), Is.Empty, "every metric the dashboard queries is exported");
    }

    static IEnumerable<string> PrometheusSeries(string name, string type, string unit)
    {
        var baseName = Regex.Replace(name, "[^a-zA-Z0-9_:]", "_");
        var suffix = unit switch
        {
            "s" => "seconds", "ms" => "milliseconds", "By" => "bytes", "1" when type == "gauge" => "ratio",
            _ when unit.StartsWith('{') || unit.Length == 0 || unit == "1" => "",
            _ => unit,
        };
        if (suffix.Length > 0 && !baseName.EndsWith("_" + suffix)) baseName += "_" + suffix;
        return type switch
        {
            "counter" => [baseName + "_total"],
            "histogram" => [baseName + "_bucket", baseName + "_sum", baseName + "_count"],
            _ => [baseName],
        };
    }

    [GeneratedRegex("^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")]
    private static partial Regex TraceParent();

    [GeneratedRegex(@"\b(?:thrillpots|thrillgate|thrillconnect|thrillid|bitbridge|referencewallet)_[a-z0-9_]+")]
    private static partial Regex SuiteMetric();
}
