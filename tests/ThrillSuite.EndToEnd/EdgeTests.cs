using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ThrillSuite.Diagnostics.V1;
using ThrillSuite.Grpc;
using ThrillSuite.Grpc.Diagnostics;

namespace ThrillSuite.EndToEnd;

public class EdgeTests
{
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    static IEnumerable<string> ServiceNames => Suite.Services.Select(s => s.ToLowerInvariant());

    [TestCaseSource(nameof(ServiceNames))]
    public async Task Every_service_is_ready_through_the_edge(string service)
    {
        using var response = await Http.GetAsync($"{Suite.Edge}/_services/{service}/health/ready");
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.That(checks, Does.Contain("database"));
        if (service != "referencewallet") Assert.That(checks, Does.Contain("masstransit-bus"), "ready checks RabbitMQ where it is used");
    }

    [TestCaseSource(nameof(ServiceNames))]
    public async Task Every_service_publishes_its_openapi_document_through_the_edge(string service)
    {
        using var response = await Http.GetAsync($"{Suite.Edge}/_services/{service}/openapi/v1.json");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That(doc.GetProperty("openapi").GetString(), Does.StartWith("3."));
    }

    [TestCaseSource(nameof(ServiceNames))]
    public async Task Every_service_exports_traces_metrics_and_logs_over_otlp(string service)
    {
        foreach (var signal in new[] { "traces", "metrics", "logs" })
            await Eventually.TrueAsync(() => Task.FromResult(Suite.Otlp.Exports.Contains((signal, service))),
                TimeSpan.FromSeconds(30), $"{service} to export {signal}");
        Assert.That(Suite.Otlp.Exports.Where(e => e.Service == service).Select(e => e.Signal).Distinct(),
            Is.EquivalentTo(new[] { "traces", "metrics", "logs" }));
    }

    [Test]
    public async Task An_unknown_edge_path_is_a_problem_document()
    {
        using var response = await Http.GetAsync($"{Suite.Edge}/no/such/route");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetInt32(), Is.EqualTo(404));
    }

    [TestCase("/admin/dispatchers")]
    [TestCase("/admin/templates")]
    [TestCase("/admin/deliveries?status=dead")]
    [TestCase("/admin/wallets")]
    [TestCase("/admin/organisations")]
    [TestCase("/thrillgate/bonus/templates?operator_id=op")]
    [TestCase("/thrillgate/bonus/playerbonus?operator_id=op")]
    public async Task An_admin_api_is_routed_to_its_service_which_asks_for_a_token(string path)
    {
        // The edge answers an unrouted path 404; a routed one reaches a service, which wants a bearer token.
        using var anonymous = await Http.GetAsync($"{Suite.Edge}{path}");
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), await anonymous.Content.ReadAsStringAsync());
        Assert.That(anonymous.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer"));
    }

    [Test]
    public async Task Thrill_ID_answers_through_the_edge_with_the_edge_as_issuer()
    {
        var discovery = JsonDocument.Parse(await Http.GetStringAsync($"{Suite.Edge}/.well-known/openid-configuration")).RootElement;
        Assert.That(discovery.GetProperty("issuer").GetString(), Is.EqualTo(Suite.Edge));
        Assert.That(discovery.GetProperty("token_endpoint").GetString(), Is.EqualTo($"{Suite.Edge}/oauth/token"));

        using var login = await Http.PostAsJsonAsync($"{Suite.Edge}/accounts/auth", new { username = Suite.AdminUser, password = Suite.AdminPassword });
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var token = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString();

        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Suite.Edge}/admin/organisations");
        request.Headers.Authorization = new("Bearer", token);
        using var organisations = await Http.SendAsync(request);
        Assert.That(organisations.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var anonymous = await Http.GetAsync($"{Suite.Edge}/admin/organisations");
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(anonymous.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer"));
    }

    [Test]
    public async Task A_grpc_call_through_the_edge_reaches_ThrillPots()
    {
        using var client = GrpcClient.ForAddress($"http://127.0.0.1:{Suite.EdgeGrpcPort}");
        var reply = await client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { Message = "via nginx" }, CallOptions.WithTimeout(TimeSpan.FromSeconds(10), new Metadata().Add("x-probe", "edge")));
        Assert.That(reply.Message, Is.EqualTo("via nginx"));
        Assert.That(reply.Service, Is.EqualTo("ThrillPots"));
        Assert.That(reply.Metadata["x-probe"], Is.EqualTo("edge"));

        var error = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { FailWithStatus = (int)StatusCode.NotFound, FailMessage = "through the edge" }));
        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(error.Status.Detail, Is.EqualTo("through the edge"));
    }

    [Test]
    public async Task A_probe_crosses_http_grpc_and_rabbitmq_in_one_trace()
    {
        // The caller starts the trace; every hop must continue it.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Suite.Edge}/_services/thrillpots/diagnostics/probes");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), body);
        var sent = JsonDocument.Parse(body).RootElement;
        var probeId = sent.GetProperty("probe_id").GetString();
        Assert.That(sent.GetProperty("trace_id").GetString(), Is.EqualTo(traceId), "HTTP hop continues the caller's trace");
        Assert.That(sent.GetProperty("echo_trace_id").GetString(), Is.EqualTo(traceId), "gRPC hop continues it");
        Assert.That(sent.GetProperty("echoed_by").GetString(), Is.EqualTo("ThrillGate"));

        // Every service with RabbitMQ consumed the event exactly once, inside the same trace.
        foreach (var service in new[] { "ThrillId", "ThrillPots", "ThrillGate", "ThrillConnect", "BitBridge" })
        {
            var records = await Eventually.ValueAsync(async () =>
            {
                using var r = await Http.GetAsync($"{Suite.Processes[service].BaseUrl}/diagnostics/probes/{probeId}");
                if (!r.IsSuccessStatusCode) return null;
                var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("records").Clone();
                var list = doc.EnumerateArray().Where(x => x.GetProperty("role").GetString() == "received").ToList();
                return list.Count > 0 ? list : null;
            }, TimeSpan.FromSeconds(30), $"{service} to receive the probe");
            var received = records;
            Assert.That(received, Has.Count.EqualTo(1), service);
            Assert.That(received[0].GetProperty("trace_id").GetString(), Is.EqualTo(traceId), $"{service}'s consume span is in the caller's trace");
        }

        // The exported spans show the same: the HTTP server span, the gRPC server span, the consume spans.
        await Eventually.TrueAsync(() => Task.FromResult(
            new[] { "thrillpots", "thrillgate", "thrillconnect", "bitbridge" }.All(s =>
                Suite.Otlp.Spans.Any(x => x.TraceId == traceId && x.Service == s && x.Kind is 2 or 5))),
            TimeSpan.FromSeconds(30), "server and consumer spans of the trace from every hop");
        var spans = Suite.Otlp.Spans.Where(s => s.TraceId == traceId).ToList();
        Assert.That(spans.Any(s => s.Service == "thrillgate" && s.Kind == 2 && s.Name.Contains("Diagnostics/Echo")), Is.True,
            "ThrillGate's gRPC server span: " + string.Join(", ", spans.Select(s => $"{s.Service}:{s.Name}:{s.Kind}")));
        Assert.That(spans.Any(s => s.Service == "thrillpots" && s.Kind == 3), Is.True, "ThrillPots' client/producer spans");
    }
}
