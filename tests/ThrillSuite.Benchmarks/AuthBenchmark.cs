using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.Testing;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// Thrill-ID as its real process on PostgreSQL and RabbitMQ (THRILLSUITE_TEST_PG / THRILLSUITE_TEST_RABBITMQ, which
/// build/bench auth starts): client-credentials token issuance over HTTP with a fixed number of concurrent callers,
/// then local validation of issued tokens on every core, as resource services do (keys from the JWKS).
/// Options: --seconds N (default 10, each phase), --concurrency N (default 16).
/// </summary>
public static class AuthBenchmark
{
    const string Audience = "thrillsuite";
    const int TokensToValidate = 1000;
    // Token requests are limited per client address (Login:PerAddressPerMinute, at most 100000); connections come from
    // this many loopback addresses so a long run is never throttled by the limit.
    const int SourceAddresses = 16;

    public static async Task<BenchmarkResult> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 10);
        var concurrency = Option(args, "--concurrency", 16);

        var port = TestEnvironment.FreePort();
        var connection = TestEnvironment.UniqueDatabase("bench_thrillid", out var database);
        var issuer = $"http://127.0.0.1:{port}";
        var adminUser = $"bench-admin-{Hex(6)}@bench.example";
        var adminPassword = "Bench-" + Hex(16);
        var environment = new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__thrillid"] = connection,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = issuer,
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = adminUser,
            ["Bootstrap__AdminPassword"] = adminPassword,
            ["Login__PerAddressPerMinute"] = "100000", // the largest value Thrill-ID accepts
        };

        Console.Error.WriteLine($"==> starting ThrillId on {issuer} (database {database})");
        var service = ServiceProcess.Start("ThrillId", port, environment);
        try
        {
            await service.WaitReadyAsync(TimeSpan.FromSeconds(120));
            using var http = Client(issuer, concurrency);
            var client = await SetUpClientAsync(http, adminUser, adminPassword);

            // 1. Token issuance over HTTP.
            Console.Error.WriteLine($"==> token issuance: {concurrency} callers, 2 s warm-up + {seconds} s");
            var tokens = new ConcurrentQueue<string>();
            var warmUp = await RunTokenLoadAsync(http, client, concurrency, TimeSpan.FromSeconds(2), tokens);
            CheckErrors(warmUp, "warm-up", service);
            var load = await RunTokenLoadAsync(http, client, concurrency, TimeSpan.FromSeconds(seconds), tokens);
            CheckErrors(load, "measured run", service);
            var latencies = load.Latencies;
            latencies.Sort();
            double Percentile(double p) => latencies.Count == 0 ? double.NaN
                : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))] * 1000.0 / Stopwatch.Frequency;
            var tokensPerSecond = load.Successes / load.Elapsed.TotalSeconds;

            // 2. Local validation, as a resource service does it.
            var sample = tokens.ToArray();
            Console.Error.WriteLine($"==> local validation: {sample.Length} tokens, {Environment.ProcessorCount} workers, {seconds} s");
            var (validations, validationElapsed) = await RunValidationAsync(issuer, sample, TimeSpan.FromSeconds(seconds));
            var validationsPerSecond = validations / validationElapsed.TotalSeconds;

            Console.WriteLine($"   tokens issued            {load.Successes,16:#,0} in {load.Elapsed.TotalSeconds:0.00} s ({load.Attempts:#,0} requests, {load.Errors} errors)");
            Console.WriteLine($"   tokens validated         {validations,16:#,0} in {validationElapsed.TotalSeconds:0.00} s ({sample.Length} distinct tokens, {Environment.ProcessorCount} workers)");
            return new BenchmarkResult("auth",
                $"Thrill-ID (real process, PostgreSQL): client_credentials POST /oauth/token over HTTP/1.1 loopback with {concurrency} concurrent callers; " +
                $"local ES256 validation of issued tokens against the JWKS on {Environment.ProcessorCount} cores",
                [
                    ("tokens_per_s", tokensPerSecond),
                    ("token_p50_ms", Percentile(0.50)),
                    ("token_p99_ms", Percentile(0.99)),
                    ("validations_per_s", validationsPerSecond),
                    ("token_errors", load.Errors),
                    ("concurrency", concurrency),
                    ("duration_s", load.Elapsed.TotalSeconds),
                ]);
        }
        finally
        {
            Console.Error.WriteLine("==> stopping ThrillId, dropping its database");
            await service.DisposeAsync();
            try { await TestEnvironment.DropDatabaseAsync(database); }
            catch (Exception ex) { Console.Error.WriteLine($"warning: could not drop database {database}: {ex.Message}"); }
        }
    }

    sealed record OAuthClient(string Id, string Secret);

    /// <summary>As the bootstrap admin: an organisation, a Service account with a few permissions, and its OAuth client.</summary>
    static async Task<OAuthClient> SetUpClientAsync(HttpClient http, string adminUser, string adminPassword)
    {
        var login = await PostJsonAsync(http, "/accounts/auth", new { username = adminUser, password = adminPassword }, null, HttpStatusCode.OK);
        var admin = login.GetProperty("token").GetString()!;
        var org = "bench-" + Hex(5);
        await PostJsonAsync(http, "/admin/organisations", new { id = org, units = new[] { "u1", "u2" }, enabled = true }, admin, HttpStatusCode.OK);
        var account = await PostJsonAsync(http, "/admin/accounts", new
        {
            username = $"bench-service-{Hex(6)}@bench.example",
            password = "Bench-" + Hex(16),
            account_type = "Service",
            org_id = org,
            permissions = new object[]
            {
                new { system_id = "thrillpots", permissions = new object[] { new { resource_id = "instances", permission = "Write" }, new { resource_id = "jackpots", permission = "Read" } } },
                new { system_id = "thrillgate", permissions = new object[] { new { resource_id = "freebets", permission = "Read" } } },
            },
            enabled = true,
        }, admin, HttpStatusCode.Created);
        var created = await PostJsonAsync(http, $"/admin/accounts/{account.GetProperty("id").GetString()}/clients", null, admin, HttpStatusCode.Created);
        return new OAuthClient(created.GetProperty("client_id").GetString()!, created.GetProperty("client_secret").GetString()!);
    }

    static async Task<JsonElement> PostJsonAsync(HttpClient http, string path, object? body, string? bearer, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"POST {path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    sealed record TokenLoad(List<long> Latencies, long Attempts, long Successes, long Errors, IReadOnlyDictionary<string, int> ErrorKinds, TimeSpan Elapsed);

    /// <summary>
    /// Workers POST client_credentials (client_secret_basic) back to back for <paramref name="duration"/>. Any answer but
    /// 200 is an error. The first <see cref="TokensToValidate"/> access tokens go to <paramref name="tokens"/>.
    /// </summary>
    static async Task<TokenLoad> RunTokenLoadAsync(HttpClient http, OAuthClient client, int concurrency, TimeSpan duration, ConcurrentQueue<string> tokens)
    {
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            Uri.EscapeDataString(client.Id) + ":" + Uri.EscapeDataString(client.Secret))));
        var form = "grant_type=client_credentials"u8.ToArray();
        var formType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        var errorKinds = new ConcurrentDictionary<string, int>();
        long attempts = 0, errors = 0;

        var total = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var mine = new List<long>(100_000);
            while (total.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                string? error = null;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token") { Content = new ByteArrayContent(form) };
                    request.Content.Headers.ContentType = formType;
                    request.Headers.Authorization = basic;
                    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                        error = $"{(int)response.StatusCode} {Truncate(Encoding.UTF8.GetString(body))}";
                    else if (tokens.Count < TokensToValidate)
                    {
                        using var json = JsonDocument.Parse(body);
                        tokens.Enqueue(json.RootElement.GetProperty("access_token").GetString()!);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    error = $"{ex.GetType().Name}: {Truncate(ex.Message)}";
                }
                Interlocked.Increment(ref attempts);
                if (error is null)
                    mine.Add(Stopwatch.GetTimestamp() - start);
                else
                {
                    Interlocked.Increment(ref errors);
                    errorKinds.AddOrUpdate(error, 1, (_, n) => n + 1);
                }
            }
            return mine;
        }).ToList();
        var all = (await Task.WhenAll(workers)).SelectMany(l => l).ToList();
        var elapsed = total.Elapsed;
        return new TokenLoad(all, attempts, all.Count, errors, errorKinds, elapsed);
    }

    /// <summary>Fails the benchmark when more than 1% of the requests did not answer 200, naming what they answered.</summary>
    static void CheckErrors(TokenLoad load, string phase, ServiceProcess service)
    {
        if (load.Errors == 0) return;
        var kinds = string.Join("\n", load.ErrorKinds.OrderByDescending(k => k.Value).Take(10).Select(k => $"     {k.Value,8} × {k.Key}"));
        Console.Error.WriteLine($"warning: {load.Errors} of {load.Attempts} token requests failed in the {phase}:\n{kinds}");
        if (load.Errors * 100 > load.Attempts || load.Successes == 0)
            throw new InvalidOperationException(
                $"more than 1% of the token requests failed in the {phase} ({load.Errors} of {load.Attempts}); aborting.\n{kinds}" +
                (service.HasExited ? $"\n--- ThrillId exited with code {service.ExitCode} ---\n{service.Output}" : ""));
    }

    /// <summary>
    /// Validates the tokens in a loop on every core with the resource services' parameters (ServiceDefaults
    /// <see cref="TokenValidation"/>): signature by a key of Thrill-ID's JWKS (ES256/RS256 only), issuer, audience,
    /// lifetime with 30 s skew. Every validation must succeed.
    /// </summary>
    static async Task<(long Validations, TimeSpan Elapsed)> RunValidationAsync(string issuer, string[] tokens, TimeSpan duration)
    {
        if (tokens.Length == 0) throw new InvalidOperationException("no token was issued to validate");
        using var jwksHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var keys = new JwksSigningKeySource(new Uri(issuer + "/.well-known/jwks.json"), jwksHttp, NullLogger<JwksSigningKeySource>.Instance);
        if (keys.GetKeys(null).Count == 0) throw new InvalidOperationException($"no key in {issuer}/.well-known/jwks.json");
        var parameters = new TokenValidationSettings(issuer, [Audience]).Parameters(keys);
        var handler = new JsonWebTokenHandler { MapInboundClaims = false };

        async Task ValidateAsync(string token)
        {
            var result = await handler.ValidateTokenAsync(token, parameters);
            if (!result.IsValid)
                throw new InvalidOperationException($"an issued token did not validate: {result.Exception?.Message}");
        }

        // Every token once (JIT, signature provider cache), which also asserts that all of them validate.
        foreach (var token in tokens) await ValidateAsync(token);

        var workers = Environment.ProcessorCount;
        var total = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Factory.StartNew(async () =>
        {
            long n = 0;
            var i = w * tokens.Length / workers;
            while (total.Elapsed < duration)
            {
                for (var batch = 0; batch < 64; batch++)
                {
                    await ValidateAsync(tokens[i]);
                    if (++i == tokens.Length) i = 0;
                    n++;
                }
            }
            return n;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()));
        var elapsed = total.Elapsed;
        return (counts.Sum(), elapsed);
    }

    /// <summary>One HttpClient for all callers: a connection per caller, each from one of <see cref="SourceAddresses"/> loopback addresses.</summary>
    static HttpClient Client(string baseAddress, int concurrency)
    {
        var next = 0;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(concurrency, 4),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, ct) =>
            {
                var source = new IPAddress([127, 0, 0, (byte)(1 + Interlocked.Increment(ref next) % SourceAddresses)]);
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30) };
    }

    static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
