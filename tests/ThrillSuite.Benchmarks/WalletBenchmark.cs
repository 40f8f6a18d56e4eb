using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MassTransit;
using Npgsql;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Testing;
using static ThrillSuite.Benchmarks.ContributionsBenchmark;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// The wallet path as real processes (Thrill-ID, ReferenceWallet, ThrillGate, ThrillPots) on PostgreSQL and RabbitMQ
/// (THRILLSUITE_TEST_PG / THRILLSUITE_TEST_RABBITMQ, which build/bench wallet starts). One operator with brand w (wallet
/// integration on; ThrillGate's wallet for it is the reference wallet) and brand n (off), a never-winning instance each.
/// (1) debit latency: one client makes v1 contributions, alternating blocks of <see cref="Block"/> calls between the w instance
/// (each contribution debited from the wallet through ThrillGate) and the n instance, so both get as many calls and the same
/// share of a shared machine's drifting load; debit_added_p50_ms is w's p50 minus n's.
/// (2) credits: CreditWin commands sent to ThrillGate's queue, as ThrillPots' outbox relay sends them; the rate runs from the
/// first send to the wallet's timestamp of the last credit, which is awaited by polling the wallet's database.
/// Checks: one applied wallet debit per w contribution, ThrillPots' reconciliation, and the wallet's credits exactly the
/// commands sent (count, Σ amount, each transaction id once). Any error answer or failed check aborts the run.
/// Options: --seconds N (debit latency phase, default 10), --credits N (default 2000).
/// </summary>
public static class WalletBenchmark
{
    const string Operator = "wop", WalletBrand = "w", PlainBrand = "n";
    const string WalletBrandId = Operator + ":" + WalletBrand, PlainBrandId = Operator + ":" + PlainBrand;
    const int Players = 16, CreditWarmUp = 100, LatencyWarmUp = 20, Block = 10;
    // Far more than a run moves, so no debit is refused for funds. A w contribution debits the template's Fixed 0.1.
    const decimal StartingBalance = 10_000_000m, DebitAmount = 0.1m, CreditAmount = 1m;

    public static async Task<BenchmarkResult> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 10);
        var creditCount = Option(args, "--credits", 2000);

        int idPort = TestEnvironment.FreePort(), walletPort = TestEnvironment.FreePort(), gatePort = TestEnvironment.FreePort(),
            gateGrpcPort = TestEnvironment.FreePort(), potsPort = TestEnvironment.FreePort(), potsGrpcPort = TestEnvironment.FreePort();
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
        // The measured services as deployed: without Development's developer exception page and per-request DI scope validation.
        ServiceProcess Start(string name, int port, int? grpcPort, Dictionary<string, string> environment)
        {
            environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            environment["Service__BindAddress"] = "127.0.0.1";
            environment["Service__HttpPort"] = port.ToString(CultureInfo.InvariantCulture);
            if (grpcPort is { } g) environment["Service__GrpcPort"] = g.ToString(CultureInfo.InvariantCulture);
            return ServiceProcess.Start(name, port, environment);
        }

        Console.Error.WriteLine($"==> starting ThrillId :{idPort}, ReferenceWallet :{walletPort}, ThrillGate :{gatePort}, ThrillPots :{potsPort}");
        var walletConnection = Database("bench_refwallet");
        ServiceProcess[] services =
        [
            StartThrillId(idPort, Database("bench_thrillid"), adminUser, adminPassword),
            Start("ReferenceWallet", walletPort, null, new()
            {
                ["ConnectionStrings__referencewallet"] = walletConnection,
                ["Wallet__Secret"] = walletSecret,
                ["Wallet__AdminToken"] = walletAdmin,
            }),
            Start("ThrillGate", gatePort, gateGrpcPort, new()
            {
                ["ConnectionStrings__thrillgate"] = Database("bench_thrillgate"),
                ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
                ["Auth__Issuer"] = issuer,
                ["Wallets__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            }),
            Start("ThrillPots", potsPort, potsGrpcPort, new()
            {
                ["ConnectionStrings__thrillpots"] = Database("bench_thrillpots"),
                ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
                ["Grpc__Endpoints__thrillgate"] = $"http://127.0.0.1:{gateGrpcPort}",
                ["Auth__Issuer"] = issuer,
            }),
        ];
        var (wallet, gate, pots) = (services[1], services[2], services[3]);
        string Tails() => string.Join("\n", services.Select(s =>
            $"--- {s.Name}{(s.HasExited ? $" exited with code {s.ExitCode}" : "")}, last lines ---\n{s.Output[^Math.Min(3000, s.Output.Length)..]}"));
        IBusControl? bus = null;
        var walletDb = NpgsqlDataSource.Create(walletConnection);
        try
        {
            await Task.WhenAll(services.Select(s => s.WaitReadyAsync(TimeSpan.FromSeconds(120))));
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            var token = await TokenAsync(http, issuer, adminUser, adminPassword, Operator, [WalletBrand, PlainBrand], ["thrillpots", "thrillgate"]);
            var (walletInstance, plainInstance, players) = await SetUpAsync(http, gate.BaseUrl, wallet, pots.BaseUrl, token, walletAdmin, walletSecret);

            // (1) Debit latency.
            Console.Error.WriteLine($"==> debit latency: one client, {LatencyWarmUp} warm-up calls each, then {seconds} s of alternating " +
                $"blocks of {Block} calls to brand n (no wallet) and brand w (wallet debit)");
            var plain = new Latencies(http, pots.BaseUrl, token, PlainBrandId, plainInstance, players);
            var integrated = new Latencies(http, pots.BaseUrl, token, WalletBrandId, walletInstance, players);
            await plain.RunAsync(LatencyWarmUp, measure: false);
            await integrated.RunAsync(LatencyWarmUp, measure: false);
            for (var end = Stopwatch.StartNew(); end.Elapsed.TotalSeconds < seconds;)
            {
                await plain.RunAsync(Block, measure: true);
                await integrated.RunAsync(Block, measure: true);
            }
            await VerifyDebitsAsync(walletDb, integrated.Calls);
            await ReconcileAsync(http, pots.BaseUrl, token, plain.Calls + integrated.Calls);

            // (2) Credits.
            bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(new Uri(TestEnvironment.RabbitMq), h => h.PublisherConfirmation = true));
            using (var started = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
                await bus.StartAsync(started.Token);
            var queue = await bus.GetSendEndpoint(new Uri("queue:" + CreditWin.Queue));
            var sent = new List<CreditWin>();
            Console.Error.WriteLine($"==> credits: {CreditWarmUp} CreditWin warm-up, then {creditCount:#,0} to queue {CreditWin.Queue}");
            await SendCreditsAsync(queue, sent, CreditWarmUp, walletInstance, players);
            await CreditedAsync(walletDb, sent.Count);
            var firstSend = (DateTime)(await walletDb.CreateCommand("select now()").ExecuteScalarAsync())!;
            await SendCreditsAsync(queue, sent, creditCount, walletInstance, players);
            var lastCredit = await CreditedAsync(walletDb, sent.Count);
            var creditSeconds = (lastCredit - firstSend).TotalSeconds;
            await VerifyCreditsAsync(walletDb, sent);

            var added = integrated.Percentile(0.50) - plain.Percentile(0.50);
            Console.WriteLine($"   credits paid        {creditCount / creditSeconds,8:#,0}/s  ({creditCount:#,0} CreditWin in {creditSeconds:0.00} s, first send to the wallet's last credit)");
            foreach (var path in new[] { plain, integrated })
                Console.WriteLine($"   contribution {path.BrandId}  p50 {path.Percentile(0.50),7:0.00} ms  p99 {path.Percentile(0.99),7:0.00} ms  ({path.Measured:#,0} calls)");
            Console.WriteLine($"   debit added (w − n) p50 {added,7:0.00} ms");
            return new BenchmarkResult("wallet",
                $"ReferenceWallet, ThrillGate, ThrillPots, Thrill-ID as real processes (PostgreSQL with fsync, RabbitMQ): {creditCount} CreditWin sent to " +
                $"{CreditWin.Queue} and paid by ThrillGate into the reference wallet ({Players} players); v1 POST /jackpots/contribute/instance by one " +
                $"client for {seconds} s, alternating brand w (debit through ThrillGate) and brand n (no wallet)",
                [
                    ("credits_per_s", creditCount / creditSeconds),
                    ("debit_added_p50_ms", added),
                    ("with_wallet_p50_ms", integrated.Percentile(0.50)),
                    ("with_wallet_p99_ms", integrated.Percentile(0.99)),
                    ("without_wallet_p50_ms", plain.Percentile(0.50)),
                    ("without_wallet_p99_ms", plain.Percentile(0.99)),
                    ("credits", creditCount),
                    ("contributions_per_brand", integrated.Measured),
                    ("duration_s", seconds),
                ]);
        }
        catch (TimeoutException ex)
        {
            throw new InvalidOperationException($"{ex.Message}\n{Tails()}");
        }
        finally
        {
            Console.Error.WriteLine("==> stopping the services, dropping their databases");
            if (bus is not null) await bus.StopAsync();
            await Task.WhenAll(services.Select(s => s.DisposeAsync().AsTask()));
            await walletDb.DisposeAsync();
            await DropDatabasesAsync(databases);
        }
    }

    /// <summary>
    /// ThrillGate's wallet definition for brand w (the reference wallet; 60 s timeout so that a slow machine never times a call
    /// out), ThrillPots' operator with brands w (wallet integration on) and n, a never-winning instance for each, and the
    /// reference wallet's players of w. Returns the instances and the player ids.
    /// </summary>
    static async Task<(Guid Wallet, Guid Plain, string[] Players)> SetUpAsync(HttpClient http, string gate, ServiceProcess wallet, string pots,
        string token, string walletAdmin, string walletSecret)
    {
        await SendAsync(http, HttpMethod.Post, gate + "/admin/wallets", new
        {
            id = "bench-wallet", operator_id = Operator, brand_id = WalletBrand, wallet_type = "StandardWallet",
            connection_details = new { protocol = "http", host = "127.0.0.1", port = wallet.HttpPort },
            endpoints = new Dictionary<string, Dictionary<string, string>>
            {
                ["auth"] = new() { ["POST"] = "/wallet/authenticate" },
                ["balance"] = new() { ["GET"] = "/wallet/balance" },
                ["transaction"] = new() { ["POST"] = "/wallet/transaction" },
                ["transaction_batch"] = new() { ["POST"] = "/wallet/transaction/batch" },
                ["cancel_bet"] = new() { ["DELETE"] = "/wallet/cancel" },
            },
            config = new { secret_key = walletSecret, request_timeout = 60, request_retry_limit = 1, accept_zero_value_credits = false },
        }, token, HttpStatusCode.Created);

        await SendAsync(http, HttpMethod.Post, pots + "/config/operators", new { id = Operator, name = "Wallet bench operator" }, token, HttpStatusCode.Created);
        await SendAsync(http, HttpMethod.Post, $"{pots}/config/operators/{Operator}/brands",
            new[] { new { id = WalletBrand, name = "Wallet-integrated brand" }, new { id = PlainBrand, name = "Brand without wallet" } }, token, HttpStatusCode.OK);
        var brand = await SendAsync(http, HttpMethod.Put, $"{pots}/config/operators/{Operator}/brands/{WalletBrand}/wallet-integration", new { enabled = true },
            token, HttpStatusCode.OK);
        if (!brand.GetProperty("wallet_integration").GetBoolean()) throw new InvalidOperationException($"brand {WalletBrandId}: wallet integration did not switch on");
        var instances = await PublishAndInstantiateAsync(http, pots, token, Operator, "Wallet benchmark", [[WalletBrandId], [PlainBrandId]]);

        var players = Enumerable.Range(0, Players).Select(i => $"wp{i}").ToArray();
        foreach (var player in players)
            await SendAsync(http, HttpMethod.Put, $"{wallet.BaseUrl}/sim/players/{player}", new
            {
                token = PlayerToken(player), currency = "EUR", balance = StartingBalance, operator_id = Operator, brand_id = WalletBrand, nickname = player,
            }, walletAdmin, HttpStatusCode.OK);
        return (instances[0], instances[1], players);
    }

    static string PlayerToken(string player) => "tok-" + player;

    /// <summary>One brand's v1 contributions by a single client, round-robin over the players; latencies of the measured ones (ms).</summary>
    sealed class Latencies(HttpClient http, string pots, string token, string brandId, Guid instance, string[] players)
    {
        readonly List<double> measured = [];
        public string BrandId => brandId;
        public long Calls { get; private set; }
        public int Measured => measured.Count;

        public double Percentile(double p)
        {
            measured.Sort();
            return measured[Math.Min(measured.Count - 1, (int)(p * measured.Count))];
        }

        public async Task RunAsync(int calls, bool measure)
        {
            for (var i = 0; i < calls; i++)
            {
                var seq = ++Calls;
                var player = players[seq % players.Length];
                using var request = new HttpRequestMessage(HttpMethod.Post, pots + "/jackpots/contribute/instance")
                {
                    Content = new StringContent(JsonSerializer.Serialize(new
                    {
                        token = PlayerToken(player), brand_id = brandId, player_id = player, player_country = "MT", instance_id = instance,
                        currency = "EUR", base_wager = 1, metadata = new { bet_id = "b-1" }, gameround_id = $"{brandId}-{seq}",
                    }), Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                var start = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
                var answer = await response.Content.ReadAsStringAsync();
                var elapsed = Stopwatch.GetElapsedTime(start);
                if (response.StatusCode != HttpStatusCode.OK || !answer.Contains("\"outcome\":\"accepted\"", StringComparison.Ordinal))
                    throw new InvalidOperationException($"{brandId} contribution {seq}: {(int)response.StatusCode} {Truncate(answer)}");
                if (measure) measured.Add(elapsed.TotalMilliseconds);
            }
        }
    }

    /// <summary>One applied debit of <see cref="DebitAmount"/> in the wallet per w contribution, none cancelled.</summary>
    static async Task VerifyDebitsAsync(NpgsqlDataSource wallet, long contributions)
    {
        await using var command = wallet.CreateCommand(
            "select count(*), count(cancelled_at), coalesce(sum(amount), 0) from wallet_transactions where transaction_type = 'Debit'");
        await using var row = await command.ExecuteReaderAsync();
        await row.ReadAsync();
        var (count, cancelled, sum) = (row.GetInt64(0), row.GetInt64(1), row.GetDecimal(2));
        Console.WriteLine($"   wallet debits: {count:#,0} for {contributions:#,0} w contributions, Σ {sum:#,0.00} EUR, {cancelled} cancelled");
        if (count != contributions || cancelled != 0 || sum != contributions * DebitAmount)
            throw new InvalidOperationException("the wallet's debits do not match the w contributions answered \"accepted\" (see the line above)");
    }

    /// <summary>
    /// <paramref name="count"/> CreditWin commands, the players in turn, each a new win with its own transaction id, sent with
    /// many in flight (each awaiting its publisher confirm) so that the queue fills as an outbox backlog would.
    /// </summary>
    static async Task SendCreditsAsync(ISendEndpoint queue, List<CreditWin> sent, int count, Guid instance, string[] players)
    {
        var messages = Enumerable.Range(sent.Count, count).Select(i => new CreditWin(Guid.CreateVersion7(), $"bench-credit-{i}", instance, "small",
            Operator, WalletBrandId, players[i % players.Length], "EUR", CreditAmount, "EUR", CreditAmount, $"cw-{i}", null)).ToArray();
        sent.AddRange(messages);
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (m, ct) => await queue.Send(m, ct));
    }

    /// <summary>Polls the wallet's database until it holds <paramref name="count"/> credits; returns the time of the last.</summary>
    static async Task<DateTime> CreditedAsync(NpgsqlDataSource wallet, int count)
    {
        var clock = Stopwatch.StartNew();
        long credited = 0;
        var reported = TimeSpan.Zero;
        await Eventually.TrueAsync(async () =>
        {
            credited = (long)(await wallet.CreateCommand("select count(*) from wallet_transactions where transaction_type = 'Credit'").ExecuteScalarAsync())!;
            if (clock.Elapsed - reported > TimeSpan.FromSeconds(5))
            {
                reported = clock.Elapsed;
                Console.Error.WriteLine($"    {credited:#,0} of {count:#,0} credited after {clock.Elapsed.TotalSeconds:0} s");
            }
            return credited >= count;
        }, TimeSpan.FromSeconds(60 + count / 10), $"{count} credits in the reference wallet (ThrillGate's admin/credits?state=pending tells why not)");
        return (DateTime)(await wallet.CreateCommand("select max(created_at) from wallet_transactions where transaction_type = 'Credit'").ExecuteScalarAsync())!;
    }

    /// <summary>The wallet's credits are exactly the commands sent: as many, each transaction id once, Σ amount equal, none cancelled.</summary>
    static async Task VerifyCreditsAsync(NpgsqlDataSource wallet, List<CreditWin> sent)
    {
        var credited = new List<(string Id, decimal Amount, bool Cancelled)>();
        await using (var command = wallet.CreateCommand("select transaction_id, amount, cancelled_at is not null from wallet_transactions where transaction_type = 'Credit'"))
        await using (var row = await command.ExecuteReaderAsync())
            while (await row.ReadAsync()) credited.Add((row.GetString(0), row.GetDecimal(1), row.GetBoolean(2)));
        var published = sent.Select(m => m.TransactionId).ToHashSet(StringComparer.Ordinal);
        var distinct = credited.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var (publishedSum, creditedSum) = (sent.Sum(m => m.PlayerAmount), credited.Sum(c => c.Amount));
        var unknown = distinct.Count(id => !published.Contains(id));
        var cancelled = credited.Count(c => c.Cancelled);
        var ok = credited.Count == sent.Count && distinct.Count == credited.Count && unknown == 0 && cancelled == 0 && creditedSum == publishedSum;
        Console.WriteLine($"   credit check: published {sent.Count:#,0} (Σ {publishedSum:#,0.00} EUR, warm-up included), credited {credited.Count:#,0} " +
            $"(Σ {creditedSum:#,0.00} EUR), {distinct.Count:#,0} distinct transaction ids, {unknown} not published, {cancelled} cancelled: {(ok ? "OK" : "MISMATCH")}");
        if (!ok) throw new InvalidOperationException("the wallet's credits do not match the CreditWin commands sent (see the line above)");
    }
}
