using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace ThrillSuite.EndToEnd;

/// <summary>
/// The edge's limits (deploy/nginx/edge.conf.template). The flood goes through a second nginx rendered from the same
/// template in front of the suite's services, and from a loopback address of its own (nginx and Thrill-ID both count
/// per client address), so the shared edge and the other tests' token requests are never limited by it.
/// </summary>
public class EdgeLimitTests
{
    const int TokenBurst = 20, TokenRate = 10, FloodCap = 5000;
    static readonly TimeSpan FloodTimeLimit = TimeSpan.FromSeconds(20);
    static readonly string ClientAddress = $"127.0.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(2, 255)}";
    string prefix = "";
    int port;
    HttpClient http = null!;
    string Edge => $"http://127.0.0.1:{port}";

    [OneTimeSetUp]
    public async Task StartEdgeAsync()
    {
        port = TestEnvironment.FreePort();
        prefix = Path.Combine(TestEnvironment.RepoRoot, ".local", "test", "edge-limits-nginx-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(prefix);
        var ports = new Dictionary<string, int>
        {
            ["EDGE_HTTP_PORT"] = port,
            // The gRPC listener and its upstream are not used here; free ports keep the template complete.
            ["EDGE_GRPC_PORT"] = TestEnvironment.FreePort(),
            ["THRILLPOTS_GRPC"] = TestEnvironment.FreePort(),
        };
        foreach (var service in Suite.Services) ports[service.ToUpperInvariant() + "_HTTP"] = Suite.Processes[service].HttpPort;
        var config = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepoRoot, "deploy", "nginx", "edge.conf.template"));
        foreach (var (key, value) in ports) config = config.Replace("{{" + key + "}}", value.ToString());
        Assert.That(config, Does.Not.Contain("{{"), "every placeholder of the edge template has a value");
        await File.WriteAllTextAsync(Path.Combine(prefix, "nginx.conf"), config);
        await NginxAsync("-e", Path.Combine(prefix, "error.log"));

        // Every connection of this client comes from ClientAddress.
        http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 32,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(ClientAddress), 0));
                    await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        }) { Timeout = TimeSpan.FromSeconds(30) };
        await Eventually.TrueAsync(async () => (await http.GetAsync($"{Edge}/_services/thrillpots/health/live")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(20), "the second edge to answer");
    }

    [OneTimeTearDown]
    public async Task StopEdgeAsync()
    {
        http?.Dispose();
        if (File.Exists(Path.Combine(prefix, "nginx.pid"))) await NginxAsync("-s", "stop");
    }

    [Test]
    public async Task A_token_flood_is_answered_429_while_other_routes_keep_answering()
    {
        // A token taken before the flood, for ThrillPots' API during it.
        using var login = await http.PostAsJsonAsync($"{Edge}/accounts/auth", new { username = Suite.AdminUser, password = Suite.AdminPassword });
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.OK), await login.Content.ReadAsStringAsync());
        var admin = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString();

        // Client-credentials requests of an unknown client: Thrill-ID answers 401 to every one the edge lets through.
        var results = new ConcurrentBag<TokenAnswer>();
        var limited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var sent = 0;
        var checksDone = TimeSpan.MaxValue;
        var clock = Stopwatch.StartNew();
        async Task FloodAsync()
        {
            while (!stop.IsCancellationRequested && clock.Elapsed < FloodTimeLimit && Interlocked.Increment(ref sent) <= FloodCap)
            {
                using var response = await http.PostAsync($"{Edge}/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "client_credentials", ["client_id"] = "flood-" + Guid.NewGuid().ToString("N"), ["client_secret"] = "not-a-secret",
                }));
                var answer = new TokenAnswer(clock.Elapsed, response.StatusCode, response.Content.Headers.ContentType?.MediaType,
                    response.Headers.TryGetValues("Retry-After", out var retry) ? retry.Single() : null, await response.Content.ReadAsStringAsync());
                results.Add(answer);
                if (answer.ByEdge) limited.TrySetResult();
                // Once limited, a request per flooder every 50 ms (320/s in all) keeps the limit hit without flooding the log.
                if (limited.Task.IsCompleted) await Task.Delay(50);
            }
        }
        var flood = Enumerable.Range(0, 16).Select(_ => Task.Run(FloodAsync)).ToArray();
        try
        {
            await limited.Task.WaitAsync(TimeSpan.FromSeconds(30));

            // The token limit is being hit right now; the rest of the edge, Thrill-ID's other routes included, is not limited.
            var health = http.GetAsync($"{Edge}/_services/thrillpots/health/ready");
            var discovery = http.GetAsync($"{Edge}/.well-known/openid-configuration");
            using var instancesRequest = new HttpRequestMessage(HttpMethod.Get, $"{Edge}/instances");
            instancesRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
            var instances = http.SendAsync(instancesRequest);
            foreach (var (name, task) in new[] { ("ThrillPots' readiness", health), ("Thrill-ID's discovery", discovery), ("ThrillPots' GET /instances", instances) })
            {
                using var response = await task;
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"{name} during the token flood: {await response.Content.ReadAsStringAsync()}");
            }
            checksDone = clock.Elapsed;
            var afterChecks = checksDone;
            await Eventually.TrueAsync(() => Task.FromResult(results.Any(r => r.ByEdge && r.At > afterChecks)),
                TimeSpan.FromSeconds(10), "the edge to go on limiting the flood after the other routes answered");
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(flood);
        }
        var elapsed = clock.Elapsed;

        var byEdge = results.Where(r => r.ByEdge).ToList();
        var passed = results.Where(r => !r.ByEdge).ToList();
        TestContext.Out.WriteLine($"{results.Count} token requests in {elapsed.TotalMilliseconds:F0} ms (other routes answered by {checksDone.TotalMilliseconds:F0} ms): {passed.Count} passed the edge, {byEdge.Count} answered 429 by it");
        Assert.Multiple(() =>
        {
            Assert.That(byEdge, Is.Not.Empty);
            Assert.That(byEdge.Select(r => r.MediaType).Distinct(), Is.EqualTo(new[] { "application/problem+json" }));
            Assert.That(byEdge.Select(r => r.RetryAfter).Distinct(), Is.EqualTo(new[] { "1" }));
            Assert.That(byEdge.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("status").GetInt32()).Distinct(), Is.EqualTo(new[] { 429 }));
            // The burst goes through at once; past it, about the rate (10/s) over the flood's duration, with a little slack.
            Assert.That(passed, Has.Count.GreaterThanOrEqualTo(TokenBurst), $"{results.Count} requests in {elapsed.TotalMilliseconds:F0} ms");
            Assert.That(passed, Has.Count.LessThanOrEqualTo(TokenBurst + 1 + (int)Math.Ceiling(TokenRate * elapsed.TotalSeconds) + 2),
                $"{results.Count} requests in {elapsed.TotalMilliseconds:F0} ms");
            // What passed reached Thrill-ID, which refused the unknown client (or, past its own per-address budget, limited it).
            Assert.That(passed.Select(r => r.Status).Distinct(), Is.SubsetOf(new[] { HttpStatusCode.Unauthorized, HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests }));
        });
    }

    [Test]
    public async Task An_oversized_request_header_is_a_431_problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Edge}/instances");
        request.Headers.TryAddWithoutValidation("X-Oversized", new string('a', 20 * 1024));
        using var response = await http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo((HttpStatusCode)431));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetInt32(), Is.EqualTo(431));
    }

    [Test]
    public async Task A_body_over_1_MiB_is_a_413_problem()
    {
        using var content = new ByteArrayContent(new byte[1024 * 1024 + 1]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync($"{Edge}/jackpots/contribute/instance", content);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetInt32(), Is.EqualTo(413));
    }

    async Task NginxAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("nginx") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", Path.Combine(prefix, "nginx.conf"), "-p", prefix + "/" }.Concat(args)) psi.ArgumentList.Add(a);
        var result = await ChildProcess.RunAsync(psi, TimeSpan.FromSeconds(20));
        Assert.That(result.ExitCode, Is.Zero, result.Describe());
    }

    sealed record TokenAnswer(TimeSpan At, HttpStatusCode Status, string? MediaType, string? RetryAfter, string Body)
    {
        /// <summary>The edge's own 429 (its problem document), not one from Thrill-ID.</summary>
        public bool ByEdge => Status == HttpStatusCode.TooManyRequests && Body.Contains("than the edge allows", StringComparison.Ordinal);
    }
}
