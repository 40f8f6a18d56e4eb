using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf.Reflection;
using MassTransit;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Grpc;
using ThrillSuite.Testing;
using static ThrillSuite.Benchmarks.ContributionsBenchmark;
using GateV1 = ThrillSuite.Gate.V1;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// The wallet integration as real processes (Thrill-ID, ReferenceWallet, ThrillGate, ThrillPots) on PostgreSQL and RabbitMQ
/// (THRILLSUITE_TEST_PG / THRILLSUITE_TEST_RABBITMQ, which build/bench wallet starts). One operator with brand <c>w</c> (wallet
/// integration on, ThrillGate's wallet definition pointing at the reference wallet) and brand <c>n</c> (none), one never-winning
/// instance each, reference-wallet players of <c>w</c> with large EUR balances.
/// (1) credits/s: CreditWin commands sent to ThrillGate's queue from this process, as ThrillPots' outbox relay sends them, timed
/// from the first send to the wallet's timestamp of the last credit (exact; completion itself is polled once a second, and also
/// requires ThrillGate to have none queued, pending or failed). The wallet's ledger must then hold exactly those credits, once
/// each, for the amount sent.
/// (2) debit latency: v1 contributions with a few concurrent clients to the <c>w</c> instance (each debited from the wallet
/// through ThrillGate's gRPC) and to the <c>n</c> instance (no debit); to show where the added time goes, also ThrillGate's
/// AuthenticatePlayer + Debit called directly (what ThrillPots calls per w contribution) and the wallet's Debit called directly
/// (what ThrillGate calls). The four paths alternate in blocks so that drifting load on a shared machine hits them alike. Every
/// debit must be in the wallet once, none cancelled, and ThrillPots' reconciliation must balance.
/// Any error answer or failed check aborts the run with the first error.
/// Options: --credits N (default 5000), --contributions N (per path, default 2000), --concurrency N (default 4),
/// --players N (default 32).
/// </summary>
public static class WalletBenchmark
{
    const string Operator = "wop", WalletBrand = "w", PlainBrand = "n";
    const string WalletBrandId = Operator + ":" + WalletBrand, PlainBrandId = Operator + ":" + PlainBrand;
    // Far more than a run can move, so no debit is ever refused for funds.
    const decimal StartingBalance = 10_000_000m;
    const decimal CreditAmount = 1.00m;
    // The template's Fixed contribution, which is what a w contribution debits (EUR, rate 1); the direct debits take the same.
    const decimal DebitAmount = 0.10m;
    // Per path before the measured blocks, and credits before the measured ones: connections, JIT, ThrillGate's player cache.
    const int WarmUp = 100;
    // Measured calls are sent as this many rounds of one block per path.
    const int Blocks = 4;
    static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);
    // No credit paid for this long is a stall, not a slow run.
    static readonly TimeSpan StallAfter = TimeSpan.FromSeconds(60);
    // /sim/transactions answers at most this many rows per query.
    const int WalletListLimit = 10_000;
    // Transaction id prefixes of the debits this benchmark makes itself (ThrillPots' are "contrib-...").
    const string GateDebitPrefix = "bench-gate-", WalletDebitPrefix = "bench-wallet-";

    public static async Task<BenchmarkResult> RunAsync(string[] args)
    {
        var creditCount = Option(args, "--credits", 5000);
        var callCount = Option(args, "--contributions", 2000);
        var concurrency = Option(args, "--concurrency", 4);
        var playerCount = Option(args, "--players", 32);
        // Each player's ledger is read in one /sim/transactions call.
        if ((creditCount + 3 * (callCount + WarmUp)) / playerCount + 1 >= WalletListLimit)
            throw new InvalidOperationException($"--players {playerCount} is too few to verify the wallet's ledger (at most {WalletListLimit} transactions a player)");

        var idPort = TestEnvironment.FreePort();
        var walletPort = TestEnvironment.FreePort();
        var gatePort = TestEnvironment.FreePort();
        var gateGrpcPort = TestEnvironment.FreePort();
        var potsPort = TestEnvironment.FreePort();
        var potsGrpcPort = TestEnvironment.FreePort();
        var issuer = $"http://127.0.0.1:{idPort}";
        var adminUser = $"bench-admin-{Hex(6)}@bench.example";
        var adminPassword = "Bench-" + Hex(16);
        var walletSecret = Hex(24);
        var walletAdmin = Hex(24);
        var databases = new List<string>();
        string Database(string prefix)
        {
            var connection = TestEnvironment.UniqueDatabase(prefix, out var name);
            databases.Add(name);
            return connection;
        }
        static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

        Console.Error.WriteLine($"==> starting ThrillId :{idPort}, ReferenceWallet :{walletPort}, ThrillGate :{gatePort} (gRPC :{gateGrpcPort}), " +
            $"ThrillPots :{potsPort} (gRPC :{potsGrpcPort})");
        var id = ServiceProcess.Start("ThrillId", idPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = Port(idPort),
            ["ConnectionStrings__thrillid"] = Database("bench_thrillid"),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = issuer,
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = adminUser,
            ["Bootstrap__AdminPassword"] = adminPassword,
        });
        // The measured services as deployed: without Development's developer exception page and per-request DI scope validation.
        var wallet = ServiceProcess.Start("ReferenceWallet", walletPort, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = Port(walletPort),
            ["ConnectionStrings__referencewallet"] = Database("bench_refwallet"),
            ["Wallet__Secret"] = walletSecret,
            ["Wallet__AdminToken"] = walletAdmin,
        });
        var gate = ServiceProcess.Start("ThrillGate", gatePort, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = Port(gatePort),
            ["Service__GrpcPort"] = Port(gateGrpcPort),
            ["ConnectionStrings__thrillgate"] = Database("bench_thrillgate"),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Auth__Issuer"] = issuer,
            ["Wallets__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["DOTNET_PerfMapEnabled"] = "1", ["DOTNET_EnableWriteXorExecute"] = "0", ["DOTNET_ReadyToRun"] = "0", //TEMP
        });
        var pots = ServiceProcess.Start("ThrillPots", potsPort, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = Port(potsPort),
            ["Service__GrpcPort"] = Port(potsGrpcPort),
            ["ConnectionStrings__thrillpots"] = Database("bench_thrillpots"),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Grpc__Endpoints__thrillgate"] = $"http://127.0.0.1:{gateGrpcPort}",
            ["DOTNET_PerfMapEnabled"] = "1", ["DOTNET_EnableWriteXorExecute"] = "0", ["DOTNET_ReadyToRun"] = "0", //TEMP
            ["Auth__Issuer"] = issuer,
        });
        var services = new Services(id, wallet, gate, pots, gateGrpcPort);
        IBusControl? bus = null;
        try
        {
            await Task.WhenAll(services.All.Select(s => s.WaitReadyAsync(TimeSpan.FromSeconds(120))));
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseCookies = false }) { Timeout = TimeSpan.FromMinutes(2) };
            var token = await TokenAsync(http, issuer, adminUser, adminPassword, Operator, [WalletBrand, PlainBrand], ["thrillpots", "thrillgate"]);
            var setup = await SetUpAsync(http, services, token, walletAdmin, walletSecret, playerCount);

            bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(new Uri(TestEnvironment.RabbitMq), h => h.PublisherConfirmation = true));
            using (var started = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
                await bus.StartAsync(started.Token);

            Console.Error.WriteLine($"==> (1) credits: {creditCount:#,0} CreditWin of {CreditAmount} EUR to queue {CreditWin.Queue}, over {playerCount} players");
            var credits = await CreditsAsync(bus, http, services, setup, creditCount);

            Console.Error.WriteLine($"==> (2) debit latency: {WarmUp} warm-up + {callCount:#,0} calls per path, {concurrency} clients, {Blocks} rounds of " +
                "n, w, ThrillGate, wallet blocks");
            var paths = await DebitLatencyAsync(services, setup, callCount, concurrency);
            var (plain, integrated, gateDebit, walletDebit) = (paths[0], paths[1], paths[2], paths[3]);

            Console.Error.WriteLine("==> verification: the wallet's ledger and ThrillPots' reconciliation");
            await VerifyDebitsAsync(http, services, setup, WarmUp + creditCount, integrated.Calls, gateDebit.Calls, walletDebit.Calls);
            await ReconcileAsync(http, pots.BaseUrl, token, plain.Calls + integrated.Calls);

            var added = integrated.P50 - plain.P50;
            var ownGate = gateDebit.P50 - walletDebit.P50;
            var ownPots = integrated.P50 - plain.P50 - gateDebit.P50;
            Console.WriteLine($"   credits paid                {credits.PerSecond,8:#,0}/s  ({creditCount:#,0} CreditWin: {credits.Seconds:0.00} s from the first send to the " +
                $"wallet's last credit; sending took {credits.SendSeconds:0.00} s)");
            Console.WriteLine($"   CPU per credit              {services.Describe(credits.Cpu, creditCount)}  (until the services were quiet again, " +
                $"{credits.QuietSeconds:0.0} s after the last credit)");
            foreach (var path in paths)
                Console.WriteLine($"   {path.Name,-27} p50 {path.P50,7:0.00} ms  p99 {path.P99,7:0.00} ms  {path.PerSecond,6:#,0}/s  " +
                    $"CPU per call {services.Describe(path.Cpu, path.Measured)}");
            Console.WriteLine($"   debit added (w − n)         p50 {added,7:0.00} ms: the wallet's Debit {walletDebit.P50:0.00} ms, ThrillGate's own {ownGate:0.00} ms, " +
                $"ThrillPots' own {ownPots:0.00} ms (p50 differences)");
            return new BenchmarkResult("wallet",
                $"ReferenceWallet, ThrillGate, ThrillPots, Thrill-ID as real processes (PostgreSQL with fsync, RabbitMQ): {creditCount} CreditWin " +
                $"sent to {CreditWin.Queue} and paid by ThrillGate into the reference wallet ({playerCount} players); per path {callCount} calls " +
                $"with {concurrency} clients: v1 POST /jackpots/contribute/instance to brand w (debits the wallet through ThrillGate) and brand n " +
                "(no wallet), ThrillGate gRPC AuthenticatePlayer + Debit, the wallet's POST /wallet/transaction Debit",
                [
                    ("credits_per_s", credits.PerSecond),
                    ("credits_s", credits.Seconds),
                    ("credits_send_s", credits.SendSeconds),
                    ("credit_cpu_ms", services.Total(credits.Cpu) / creditCount * 1000),
                    ("debit_added_p50_ms", added),
                    ("with_wallet_p50_ms", integrated.P50),
                    ("with_wallet_p99_ms", integrated.P99),
                    ("with_wallet_per_s", integrated.PerSecond),
                    ("without_wallet_p50_ms", plain.P50),
                    ("without_wallet_p99_ms", plain.P99),
                    ("without_wallet_per_s", plain.PerSecond),
                    ("debit_added_cpu_ms", (services.Total(integrated.Cpu) / integrated.Measured - services.Total(plain.Cpu) / plain.Measured) * 1000),
                    ("gate_debit_p50_ms", gateDebit.P50),
                    ("gate_debit_p99_ms", gateDebit.P99),
                    ("wallet_debit_p50_ms", walletDebit.P50),
                    ("wallet_debit_p99_ms", walletDebit.P99),
                    ("credits", creditCount),
                    ("contributions", callCount),
                    ("warm_up", WarmUp),
                    ("concurrency", concurrency),
                    ("players", playerCount),
                ]);
        }
        finally
        {
            Console.Error.WriteLine("==> stopping the services, dropping their databases");
            if (bus is not null) await bus.StopAsync();
            await Task.WhenAll(services.All.Select(s => s.DisposeAsync().AsTask()));
            foreach (var database in databases)
            {
                try { await TestEnvironment.DropDatabaseAsync(database); }
                catch (Exception ex) { Console.Error.WriteLine($"warning: could not drop database {database}: {ex.Message}"); }
            }
        }
    }

    /// <summary>The four processes, their output for failure reports, and the CPU time each has used (Linux /proc).</summary>
    sealed record Services(ServiceProcess Id, ServiceProcess Wallet, ServiceProcess Gate, ServiceProcess Pots, int GateGrpcPort)
    {
        public ServiceProcess[] All => [Gate, Wallet, Pots, Id];

        public string Tails(int lines = 25) => string.Join("\n", All.Select(s =>
        {
            var output = s.Output.Split('\n');
            return $"--- {s.Name}{(s.HasExited ? $" exited with code {s.ExitCode}" : "")}, last lines ---\n" +
                string.Join('\n', output[^Math.Min(lines, output.Length)..]);
        }));

        /// <summary>CPU seconds (user + system) used so far by each service; empty where /proc is not readable.</summary>
        public double[] Cpu()
        {
            try
            {
                return [.. All.Select(s =>
                {
                    var stat = File.ReadAllText($"/proc/{s.Pid}/stat");
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    // utime and stime, in clock ticks of 1/100 s (USER_HZ on Linux).
                    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
                })];
            }
            catch (IOException)
            {
                return [];
            }
        }

        public static double[] Minus(double[] after, double[] before) =>
            after.Length == before.Length ? [.. after.Zip(before, (a, b) => a - b)] : [];

        public double Total(double[] cpu) => cpu.Length == 0 ? double.NaN : cpu.Sum();

        public string Describe(double[] cpu, long items) => cpu.Length == 0 ? "n/a"
            : string.Join(", ", All.Select((s, i) => $"{s.Name} {cpu[i] / items * 1000:0.00}")) + " ms";

        /// <summary>
        /// Waits until the services together use under a tenth of a core for a second: what the last phase set going (ThrillGate's
        /// WinCredited events relayed to ThrillPots after the credits were paid) must not run into the next one's measurement.
        /// </summary>
        public async Task<TimeSpan> QuietAsync()
        {
            var clock = Stopwatch.StartNew();
            var before = Cpu();
            while (clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                var now = Cpu();
                if (now.Length == 0 || Total(Minus(now, before)) < 0.1) return clock.Elapsed;
                before = now;
            }
            Console.Error.WriteLine("warning: the services did not go quiet within 2 minutes; measuring anyway");
            return clock.Elapsed;
        }
    }

    sealed record Setup(string Token, string WalletAdmin, string WalletSecret, Guid WalletInstance, Guid PlainInstance, string[] Players);

    // ------------------------------------------------------------------ set-up

    /// <summary>
    /// ThrillGate's wallet definition for brand w (the reference wallet, 60 s timeout so that a slow machine never times a call
    /// out), ThrillPots' operator with brands w (wallet integration on) and n, a never-winning template with one instance per
    /// brand, and the reference wallet's players of w.
    /// </summary>
    static async Task<Setup> SetUpAsync(HttpClient http, Services s, string token, string walletAdmin, string walletSecret, int playerCount)
    {
        await SendAsync(http, HttpMethod.Post, s.Gate.BaseUrl + "/admin/wallets", new
        {
            id = "bench-wallet", operator_id = Operator, brand_id = WalletBrand, wallet_type = "StandardWallet",
            connection_details = new { protocol = "http", host = "127.0.0.1", port = s.Wallet.HttpPort },
            endpoints = new Dictionary<string, object>
            {
                ["auth"] = new Dictionary<string, string> { ["POST"] = "/wallet/authenticate" },
                ["balance"] = new Dictionary<string, string> { ["GET"] = "/wallet/balance" },
                ["transaction"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction" },
                ["transaction_batch"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction/batch" },
                ["cancel_bet"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/cancel" },
            },
            config = new { secret_key = walletSecret, request_timeout = 60, request_retry_limit = 1, accept_zero_value_credits = false },
        }, token, HttpStatusCode.Created);

        var pots = s.Pots.BaseUrl;
        await SendAsync(http, HttpMethod.Post, pots + "/config/operators", new { id = Operator, name = "Wallet bench operator" }, token, HttpStatusCode.Created);
        await SendAsync(http, HttpMethod.Post, $"{pots}/config/operators/{Operator}/brands",
            new[] { new { id = WalletBrand, name = "Wallet-integrated brand" }, new { id = PlainBrand, name = "Brand without wallet" } }, token, HttpStatusCode.OK);
        var brand = await SendAsync(http, HttpMethod.Put, $"{pots}/config/operators/{Operator}/brands/{WalletBrand}/wallet-integration", new { enabled = true },
            token, HttpStatusCode.OK);
        if (!brand.GetProperty("wallet_integration").GetBoolean()) throw new InvalidOperationException($"brand {WalletBrandId}: wallet integration did not switch on");
        var template = await SendAsync(http, HttpMethod.Post, pots + "/templates", NeverWinningTemplate(Operator, "Wallet benchmark"), token, HttpStatusCode.Created);
        var templateId = template.GetProperty("id").GetString()!;
        await SendAsync(http, HttpMethod.Post, $"{pots}/templates/{templateId}/publish", new { }, token, HttpStatusCode.OK);
        async Task<Guid> InstanceAsync(string brandId) => (await SendAsync(http, HttpMethod.Post, pots + "/templates/instantiate",
            new { template_id = templateId, owner_id = Operator, allowed_brands = new[] { brandId } }, token, HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var walletInstance = await InstanceAsync(WalletBrandId);
        var plainInstance = await InstanceAsync(PlainBrandId);

        var players = Enumerable.Range(0, playerCount).Select(i => $"wp{i}").ToArray();
        foreach (var player in players)
            await SendAsync(http, HttpMethod.Put, $"{s.Wallet.BaseUrl}/sim/players/{player}", new
            {
                token = PlayerToken(player), currency = "EUR", balance = StartingBalance, operator_id = Operator, brand_id = WalletBrand, nickname = player,
            }, walletAdmin, HttpStatusCode.OK);
        return new Setup(token, walletAdmin, walletSecret, walletInstance, plainInstance, players);
    }

    static string PlayerToken(string player) => "tok-" + player;

    // ------------------------------------------------------------------ (1) credits

    sealed record CreditFigures(double Seconds, double SendSeconds, double QuietSeconds, double[] Cpu, int Count)
    {
        public double PerSecond => Count / Seconds;
    }

    /// <summary>
    /// <see cref="WarmUp"/> credits paid and settled first, then the measured ones: timed from their first send to the wallet's
    /// timestamp of the last of them, with the services' CPU until they are quiet again (the events that follow included).
    /// </summary>
    static async Task<CreditFigures> CreditsAsync(IBus bus, HttpClient http, Services s, Setup setup, int count)
    {
        var endpoint = await bus.GetSendEndpoint(new Uri("queue:" + CreditWin.Queue));
        var sent = new HashSet<string>(StringComparer.Ordinal);
        await SendCreditsAsync(endpoint, setup, WarmUp, sent);
        await PaidAsync(http, s, setup, sent.Count);
        await s.QuietAsync();

        var cpu = s.Cpu();
        var firstSend = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var measured = await SendCreditsAsync(endpoint, setup, count, sent);
        var sendSeconds = clock.Elapsed.TotalSeconds;
        await PaidAsync(http, s, setup, sent.Count);
        var lastCredit = await VerifyCreditsAsync(http, s, setup, sent, measured);
        var quiet = await s.QuietAsync();
        return new CreditFigures((lastCredit - firstSend).TotalSeconds, sendSeconds, quiet.TotalSeconds, Services.Minus(s.Cpu(), cpu), count);
    }

    /// <summary>
    /// CreditWin commands for the players in turn, each with a new win id and its transaction id, sent with many in flight (each
    /// awaiting its publisher confirm) so that the queue fills as fast as RabbitMQ takes them, as from an outbox backlog.
    /// </summary>
    static async Task<HashSet<string>> SendCreditsAsync(ISendEndpoint endpoint, Setup setup, int count, HashSet<string> sent)
    {
        var messages = Enumerable.Range(sent.Count, count).Select(i =>
        {
            var win = Guid.CreateVersion7();
            return new CreditWin(win, $"win-{win:N}", setup.WalletInstance, "small", Operator, WalletBrandId, setup.Players[i % setup.Players.Length],
                "EUR", CreditAmount, "EUR", CreditAmount, $"cw-{i}", null);
        }).ToArray();
        sent.UnionWith(messages.Select(m => m.TransactionId));
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (m, ct) => await endpoint.Send(m, ct));
        return messages.Select(m => m.TransactionId).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Polls until the wallets hold <paramref name="count"/> credits and ThrillGate has none queued; a credit pending or failed
    /// (the wallet answered an error), more money than sent, or no progress for <see cref="StallAfter"/> aborts.
    /// </summary>
    static async Task PaidAsync(HttpClient http, Services s, Setup setup, int count)
    {
        var clock = Stopwatch.StartNew();
        var expected = count * CreditAmount;
        decimal credited = -1;
        var progressAt = clock.Elapsed;
        while (true)
        {
            await Task.Delay(PollEvery);
            var now = await CreditedAsync(http, s, setup);
            if (now != credited) (credited, progressAt) = (now, clock.Elapsed);
            // A credit ThrillGate could not pay at once (pending, failed) had an error answer from the wallet: stop at the first.
            foreach (var state in new[] { "pending", "failed" })
            {
                var stuck = await CreditListAsync(http, s, setup, state);
                if (stuck.GetArrayLength() > 0)
                    throw new InvalidOperationException($"{stuck.GetArrayLength()} credits are {state} in ThrillGate; first: {stuck[0].GetProperty("last_error")}\n{s.Tails()}");
            }
            if (credited > expected) throw new InvalidOperationException($"the wallets were credited {credited} EUR for {count} credits of {CreditAmount}: paid twice");
            // All in the wallets: done once ThrillGate has recorded them paid too (queued is only read now, when it is short).
            if (credited == expected && (await CreditListAsync(http, s, setup, "queued")).GetArrayLength() == 0) break;
            if (clock.Elapsed - progressAt > StallAfter)
                throw new InvalidOperationException($"credits stalled at {credited / CreditAmount:#,0} of {count:#,0} for {StallAfter.TotalSeconds:0} s\n{s.Tails()}");
            Console.Error.WriteLine($"    {credited / CreditAmount:#,0} of {count:#,0} credited after {clock.Elapsed.TotalSeconds:0} s");
        }
    }

    static Task<JsonElement> CreditListAsync(HttpClient http, Services s, Setup setup, string state) =>
        SendAsync(http, HttpMethod.Get, $"{s.Gate.BaseUrl}/admin/credits?state={state}", null, setup.Token, HttpStatusCode.OK);

    /// <summary>What the wallets gained: Σ (balance − starting balance) over the players, one small read each.</summary>
    static async Task<decimal> CreditedAsync(HttpClient http, Services s, Setup setup)
    {
        var balances = await Task.WhenAll(setup.Players.Select(async p =>
            (await SendAsync(http, HttpMethod.Get, $"{s.Wallet.BaseUrl}/sim/players/{p}", null, setup.WalletAdmin, HttpStatusCode.OK)).GetProperty("balance").GetDecimal()));
        return balances.Sum() - setup.Players.Length * StartingBalance;
    }

    /// <summary>
    /// The wallet's ledger holds exactly the credits sent: N Credit transactions, each transaction id once and one of those sent,
    /// all applied, Σ amounts = N × amount; ThrillGate has none queued, pending or failed. Returns when the wallet took the last of
    /// <paramref name="measured"/>.
    /// </summary>
    static async Task<DateTime> VerifyCreditsAsync(HttpClient http, Services s, Setup setup, HashSet<string> sent, HashSet<string> measured)
    {
        var credits = (await LedgerAsync(http, s, setup)).Where(t => t.GetProperty("transaction_type").GetString() == "Credit").ToList();
        var distinct = credits.Select(t => t.GetProperty("transaction_id").GetString()!).ToHashSet(StringComparer.Ordinal);
        var sum = credits.Sum(t => t.GetProperty("amount").GetDecimal());
        var notApplied = credits.Count(t => t.GetProperty("status").GetString() != "applied");
        var unknown = distinct.Count(i => !sent.Contains(i));
        Console.WriteLine($"   wallet ledger: {credits.Count:#,0} Credit transactions, {distinct.Count:#,0} distinct ids, Σ {sum:#,0.00} EUR " +
            $"(sent {sent.Count:#,0} × {CreditAmount} = {sent.Count * CreditAmount:#,0.00}), {notApplied} not applied, {unknown} unknown ids");
        if (credits.Count != sent.Count || distinct.Count != credits.Count || sum != sent.Count * CreditAmount || notApplied > 0 || unknown > 0)
            throw new InvalidOperationException("the wallet's credits do not match the CreditWin commands sent (see the line above)");
        foreach (var state in new[] { "queued", "pending", "failed" })
            if ((await CreditListAsync(http, s, setup, state)).GetArrayLength() > 0)
                throw new InvalidOperationException($"ThrillGate still has {state} credits after the wallet had all of them");
        return credits.Where(t => measured.Contains(t.GetProperty("transaction_id").GetString()!))
            .Max(t => t.GetProperty("created_at").GetDateTime().ToUniversalTime());
    }

    /// <summary>Every transaction of the benchmark's players, from the reference wallet (one call per player).</summary>
    static async Task<List<JsonElement>> LedgerAsync(HttpClient http, Services s, Setup setup)
    {
        var lists = await Task.WhenAll(setup.Players.Select(p =>
            SendAsync(http, HttpMethod.Get, $"{s.Wallet.BaseUrl}/sim/transactions?player_id={p}", null, setup.WalletAdmin, HttpStatusCode.OK)));
        if (lists.Any(l => l.GetArrayLength() >= WalletListLimit))
            throw new InvalidOperationException($"a player has {WalletListLimit} or more wallet transactions, the most /sim/transactions lists: raise --players");
        return [.. lists.SelectMany(l => l.EnumerateArray())];
    }

    // ------------------------------------------------------------------ (2) debit latency

    /// <summary>One call of a path, by sequence number: null when it succeeded, else what went wrong.</summary>
    delegate Task<string?> Call(long seq, CancellationToken ct);

    /// <summary>A path measured in blocks: its calls' latencies (Stopwatch ticks), their time, and the services' CPU during them.</summary>
    sealed class Path(string name, Call call)
    {
        readonly List<long> ticks = [];
        TimeSpan elapsed;
        long sequence;

        public string Name => name;
        public double[] Cpu { get; private set; } = [];
        /// <summary>Calls made, warm-up included.</summary>
        public long Calls => sequence;
        public int Measured => ticks.Count;
        public double PerSecond => Measured / elapsed.TotalSeconds;
        public double P50 => Percentile(0.50);
        public double P99 => Percentile(0.99);

        public long Next() => Interlocked.Increment(ref sequence);

        public Task<string?> InvokeAsync(long seq, CancellationToken ct) => call(seq, ct);

        public void Add(List<long> more, TimeSpan took, double[] cpu)
        {
            ticks.AddRange(more);
            ticks.Sort();
            elapsed += took;
            Cpu = Cpu.Length == 0 ? cpu : cpu.Length == Cpu.Length ? [.. Cpu.Zip(cpu, (a, b) => a + b)] : [];
        }

        double Percentile(double p) => ticks.Count == 0 ? double.NaN : ticks[Math.Min(ticks.Count - 1, (int)(p * ticks.Count))] * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>
    /// Warm-ups, then <see cref="Blocks"/> rounds of one block per path of count / Blocks calls each, so that a change of load on
    /// the machine during the run lands on every path rather than on whichever went last. Paths: n, w, ThrillGate, wallet.
    /// </summary>
    static async Task<Path[]> DebitLatencyAsync(Services s, Setup setup, int count, int concurrency)
    {
        using var pots = new HttpClient(LoadHandler(concurrency)) { BaseAddress = new Uri(s.Pots.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        using var walletHttp = new HttpClient(LoadHandler(concurrency)) { BaseAddress = new Uri(s.Wallet.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        using var gate = GrpcClient.ForAddress($"http://127.0.0.1:{s.GateGrpcPort}");
        Path[] paths =
        [
            new("contribution n, no wallet", Contribution(pots, setup.Token, PlainBrandId, setup.PlainInstance, setup.Players, _ => "session-token")),
            new("contribution w, wallet", Contribution(pots, setup.Token, WalletBrandId, setup.WalletInstance, setup.Players, PlayerToken)),
            new("ThrillGate Auth+Debit gRPC", GateDebit(gate, setup.Players)),
            new("wallet Debit, direct", WalletDebit(walletHttp, setup)),
        ];
        foreach (var path in paths) await LoadAsync(path, WarmUp, concurrency, s);
        for (var b = 0; b < Blocks; b++)
        {
            var size = count / Blocks + (b < count % Blocks ? 1 : 0);
            var took = new List<string>();
            foreach (var path in paths)
            {
                var cpu = s.Cpu();
                var (ticks, elapsed) = await LoadAsync(path, size, concurrency, s);
                path.Add(ticks, elapsed, Services.Minus(s.Cpu(), cpu));
                took.Add($"{elapsed.TotalSeconds:0.00} s");
            }
            Console.Error.WriteLine($"    round {b + 1}/{Blocks}: {size} calls per path in {string.Join(", ", took)}");
        }
        return paths;
    }

    static SocketsHttpHandler LoadHandler(int concurrency) => new()
    {
        MaxConnectionsPerServer = concurrency,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseCookies = false,
    };

    /// <summary>A v1 contribution to the brand's instance, round-robin over the players, gameround ids "{brand}-1", "{brand}-2", ...</summary>
    static Call Contribution(HttpClient http, string bearer, string brandId, Guid instance, string[] players, Func<string, string> tokenOf)
    {
        var authorization = new AuthenticationHeaderValue("Bearer", bearer);
        var json = new MediaTypeHeaderValue("application/json");
        return async (seq, ct) =>
        {
            var player = players[seq % players.Length];
            var body = JsonSerializer.SerializeToUtf8Bytes(new
            {
                token = tokenOf(player), brand_id = brandId, player_id = player, player_country = "MT", instance_id = instance, currency = "EUR",
                base_wager = 1, metadata = new { bet_id = "b-1" }, gameround_id = $"{brandId}-{seq}",
            });
            using var request = new HttpRequestMessage(HttpMethod.Post, "/jackpots/contribute/instance") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = json;
            request.Headers.Authorization = authorization;
            using var response = await http.SendAsync(request, ct);
            var answer = await response.Content.ReadAsStringAsync(ct);
            return response.StatusCode == HttpStatusCode.OK && answer.Contains("\"outcome\":\"accepted\"", StringComparison.Ordinal)
                ? null : $"{brandId} contribution {seq}: {(int)response.StatusCode} {Truncate(answer)}";
        };
    }

    static readonly ServiceDescriptor Wallets = GateV1.GateReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Wallets");

    /// <summary>What ThrillPots calls for each w contribution: AuthenticatePlayer (cached by ThrillGate), then Debit.</summary>
    static Call GateDebit(GrpcClient gate, string[] players)
    {
        var authenticate = Wallets.FindMethodByName("AuthenticatePlayer");
        var debit = Wallets.FindMethodByName("Debit");
        var amount = DebitAmount.ToString(CultureInfo.InvariantCulture);
        return async (seq, ct) =>
        {
            var options = CallOptions.WithTimeout(TimeSpan.FromSeconds(60), ct: ct);
            try
            {
                var player = await gate.UnaryAsync<GateV1.Player>(authenticate, new GateV1.AuthenticatePlayerRequest
                {
                    OperatorId = Operator, BrandId = WalletBrand, PlayerToken = PlayerToken(players[seq % players.Length]), Currency = "EUR",
                }, options);
                await gate.UnaryAsync<GateV1.TransactionReply>(debit, new GateV1.DebitRequest
                {
                    OperatorId = Operator, BrandId = WalletBrand, PlayerId = player.Id, Token = player.Token, TransactionId = GateDebitPrefix + seq,
                    Amount = amount, Currency = "EUR", GameroundId = $"gate-{seq}",
                }, options);
                return null;
            }
            catch (RpcException ex)
            {
                return $"ThrillGate debit {seq}: {ex.StatusCode} {Truncate(ex.Status.Detail)}";
            }
        };
    }

    /// <summary>What ThrillGate calls for a debit: the wallet's signed POST /wallet/transaction, with the same body fields.</summary>
    static Call WalletDebit(HttpClient http, Setup setup)
    {
        var secret = Encoding.UTF8.GetBytes(setup.WalletSecret);
        var json = new MediaTypeHeaderValue("application/json");
        return async (seq, ct) =>
        {
            var player = setup.Players[seq % setup.Players.Length];
            var body = JsonSerializer.SerializeToUtf8Bytes(new
            {
                player_id = player, transaction_id = WalletDebitPrefix + seq, transaction_type = "Debit", provider_id = "thrillsuite",
                token = PlayerToken(player), gameround_id = $"wallet-{seq}", amount = DebitAmount, currency = "EUR", close_round = false,
            });
            using var request = new HttpRequestMessage(HttpMethod.Post, "/wallet/transaction") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = json;
            request.Headers.TryAddWithoutValidation("X-Server-Authorization", Convert.ToHexStringLower(HMACSHA256.HashData(secret, body)));
            using var response = await http.SendAsync(request, ct);
            return response.StatusCode == HttpStatusCode.OK ? null : $"wallet debit {seq}: {(int)response.StatusCode} {Truncate(await response.Content.ReadAsStringAsync(ct))}";
        };
    }

    /// <summary>
    /// <paramref name="count"/> calls of the path by <paramref name="concurrency"/> clients, each making its next call when the last
    /// is answered; any failure stops them all and is thrown with the services' last output.
    /// </summary>
    static async Task<(List<long> Ticks, TimeSpan Took)> LoadAsync(Path path, int count, int concurrency, Services s)
    {
        using var stop = new CancellationTokenSource();
        string? firstError = null;
        var taken = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var mine = new List<long>(count / concurrency + 1);
            while (!stop.IsCancellationRequested && Interlocked.Increment(ref taken) <= count)
            {
                var seq = path.Next();
                string? error;
                var start = Stopwatch.GetTimestamp();
                try
                {
                    error = await path.InvokeAsync(seq, stop.Token);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    error = $"{path.Name} {seq}: {ex.GetType().Name}: {Truncate(ex.Message)}";
                }
                var latency = Stopwatch.GetTimestamp() - start;
                if (error is null)
                    mine.Add(latency);
                else if (Interlocked.CompareExchange(ref firstError, error, null) is null)
                    await stop.CancelAsync();
            }
            return mine;
        }).ToList();
        var ticks = (await Task.WhenAll(workers)).SelectMany(t => t).ToList();
        if (firstError is not null) throw new InvalidOperationException($"a call failed: {firstError}\n{s.Tails()}");
        return (ticks, clock.Elapsed);
    }

    /// <summary>
    /// The wallet's ledger after the latency phase: the credits as before, and one applied Debit of <see cref="DebitAmount"/> per
    /// w contribution and per direct debit (nothing cancelled, no id twice); each player's balance is its start plus its credits
    /// minus its debits.
    /// </summary>
    static async Task VerifyDebitsAsync(HttpClient http, Services s, Setup setup, int credits, long contributions, long gateDebits, long walletDebits)
    {
        var ledger = await LedgerAsync(http, s, setup);
        var debits = ledger.Where(t => t.GetProperty("transaction_type").GetString() == "Debit").Select(t => t.GetProperty("transaction_id").GetString()!).ToList();
        long Prefixed(string prefix) => debits.Count(d => d.StartsWith(prefix, StringComparison.Ordinal));
        var (fromPots, fromGate, fromBench) = (Prefixed("contrib-"), Prefixed(GateDebitPrefix), Prefixed(WalletDebitPrefix));
        var distinct = debits.Distinct(StringComparer.Ordinal).Count();
        var notApplied = ledger.Count(t => t.GetProperty("status").GetString() != "applied");
        var sum = ledger.Where(t => t.GetProperty("transaction_type").GetString() == "Debit").Sum(t => t.GetProperty("amount").GetDecimal());
        var creditCount = ledger.Count(t => t.GetProperty("transaction_type").GetString() == "Credit");
        Console.WriteLine($"   wallet ledger: {debits.Count:#,0} Debit transactions ({distinct:#,0} distinct ids): {fromPots:#,0} for {contributions:#,0} w contributions, " +
            $"{fromGate:#,0} for {gateDebits:#,0} ThrillGate debits, {fromBench:#,0} for {walletDebits:#,0} direct; Σ {sum:#,0.00} EUR; {notApplied} cancelled or " +
            $"tombstones; {creditCount:#,0} credits");
        var total = contributions + gateDebits + walletDebits;
        if (fromPots != contributions || fromGate != gateDebits || fromBench != walletDebits || debits.Count != total || distinct != debits.Count
            || sum != total * DebitAmount || notApplied > 0 || creditCount != credits)
            throw new InvalidOperationException("the wallet's debits do not match the calls answered (see the line above)");
        foreach (var player in setup.Players)
        {
            var expected = StartingBalance + ledger.Where(t => t.GetProperty("player_id").GetString() == player)
                .Sum(t => (t.GetProperty("transaction_type").GetString() == "Credit" ? 1 : -1) * t.GetProperty("amount").GetDecimal());
            var balance = (await SendAsync(http, HttpMethod.Get, $"{s.Wallet.BaseUrl}/sim/players/{player}", null, setup.WalletAdmin, HttpStatusCode.OK))
                .GetProperty("balance").GetDecimal();
            if (balance != expected) throw new InvalidOperationException($"player {player}: balance {balance}, but its ledger says {expected}");
        }
    }
}
