using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf.Reflection;
using Npgsql;
using ThrillSuite.Grpc;
using ThrillSuite.Pots.V1;
using ThrillSuite.Testing;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// ThrillPots' contribution path as its real process (with Thrill-ID for the token) on PostgreSQL and RabbitMQ
/// (THRILLSUITE_TEST_PG / THRILLSUITE_TEST_RABBITMQ, which build/bench contributions starts), in three phases against the
/// same database: (a) v1 <c>POST /jackpots/contribute/instance</c> over HTTP/1.1 with many concurrent clients, (b) gRPC
/// <c>Contributions/ContributeBatch</c> with a few concurrent calls, (c) a naive baseline in this process: one transaction per
/// contribution (lock the pots, insert the ledger row, update the pots, commit) on tables of its own. Every contribution
/// carries a new gameround id and must be answered "accepted"; the run ends with ThrillPots' reconciliation.
/// Options: --seconds N (default 10, each phase after a 5 s warm-up), --concurrency N (HTTP clients, default 192),
/// --naive-concurrency N (naive clients, each holding a PostgreSQL connection; default the HTTP clients up to 128, which the
/// cluster's max_connections of 300 leaves room for beside ThrillPots' pool),
/// --http-client wrk|dotnet (default wrk when /usr/bin/wrk exists),
/// --grpc-concurrency N (default 4), --batch N (contributions per gRPC call, default 500), --instances N (default 4),
/// --other-brands N (default 0: brands of the operator registered beside the one contributing, as on a platform with many),
/// --server-env KEY=VALUE (extra environment for ThrillPots, repeatable: runtime settings to compare, e.g. DOTNET_GCgen0size).
/// </summary>
public static class ContributionsBenchmark
{
    const string Operator = "op", Brand = "brand";
    internal const string BrandId = Operator + ":" + Brand;
    // Contributions spread over this many players (per instance), as a game server's traffic would.
    internal const int Players = 16;
    // Connections opened, statements prepared, caches filled, as in a service that has been running a while.
    static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);

    public static async Task<BenchmarkResult> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 10);
        var concurrency = Option(args, "--concurrency", 192);
        var grpcConcurrency = Option(args, "--grpc-concurrency", 4);
        var naiveConcurrency = Option(args, "--naive-concurrency", Math.Min(concurrency, 128));
        var batch = Math.Min(Option(args, "--batch", 500), 5000); // ThrillPots' MaxBatch
        var instanceCount = Option(args, "--instances", 4);
        var otherBrands = Option(args, "--other-brands", 0);
        var serverEnv = ServerEnvironment(args);
        var duration = TimeSpan.FromSeconds(seconds);

        var idPort = TestEnvironment.FreePort();
        var potsPort = TestEnvironment.FreePort();
        var grpcPort = TestEnvironment.FreePort();
        var issuer = $"http://127.0.0.1:{idPort}";
        var adminUser = $"bench-admin-{Hex(6)}@bench.example";
        var adminPassword = "Bench-" + Hex(16);
        var potsConnection = TestEnvironment.UniqueDatabase("bench_thrillpots", out var potsDatabase);
        Console.Error.WriteLine($"==> starting ThrillId on {issuer} and ThrillPots on :{potsPort} (gRPC :{grpcPort}, database {potsDatabase})");
        var id = StartThrillId(idPort, TestEnvironment.UniqueDatabase("bench_thrillid", out var idDatabase), adminUser, adminPassword);
        var potsEnvironment = new Dictionary<string, string>
        {
            // As deployed: without Development's developer exception page and per-request DI scope validation.
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // As its image and build/up run it: the framework's precompiled code replaced by the JIT's (ThrillPots.csproj).
            ["DOTNET_ReadyToRun"] = "0",
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = potsPort.ToString(CultureInfo.InvariantCulture),
            ["Service__GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__thrillpots"] = potsConnection,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            // Only wins call ThrillGate, through the outbox; nothing listens there.
            ["Grpc__Endpoints__thrillgate"] = "http://127.0.0.1:1",
            ["Auth__Issuer"] = issuer,
        };
        foreach (var (key, value) in serverEnv) potsEnvironment[key] = value;
        var pots = ServiceProcess.Start("ThrillPots", potsPort, potsEnvironment);
        try
        {
            await Task.WhenAll(id.WaitReadyAsync(TimeSpan.FromSeconds(120)), pots.WaitReadyAsync(TimeSpan.FromSeconds(120)));
            using var admin = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            var token = await TokenAsync(admin, issuer, adminUser, adminPassword, Operator, [Brand], ["thrillpots"]);
            var instances = await SetUpInstancesAsync(admin, pots.BaseUrl, token, instanceCount, otherBrands);

            var calibrationBefore = Calibration.Milliseconds();
            // (a) HTTP, one contribution per request: wrk drives it where it is installed (build/bench installs it).
            var useWrk = OptionText(args, "--http-client") != "dotnet" && WrkLoad.Available;
            Console.Error.WriteLine($"==> (a) HTTP v1 ({(useWrk ? "wrk" : ".NET HttpClient")}): {concurrency} clients, {instanceCount} instances, " +
                $"{WarmUp.TotalSeconds:0} s warm-up + {seconds} s");
            HttpFigures httpRun;
            long httpWarmAccepted;
            CpuSample httpCpu;
            if (useWrk)
            {
                httpWarmAccepted = Check(await WrkLoad.RunAsync(pots.BaseUrl, token, instances, Players, concurrency, WarmUp, "wrk-warm"), "HTTP warm-up", pots).Accepted;
                httpCpu = new CpuSample(pots.Pid);
                var run = Check(await WrkLoad.RunAsync(pots.BaseUrl, token, instances, Players, concurrency, duration, "wrk-run"), "HTTP", pots);
                httpRun = new(run.PerSecond, run.P50Ms, run.P99Ms, run.Accepted,
                    $"{run.Accepted:#,0} contributions in {run.Accepted + run.Failed:#,0} calls, {run.Failed} errors, {run.Seconds:0.00} s, wrk");
            }
            else
            {
                using var http = HttpLoadClient(pots.BaseUrl, concurrency);
                var httpCall = HttpCall(http, token, instances);
                httpWarmAccepted = Check(await LoadAsync(concurrency, 1, WarmUp, httpCall), "HTTP warm-up", pots).Accepted;
                httpCpu = new CpuSample(pots.Pid);
                var run = Check(await LoadAsync(concurrency, 1, duration, httpCall), "HTTP", pots);
                httpRun = new(run.PerSecond, run.Percentile(0.50), run.Percentile(0.99), run.Accepted, run.Summary + ", .NET HttpClient");
            }

            var httpMachine = httpCpu.Read();

            // (b) gRPC batches.
            using var grpc = GrpcClient.ForAddress($"http://127.0.0.1:{grpcPort}");
            var grpcCall = GrpcCall(grpc, token, instances, batch);
            Console.Error.WriteLine($"==> (b) gRPC ContributeBatch: {grpcConcurrency} concurrent calls of {batch}, {WarmUp.TotalSeconds:0} s warm-up + {seconds} s");
            var grpcWarm = Check(await LoadAsync(grpcConcurrency, batch, WarmUp, grpcCall), "gRPC warm-up", pots);
            var grpcCpu = new CpuSample(pots.Pid);
            var grpcRun = Check(await LoadAsync(grpcConcurrency, batch, duration, grpcCall), "gRPC", pots);
            var grpcMachine = grpcCpu.Read();

            // (c) The naive baseline, on its own tables in ThrillPots' database.
            Console.Error.WriteLine($"==> (c) naive baseline: {naiveConcurrency} clients, one transaction per contribution, {WarmUp.TotalSeconds:0} s warm-up + {seconds} s");
            Phase naiveRun;
            await using (var naive = await NaiveBaseline.CreateAsync(potsConnection, instanceCount, naiveConcurrency))
            {
                Check(await LoadAsync(naiveConcurrency, 1, WarmUp, naive.ContributeAsync), "naive warm-up", pots);
                naiveRun = Check(await LoadAsync(naiveConcurrency, 1, duration, naive.ContributeAsync), "naive", pots);
            }

            var calibrationAfter = Calibration.Milliseconds();
            Console.Error.WriteLine("==> reconciliation");
            var answered = httpWarmAccepted + httpRun.Accepted + grpcWarm.Accepted + grpcRun.Accepted;
            // wrk stops each of its two phases with up to one request open per connection, unanswered but maybe committed.
            await ReconcileAsync(admin, pots.BaseUrl, token, answered, cutOff: useWrk ? 2L * concurrency : 0);

            Console.WriteLine($"   HTTP v1 contribute/instance  {httpRun.PerSecond,10:#,0}/s  p50 {httpRun.P50Ms,7:0.00} ms  p99 {httpRun.P99Ms,7:0.00} ms  ({httpRun.Summary})");
            Console.WriteLine($"   gRPC ContributeBatch ×{batch,-6} {grpcRun.PerSecond,10:#,0}/s  p50 {grpcRun.Percentile(0.50),7:0.00} ms  p99 {grpcRun.Percentile(0.99),7:0.00} ms per call  ({grpcRun.Summary})");
            Console.WriteLine($"   naive, 1 tx per contribution {naiveRun.PerSecond,10:#,0}/s  p50 {naiveRun.Percentile(0.50),7:0.00} ms  p99 {naiveRun.Percentile(0.99),7:0.00} ms  ({naiveRun.Summary})");
            Console.WriteLine($"   HTTP / naive {httpRun.PerSecond / naiveRun.PerSecond:0.00}×, gRPC batch / naive {grpcRun.PerSecond / naiveRun.PerSecond:0.00}×");
            var httpPotsUs = httpMachine.ServerSeconds * 1e6 / Math.Max(1, httpRun.Accepted);
            var grpcPotsUs = grpcMachine.ServerSeconds * 1e6 / Math.Max(1, grpcRun.Accepted);
            Console.WriteLine($"   machine, HTTP phase: ThrillPots {httpMachine.Server:0.00} cores ({httpPotsUs:0} µs per contribution), busy " +
                $"{httpMachine.MachineBusy:0.00} of {Environment.ProcessorCount} cores");
            Console.WriteLine($"   machine, gRPC phase: ThrillPots {grpcMachine.Server:0.00} cores ({grpcPotsUs:0.0} µs per contribution), busy " +
                $"{grpcMachine.MachineBusy:0.00} of {Environment.ProcessorCount} cores");
            Console.WriteLine($"   machine speed: a fixed single-threaded workload (100,000 JSON round trips) took {calibrationBefore:0} ms before the " +
                $"phases and {calibrationAfter:0} ms after them (lower is faster; compare runs only alongside it)");
            var met = httpRun.PerSecond >= 10_000 && httpRun.P99Ms <= 50 && grpcRun.PerSecond >= 30_000
                && Math.Min(httpRun.PerSecond, grpcRun.PerSecond) >= 5 * naiveRun.PerSecond;
            Console.WriteLine($"   targets (HTTP ≥ 10,000/s with p99 ≤ 50 ms, gRPC batch ≥ 30,000/s, each ≥ 5× naive): {(met ? "met" : "NOT met")}");
            return new BenchmarkResult("contributions",
                $"ThrillPots (real process, PostgreSQL with fsync): v1 POST /jackpots/contribute/instance over HTTP/1.1 loopback with {concurrency} clients; " +
                $"gRPC ContributeBatch of {batch} with {grpcConcurrency} concurrent calls; naive baseline (one transaction per contribution: " +
                $"select pots for update, insert ledger row, update pots, commit) with {naiveConcurrency} clients; {instanceCount} instances of 2 pots, {Players} players each" +
                (otherBrands > 0 ? $"; {otherBrands} other brands registered" : "") +
                string.Concat(serverEnv.Select(kv => $"; ThrillPots with {kv.Key}={kv.Value}")),
                [
                    ("http_per_s", httpRun.PerSecond),
                    ("http_p50_ms", httpRun.P50Ms),
                    ("http_p99_ms", httpRun.P99Ms),
                    ("grpc_batch_per_s", grpcRun.PerSecond),
                    ("grpc_batch_p50_ms", grpcRun.Percentile(0.50)),
                    ("grpc_batch_p99_ms", grpcRun.Percentile(0.99)),
                    ("naive_per_s", naiveRun.PerSecond),
                    ("naive_p50_ms", naiveRun.Percentile(0.50)),
                    ("naive_p99_ms", naiveRun.Percentile(0.99)),
                    ("http_vs_naive", httpRun.PerSecond / naiveRun.PerSecond),
                    ("grpc_batch_vs_naive", grpcRun.PerSecond / naiveRun.PerSecond),
                    ("http_thrillpots_cpu_us", httpPotsUs),
                    ("grpc_thrillpots_cpu_us", grpcPotsUs),
                    ("calibration_ms", calibrationBefore),
                    ("calibration_after_ms", calibrationAfter),
                    ("concurrency", concurrency),
                    ("naive_concurrency", naiveConcurrency),
                    ("grpc_concurrency", grpcConcurrency),
                    ("grpc_batch_size", batch),
                    ("instances", instanceCount),
                    ("other_brands", otherBrands),
                    ("duration_s", seconds),
                ]);
        }
        finally
        {
            Console.Error.WriteLine("==> stopping ThrillPots and ThrillId, dropping their databases");
            await Task.WhenAll(pots.DisposeAsync().AsTask(), id.DisposeAsync().AsTask());
            await DropDatabasesAsync([potsDatabase, idDatabase]);
        }
    }

    // ------------------------------------------------------------------ set-up

    /// <summary>Thrill-ID on http://127.0.0.1:<paramref name="port"/> (its issuer), bootstrapping the given admin.</summary>
    internal static ServiceProcess StartThrillId(int port, string connection, string adminUser, string adminPassword) =>
        ServiceProcess.Start("ThrillId", port, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__thrillid"] = connection,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = $"http://127.0.0.1:{port}",
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = adminUser,
            ["Bootstrap__AdminPassword"] = adminPassword,
        });

    /// <summary>
    /// As Thrill-ID's bootstrap admin: organisation <paramref name="operatorId"/> with <paramref name="units"/>, an
    /// organisation-level Service account holding &lt;system&gt;:*:write for each of <paramref name="systems"/> and its OAuth
    /// client; returns that client's client_credentials token.
    /// </summary>
    internal static async Task<string> TokenAsync(HttpClient http, string issuer, string adminUser, string adminPassword, string operatorId,
        string[] units, string[] systems)
    {
        var login = await SendAsync(http, HttpMethod.Post, issuer + "/accounts/auth", new { username = adminUser, password = adminPassword }, null, HttpStatusCode.OK);
        var admin = login.GetProperty("token").GetString()!;
        await SendAsync(http, HttpMethod.Post, issuer + "/admin/organisations", new { id = operatorId, units, enabled = true }, admin, HttpStatusCode.OK);
        var account = await SendAsync(http, HttpMethod.Post, issuer + "/admin/accounts", new
        {
            username = $"bench-svc-{Hex(6)}@bench.example",
            account_type = "Service",
            org_id = operatorId,
            permissions = systems.Select(s => new { system_id = s, permissions = new[] { new { resource_id = "*", permission = "Write" } } }).ToArray(),
            enabled = true,
        }, admin, HttpStatusCode.Created);
        var client = await SendAsync(http, HttpMethod.Post, $"{issuer}/admin/accounts/{account.GetProperty("id").GetString()}/clients", null, admin,
            HttpStatusCode.Created);
        using var response = await http.PostAsync(issuer + "/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = client.GetProperty("client_id").GetString()!,
            ["client_secret"] = client.GetProperty("client_secret").GetString()!,
        }));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"POST /oauth/token: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>
    /// Through ThrillPots' admin API: the operator, <paramref name="otherBrands"/> brands that send nothing, its brand, and
    /// <paramref name="count"/> Active instances of a never-winning template for the brand, each its own single writer.
    /// </summary>
    static async Task<Guid[]> SetUpInstancesAsync(HttpClient http, string pots, string token, int count, int otherBrands)
    {
        await SendAsync(http, HttpMethod.Post, pots + "/config/operators", new { id = Operator, name = "Bench operator" }, token, HttpStatusCode.Created);
        foreach (var chunk in Enumerable.Range(1, otherBrands).Chunk(1000))
            await SendAsync(http, HttpMethod.Post, $"{pots}/config/operators/{Operator}/brands",
                chunk.Select(i => new { id = $"other-{i}", name = $"Other brand {i}" }).ToArray(), token, HttpStatusCode.OK);
        await SendAsync(http, HttpMethod.Post, $"{pots}/config/operators/{Operator}/brands", new[] { new { id = Brand, name = "Bench brand" } }, token,
            HttpStatusCode.OK);
        return await PublishAndInstantiateAsync(http, pots, token, Operator, "Contributions benchmark", [.. Enumerable.Repeat<string[]>([BrandId], count)]);
    }

    /// <summary>
    /// Publishes a template of <paramref name="owner"/> without opt-in whose pots practically never win (HitRate 1 in 10^18;
    /// MustDropByValue somewhere in (100, 1,000,000]; Fixed 0.1 per contribution, 0.03 to the house, 0.04 and 0.03 to the pots),
    /// and one Active instance of it per entry of <paramref name="allowedBrands"/>.
    /// </summary>
    internal static async Task<Guid[]> PublishAndInstantiateAsync(HttpClient http, string pots, string token, string owner, string name,
        string[][] allowedBrands)
    {
        var template = await SendAsync(http, HttpMethod.Post, pots + "/templates", NeverWinningTemplate(owner, name), token, HttpStatusCode.Created);
        var templateId = template.GetProperty("id").GetString()!;
        await SendAsync(http, HttpMethod.Post, $"{pots}/templates/{templateId}/publish", new { }, token, HttpStatusCode.OK);
        var instances = new Guid[allowedBrands.Length];
        for (var i = 0; i < instances.Length; i++)
            instances[i] = (await SendAsync(http, HttpMethod.Post, pots + "/templates/instantiate",
                new { template_id = templateId, owner_id = owner, allowed_brands = allowedBrands[i] }, token, HttpStatusCode.Created))
                .GetProperty("id").GetGuid();
        return instances;
    }

    static JsonElement NeverWinningTemplate(string owner, string name) => JsonDocument.Parse($$"""
            {
              "name": "{{name}}", "owner_id": "{{owner}}", "currency": "EUR",
              "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.1 }, "operator_contribution_percentage": 0 },
              "house_hold_contribution": { "Percentage": 0.3 },
              "win_selector_strategy": "Highest",
              "pots": [
                { "id": "small", "contribution": { "Percentage": 0.4 }, "seed_contribution": { "Percentage": 0.5 },
                  "seed_strategy": { "initial_seed_value": 10, "min_reseed_value": 10, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
                  "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
                  "pot_types": [ { "HitRate": { "max_magic_number": 1000000000000000000, "cost_per_attempt": 0.1 } } ] },
                { "id": "big", "contribution": { "Percentage": 0.3 }, "seed_contribution": { "Percentage": 0.5 },
                  "seed_strategy": { "initial_seed_value": 100, "min_reseed_value": 100, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
                  "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
                  "pot_types": [ { "MustDropByValue": { "max_value": 1000000 } } ] }
              ]
            }
            """).RootElement;

    internal static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string url, object? body, string? bearer, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"{method} {url}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    // ------------------------------------------------------------------ load

    sealed record HttpFigures(double PerSecond, double P50Ms, double P99Ms, long Accepted, string Summary);

    static WrkLoad.Result Check(WrkLoad.Result result, string name, ServiceProcess pots)
    {
        if (result.Failed == 0) return result;
        Console.Error.WriteLine($"warning: {result.Failed} of {result.Accepted + result.Failed} contributions failed in the {name} phase; first: {result.FirstError}");
        if (result.Failed * 100 > result.Accepted + result.Failed)
            throw new InvalidOperationException($"more than 1% of the contributions failed in the {name} phase; first: {result.FirstError}\n" +
                $"--- ThrillPots{(pots.HasExited ? $" exited with code {pots.ExitCode}" : "")} ---\n{pots.Output[^Math.Min(4000, pots.Output.Length)..]}");
        return result;
    }

    /// <summary>What one call did: contributions answered "accepted", and how many were not, with the first reason why.</summary>
    internal readonly record struct CallOutcome(int Accepted, int Failed = 0, string? Error = null);

    /// <summary>One phase: latencies of the calls that failed nothing (Stopwatch ticks), counts in contributions.</summary>
    sealed record Phase(List<long> Latencies, long Calls, long Accepted, long Failed, IReadOnlyDictionary<string, long> ErrorKinds, TimeSpan Elapsed)
    {
        public double PerSecond => Accepted / Elapsed.TotalSeconds;

        public double Percentile(double p) => Latencies.Count == 0 ? double.NaN
            : Latencies[Math.Min(Latencies.Count - 1, (int)(p * Latencies.Count))] * 1000.0 / Stopwatch.Frequency;

        public string Summary => $"{Accepted:#,0} contributions in {Calls:#,0} calls, {Failed} errors, {Elapsed.TotalSeconds:0.00} s";
    }

    /// <summary>
    /// <paramref name="workers"/> callers run <paramref name="call"/> back to back for <paramref name="duration"/>; a call
    /// that throws a transport or database error counts its <paramref name="perCall"/> contributions as failed.
    /// </summary>
    static async Task<Phase> LoadAsync(int workers, int perCall, TimeSpan duration, Func<Task<CallOutcome>> call)
    {
        var errorKinds = new ConcurrentDictionary<string, long>();
        long calls = 0, accepted = 0, failed = 0;
        var total = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(async _ =>
        {
            var mine = new List<long>(4096);
            while (total.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                CallOutcome outcome;
                try
                {
                    outcome = await call();
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or RpcException or NpgsqlException)
                {
                    outcome = new CallOutcome(0, perCall, $"{ex.GetType().Name}: {Truncate(ex.Message)}");
                }
                var latency = Stopwatch.GetTimestamp() - start;
                Interlocked.Increment(ref calls);
                Interlocked.Add(ref accepted, outcome.Accepted);
                if (outcome.Failed == 0)
                    mine.Add(latency);
                else
                {
                    Interlocked.Add(ref failed, outcome.Failed);
                    errorKinds.AddOrUpdate(outcome.Error!, outcome.Failed, (_, n) => n + outcome.Failed);
                }
            }
            return mine;
        }).ToList();
        var latencies = (await Task.WhenAll(tasks)).SelectMany(l => l).ToList();
        var elapsed = total.Elapsed;
        latencies.Sort();
        return new Phase(latencies, calls, accepted, failed, errorKinds, elapsed);
    }

    /// <summary>Fails the benchmark when more than 1% of the contributions were not accepted, naming what happened instead.</summary>
    static Phase Check(Phase phase, string name, ServiceProcess pots)
    {
        if (phase.Failed == 0) return phase;
        var kinds = string.Join("\n", phase.ErrorKinds.OrderByDescending(k => k.Value).Take(10).Select(k => $"     {k.Value,8} × {k.Key}"));
        Console.Error.WriteLine($"warning: {phase.Failed} of {phase.Accepted + phase.Failed} contributions failed in the {name} phase:\n{kinds}");
        if (phase.Failed * 100 > phase.Accepted + phase.Failed)
        {
            var output = pots.Output.Split('\n');
            throw new InvalidOperationException(
                $"more than 1% of the contributions failed in the {name} phase ({phase.Failed} of {phase.Accepted + phase.Failed}); aborting.\n{kinds}\n" +
                $"--- ThrillPots{(pots.HasExited ? $" exited with code {pots.ExitCode}" : "")}, last lines ---\n{string.Join('\n', output[^Math.Min(40, output.Length)..])}");
        }
        return phase;
    }

    /// <summary>
    /// A v1 by-instance contribution per call, round-robin over the instances and <see cref="Players"/> players, gameround ids
    /// h1, h2, ... The JSON bodies are precomputed up to the gameround id, which goes last; the answer must be 200 "accepted".
    /// </summary>
    static Func<Task<CallOutcome>> HttpCall(HttpClient http, string token, Guid[] instances)
    {
        var prefixes = Enumerable.Range(0, instances.Length * Players).Select(k => Encoding.UTF8.GetBytes(
            $$"""{"token":"session-token","brand_id":"{{BrandId}}","player_id":"p{{k / instances.Length}}","player_country":"MT","instance_id":"{{instances[k % instances.Length]}}","currency":"EUR","base_wager":1,"metadata":{"bet_id":"b-1"},"gameround_id":"h""")).ToArray();
        var bearer = new AuthenticationHeaderValue("Bearer", token);
        var json = new MediaTypeHeaderValue("application/json");
        long sequence = 0;
        return async () =>
        {
            var seq = Interlocked.Increment(ref sequence);
            var prefix = prefixes[seq % prefixes.Length];
            var body = new byte[prefix.Length + 22];
            prefix.CopyTo(body, 0);
            Utf8Formatter.TryFormat(seq, body.AsSpan(prefix.Length), out var digits);
            "\"}"u8.CopyTo(body.AsSpan(prefix.Length + digits));
            using var request = new HttpRequestMessage(HttpMethod.Post, "/jackpots/contribute/instance")
            {
                Content = new ByteArrayContent(body, 0, prefix.Length + digits + 2),
            };
            request.Content.Headers.ContentType = json;
            request.Headers.Authorization = bearer;
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            var answer = await response.Content.ReadAsByteArrayAsync();
            return response.StatusCode == HttpStatusCode.OK && answer.AsSpan().IndexOf("\"outcome\":\"accepted\""u8) >= 0
                ? new CallOutcome(1)
                : new CallOutcome(0, 1, $"{(int)response.StatusCode} {Truncate(Encoding.UTF8.GetString(answer))}");
        };
    }

    /// <summary>One HttpClient for all clients: a connection each, kept for the whole run.</summary>
    static HttpClient HttpLoadClient(string baseAddress, int concurrency) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
        })
        { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30) };

    static readonly MethodDescriptor ContributeBatch =
        PotsReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Contributions").FindMethodByName("ContributeBatch");

    /// <summary>
    /// A ContributeBatch of <paramref name="batch"/> contributions per call, its elements round-robin over the instances and
    /// players (so one call feeds every writer), gameround ids g1, g2, ...; each element's result must be "accepted".
    /// </summary>
    static Func<Task<CallOutcome>> GrpcCall(GrpcClient grpc, string token, Guid[] instances, int batch)
    {
        var targets = instances.Select(i => new Target { Type = "instance", Id = i.ToString() }).ToArray();
        var headers = new Metadata().Add("authorization", "Bearer " + token);
        long sequence = 0;
        return async () =>
        {
            var first = Interlocked.Add(ref sequence, batch) - batch + 1;
            var request = new ContributeBatchRequest();
            for (var seq = first; seq < first + batch; seq++)
                request.Contributions.Add(new Contribution
                {
                    Target = targets[seq % targets.Length],
                    BrandId = BrandId,
                    PlayerId = "p" + (seq / targets.Length % Players).ToString(CultureInfo.InvariantCulture),
                    PlayerCountry = "MT",
                    Token = "session-token",
                    GameroundId = "g" + seq.ToString(CultureInfo.InvariantCulture),
                    Currency = "EUR",
                    BaseWager = "1",
                    MetadataJson = """{"bet_id":"b-1"}""",
                });
            var reply = await grpc.UnaryAsync<ContributeBatchReply>(ContributeBatch, request, CallOptions.WithTimeout(TimeSpan.FromSeconds(60), headers));
            int accepted = 0, failed = batch - reply.Results.Count;
            string? error = failed > 0 ? $"{reply.Results.Count} results for {batch} contributions" : null;
            foreach (var result in reply.Results)
            {
                if (result.Items is [{ Outcome: "accepted" }])
                    accepted++;
                else
                {
                    failed++;
                    error ??= result.Items.Count == 1 ? $"{result.Items[0].Outcome} {result.Items[0].Reason}: {Truncate(result.Items[0].Detail)}" : $"{result.Items.Count} results";
                }
            }
            return new CallOutcome(accepted, failed, error);
        };
    }

    /// <summary>
    /// Per instance and pot, the ledger must explain the stored value (ThrillPots' <c>GET /reconciliation</c>), and every
    /// contribution answered "accepted" must be in the ledger, and the ledger may hold no more than what was sent; fails the
    /// benchmark otherwise. <paramref name="cutOff"/>: requests a load generator stopped waiting for when a timed phase ended
    /// (wrk drops its open requests), which may be in the ledger without an answer having been counted.
    /// </summary>
    internal static async Task ReconcileAsync(HttpClient http, string pots, string token, long answered, long cutOff = 0)
    {
        var report = await SendAsync(http, HttpMethod.Get, pots + "/reconciliation", null, token, HttpStatusCode.OK);
        var balanced = report.GetProperty("balanced").GetBoolean();
        long rows = 0;
        var errors = new List<string>();
        foreach (var instance in report.GetProperty("instances").EnumerateArray())
        {
            var ledger = instance.GetProperty("ledger");
            rows += ledger.GetProperty("contributions").GetInt64();
            Console.WriteLine($"   instance {instance.GetProperty("instance_id").GetString()}  {(instance.GetProperty("balanced").GetBoolean() ? "balanced" : "UNBALANCED")}  " +
                $"{ledger.GetProperty("contributions").GetInt64(),10:#,0} ledger rows, value {ledger.GetProperty("contribution_value").GetDecimal():#,0.00}, " +
                $"{ledger.GetProperty("wins").GetInt64()} wins");
            errors.AddRange(instance.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!));
        }
        Console.WriteLine($"   reconciliation {(balanced ? "balanced" : "UNBALANCED")}: {rows:#,0} ledger rows, {answered:#,0} contributions answered \"accepted\" (warm-ups included)" +
            (cutOff > 0 ? $", {rows - answered:#,0} more in the ledger (≤ {cutOff:#,0} requests open when wrk stopped a phase)" : ""));
        if (!balanced) throw new InvalidOperationException("ThrillPots' reconciliation is unbalanced:\n" + string.Join("\n", errors));
        if (rows < answered) throw new InvalidOperationException($"{answered - rows} contributions answered \"accepted\" are missing from the ledger");
        if (rows > answered + cutOff)
            throw new InvalidOperationException($"the ledger holds {rows - answered - cutOff} more contributions than were sent (counted twice?)");
    }

    /// <summary>Drops the run's databases; one that cannot be dropped is a warning, not a failed run.</summary>
    internal static async Task DropDatabasesAsync(IEnumerable<string> databases)
    {
        foreach (var database in databases)
        {
            try { await TestEnvironment.DropDatabaseAsync(database); }
            catch (Exception ex) { Console.Error.WriteLine($"warning: could not drop database {database}: {ex.Message}"); }
        }
    }

    internal static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    internal static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
