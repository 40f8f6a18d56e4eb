using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Testing;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// ThrillConnect's fan-out on the real path: ThrillConnect, ThrillGate, the reference wallet, ThrillPots and Thrill-ID as
/// their real processes on PostgreSQL and RabbitMQ (which build/bench realtime starts). Many player WebSockets (authenticated
/// through ThrillGate's AuthenticatePlayer against the reference wallet) are held from this process; JackpotUpdated and
/// JackpotWon are published to RabbitMQ with MassTransit as ThrillPots' outbox publishes them, at controlled rates, carrying
/// their publish time (data.last_updated, data.timestamp, Unix ms), so each frame's latency is its receive time minus that.
/// First a sanity check of the engine's own path (a ThrillPots instance's ticker reaching a socket), then connect, then a
/// warm-up and a measured window.
/// Options: --connections N (default 10200), --seconds N (measured window, default 20), --warmup N (default 5),
/// --instances N (instances allowing the brand, default 1: with one win a second, 20,000 frames/s to 10,000 sockets, the target's rate), --ticks-per-s X (JackpotUpdated per instance per second,
/// default 1: ThrillPots' ticker rate; above 1 the server coalesces), --wins-per-s X (JackpotWon per second, default 1),
/// --players N (distinct player tokens, default = connections), --connect-concurrency N (default 64),
/// --server-env KEY=VALUE (extra environment for ThrillConnect, repeatable: GC settings and the like).
/// </summary>
public static class RealtimeBenchmark
{
    const string Operator = "rtop", Brand = "rtbrand", SanityBrand = "rtsanity";
    const string BrandKey = Operator + ":" + Brand;
    const string Currency = "EUR";
    static readonly byte[] Subscribe = """{"SubscribeRequest":{"events":[{"source":"thrillpots","event_type":"*"}]}}"""u8.ToArray();

    public static async Task<BenchmarkResult> RunAsync(string[] args)
    {
        // A little over 10,000: with one ticker and one win a second per socket the delivered rate is then over 20,000/s
        // whatever the measuring window's edges catch (exactly 10,000 gives 19,99x or 20,00x by chance).
        var connections = Option(args, "--connections", 10_200);
        var seconds = Option(args, "--seconds", 20);
        var warmUp = Option(args, "--warmup", 5);
        var instanceCount = Option(args, "--instances", 1);
        var ticksPerSecond = Math.Max(0.1, OptionDouble(args, "--ticks-per-s", 1));
        var winsPerSecond = OptionDouble(args, "--wins-per-s", 1);
        var playerCount = Math.Min(Option(args, "--players", connections), connections);
        var connectConcurrency = Option(args, "--connect-concurrency", 64);
        var serverEnv = ServerEnvironment(args);

        var idPort = TestEnvironment.FreePort();
        var walletPort = TestEnvironment.FreePort();
        var (gatePort, gateGrpc) = (TestEnvironment.FreePort(), TestEnvironment.FreePort());
        var (potsPort, potsGrpc) = (TestEnvironment.FreePort(), TestEnvironment.FreePort());
        var connectPort = TestEnvironment.FreePort();
        var issuer = $"http://127.0.0.1:{idPort}";
        var adminUser = $"bench-admin-{Hex(6)}@bench.example";
        var adminPassword = "Bench-" + Hex(16);
        var walletSecret = Hex(16);
        var walletAdmin = Hex(24);
        var databases = new List<string>();
        string Database(string prefix)
        {
            var connection = TestEnvironment.UniqueDatabase(prefix, out var name);
            databases.Add(name);
            return connection;
        }
        Dictionary<string, string> Common(int port) => new()
        {
            // As deployed: without Development's developer exception page and per-request DI scope validation.
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Auth__Issuer"] = issuer,
            ["Auth__JwksUri"] = issuer + "/.well-known/jwks.json",
            ["Grpc__Endpoints__thrillgate"] = $"http://127.0.0.1:{gateGrpc}",
            ["Grpc__Endpoints__thrillpots"] = $"http://127.0.0.1:{potsGrpc}",
        };

        Console.Error.WriteLine($"==> starting ThrillId, ReferenceWallet, ThrillGate, ThrillPots and ThrillConnect (:{connectPort})");
        var processes = new List<ServiceProcess>();
        ServiceProcess Start(string name, int port, Dictionary<string, string> env)
        {
            var p = ServiceProcess.Start(name, port, env);
            processes.Add(p);
            return p;
        }
        Start("ThrillId", idPort, new(Common(idPort))
        {
            ["ConnectionStrings__thrillid"] = Database("bench_rt_thrillid"),
            ["ThrillId__Issuer"] = issuer,
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = adminUser,
            ["Bootstrap__AdminPassword"] = adminPassword,
        });
        var wallet = Start("ReferenceWallet", walletPort, new(Common(walletPort))
        {
            ["ConnectionStrings__referencewallet"] = Database("bench_rt_wallet"),
            ["Wallet__Secret"] = walletSecret,
            ["Wallet__AdminToken"] = walletAdmin,
        });
        var gate = Start("ThrillGate", gatePort, new(Common(gatePort))
        {
            ["Service__GrpcPort"] = gateGrpc.ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__thrillgate"] = Database("bench_rt_thrillgate"),
            ["Wallets__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        });
        var pots = Start("ThrillPots", potsPort, new(Common(potsPort))
        {
            ["Service__GrpcPort"] = potsGrpc.ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__thrillpots"] = Database("bench_rt_thrillpots"),
        });
        var connectEnv = new Dictionary<string, string>(Common(connectPort)) { ["ConnectionStrings__thrillconnect"] = Database("bench_rt_thrillconnect") };
        foreach (var (key, value) in serverEnv) connectEnv[key] = value;
        var connect = Start("ThrillConnect", connectPort, connectEnv);
        var clients = new List<Client>();
        try
        {
            await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(120))));
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            var token = await TokenAsync(http, issuer, adminUser, adminPassword);
            foreach (var brand in new[] { Brand, SanityBrand })
                await SendAsync(http, HttpMethod.Post, gate.BaseUrl + "/admin/wallets", WalletDefinition(brand, walletPort, walletSecret), token,
                    HttpStatusCode.Created);

            Console.Error.WriteLine($"==> seeding {playerCount:#,0} players in the reference wallet");
            var watch = Stopwatch.StartNew();
            var tokens = Enumerable.Range(0, playerCount).Select(i => $"rt-{i}-{Hex(8)}").ToArray();
            await SeedPlayersAsync(wallet.BaseUrl, walletAdmin, tokens);
            Console.Error.WriteLine($"    {watch.Elapsed.TotalSeconds:0.0} s");

            using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(30) });
            var events = new Uri($"ws://127.0.0.1:{connectPort}/v1/events/{Operator}/{Brand}?currency={Currency}&token=");

            // The engine's own path once: a ThrillPots instance's ticker (outbox → RabbitMQ) reaching a player socket.
            Console.Error.WriteLine("==> sanity: a ThrillPots instance's JackpotUpdated reaching a socket of its brand");
            await SanityAsync(http, pots.BaseUrl, wallet.BaseUrl, walletAdmin, token, invoker, connectPort);

            var stats = new Stats();
            await using var bus = await Bus.StartAsync();
            var instances = Enumerable.Range(0, instanceCount).Select(_ => Guid.NewGuid()).ToArray();
            // A first update of each instance, so every connection's subscription gets a snapshot: its first frames say it is live.
            foreach (var instance in instances) await bus.PublishAsync(Update(instance, 0));
            await WaitForSnapshotAsync(invoker, events, tokens[0], instanceCount);

            await Task.Delay(TimeSpan.FromSeconds(2));
            var rssBefore = Rss(connect.Pid);
            Console.Error.WriteLine($"==> connecting {connections:#,0} player sockets ({playerCount:#,0} players, {connectConcurrency} at a time; " +
                $"ThrillConnect RSS {rssBefore / 1048576.0:0.0} MiB)");
            watch.Restart();
            var next = -1;
            var failures = new List<string>();
            await Task.WhenAll(Enumerable.Range(0, connectConcurrency).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < connections)
                {
                    var client = new Client(stats, instanceCount);
                    lock (clients) clients.Add(client);
                    try
                    {
                        await client.ConnectAsync(invoker, new Uri(events + Uri.EscapeDataString(tokens[i % playerCount])));
                    }
                    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidOperationException or TimeoutException)
                    {
                        lock (failures) failures.Add($"{ex.GetType().Name}: {ex.Message}");
                    }
                    if (i % 1000 == 999) Console.Error.WriteLine($"    {i + 1:#,0} connected, {watch.Elapsed.TotalSeconds:0.0} s");
                }
            }));
            var connectSeconds = watch.Elapsed.TotalSeconds;
            if (failures.Count > 0)
                throw new InvalidOperationException($"{failures.Count} of {connections} connections failed; first: {failures[0]}\n" +
                    $"--- ThrillConnect, last lines ---\n{Tail(connect.Output)}");
            Console.Error.WriteLine($"    all {connections:#,0} live in {connectSeconds:0.0} s ({connections / connectSeconds:#,0}/s)");
            await Task.Delay(TimeSpan.FromSeconds(3));
            var rssConnected = Rss(connect.Pid);
            var bytesPerConnection = (double)(rssConnected - rssBefore) / connections;

            // Load: each instance's updates spread over the second, wins in between.
            Console.Error.WriteLine($"==> load: {instanceCount} instances × {ticksPerSecond:0.##} JackpotUpdated/s, {winsPerSecond:0.##} JackpotWon/s; " +
                $"{warmUp} s warm-up + {seconds} s measured");
            using var stop = new CancellationTokenSource();
            var publishers = new List<Task<long>>();
            for (var k = 0; k < instanceCount; k++)
            {
                var instance = instances[k];
                long version = 0;
                publishers.Add(PublishLoopAsync(ticksPerSecond, (double)k / instanceCount / ticksPerSecond, () => bus.PublishAsync(Update(instance, ++version)),
                    stats, isWin: false, stop.Token));
            }
            if (winsPerSecond > 0)
            {
                long wins = 0;
                publishers.Add(PublishLoopAsync(winsPerSecond, 0.5 / instanceCount / Math.Max(ticksPerSecond, 0.001),
                    () => bus.PublishAsync(Win(instances[(int)(Interlocked.Increment(ref wins) % instances.Length)])), stats, isWin: true, stop.Token));
            }
            await Task.Delay(TimeSpan.FromSeconds(warmUp));
            var cpu = new CpuSample(connect.Pid);
            stats.Start();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var window = stats.Stop();
            var cpuUse = cpu.Read();
            await stop.CancelAsync();
            await Task.WhenAll(publishers);
            var rssLoaded = Rss(connect.Pid);
            await Task.Delay(TimeSpan.FromSeconds(2));
            var open = clients.Count(c => c.Open);
            var closes = clients.Where(c => c.CloseStatus is not null).GroupBy(c => c.CloseStatus).Select(g => $"{g.Count()} × {g.Key}").ToList();
            var expectedTickers = stats.TickersPublished * connections * Math.Min(1, 1 / ticksPerSecond);
            var expectedWins = stats.WinsPublished * connections;
            var delivered = stats.Tickers + stats.Wins;
            var perSecond = delivered / window.TotalSeconds;
            var (winsShort, winsMin) = stats.WinCompleteness(clients);

            Console.WriteLine($"   connections held      {open,10:#,0} of {connections:#,0} ({playerCount:#,0} players; connected in {connectSeconds:0.0} s, " +
                $"{connections / connectSeconds:#,0}/s){(closes.Count > 0 ? "; closed: " + string.Join(", ", closes) : "")}");
            Console.WriteLine($"   published             {stats.TickersPublished / window.TotalSeconds,10:0.0} JackpotUpdated/s, {stats.WinsPublished / window.TotalSeconds:0.0} JackpotWon/s " +
                $"(late publishes: {stats.LatePublishes})");
            Console.WriteLine($"   offered (contract)    {(expectedTickers + expectedWins) / window.TotalSeconds,10:#,0} frames/s " +
                $"({expectedTickers / window.TotalSeconds:#,0} tickers + {expectedWins / window.TotalSeconds:#,0} wins)");
            Console.WriteLine($"   delivered             {perSecond,10:#,0} frames/s ({stats.Tickers / window.TotalSeconds:#,0} tickers + " +
                $"{stats.Wins / window.TotalSeconds:#,0} wins, {stats.Bytes / window.TotalSeconds / 1048576:0.0} MiB/s, {window.TotalSeconds:0.0} s)");
            Console.WriteLine($"   latency all           p50 {stats.All.Percentile(0.50),6:0} ms  p99 {stats.All.Percentile(0.99),6:0} ms  max {stats.All.Max,6} ms");
            Console.WriteLine($"   latency tickers       p50 {stats.TickerLatency.Percentile(0.50),6:0} ms  p99 {stats.TickerLatency.Percentile(0.99),6:0} ms  max {stats.TickerLatency.Max,6} ms");
            Console.WriteLine($"   latency wins          p50 {stats.WinLatency.Percentile(0.50),6:0} ms  p99 {stats.WinLatency.Percentile(0.99),6:0} ms  max {stats.WinLatency.Max,6} ms");
            Console.WriteLine($"   wins per connection   {winsShort} connections got fewer wins than published in the window (fewest: {winsMin} of {stats.WinsPublishedInWindowSettled})");
            Console.WriteLine($"   ThrillConnect RSS     {rssBefore / 1048576.0,10:0.0} MiB before, {rssConnected / 1048576.0:0.0} MiB connected, " +
                $"{rssLoaded / 1048576.0:0.0} MiB after load: {bytesPerConnection:#,0} bytes per connection");
            // CPU time per delivered frame does not depend on what else the machine runs; the rates and latencies do.
            var serverUs = cpuUse.Server * window.TotalSeconds * 1e6 / Math.Max(1, delivered);
            var clientUs = cpuUse.Self * window.TotalSeconds * 1e6 / Math.Max(1, delivered);
            Console.WriteLine($"   CPU in the window     ThrillConnect {cpuUse.Server:0.00} cores ({serverUs:0.0} µs per frame), this benchmark (client + publisher) " +
                $"{cpuUse.Self:0.00} cores ({clientUs:0.0} µs per frame), machine busy {cpuUse.MachineBusy:0.00} of {Environment.ProcessorCount} cores");
            var met = open == connections && perSecond >= 20_000 && stats.All.Percentile(0.99) <= 250;
            Console.WriteLine($"   target (10,000 connections, ≥ 20,000 frames/s delivered, p99 ≤ 250 ms): {(connections >= 10_000 && met ? "met" : "NOT met")}");

            return new BenchmarkResult("realtime",
                $"ThrillConnect (real process) with {connections} player WebSockets from this process on loopback (client and server share the machine's " +
                $"{Environment.ProcessorCount} cores), events published to RabbitMQ with MassTransit: {instanceCount} instances × {ticksPerSecond:0.##} JackpotUpdated/s " +
                $"(coalesced to ≤ 1/s per connection), {winsPerSecond:0.##} JackpotWon/s to every connection of the brand; latency = receive − publish time (ms clock)",
                [
                    ("connections", open),
                    ("messages_per_s", perSecond),
                    ("offered_per_s", (expectedTickers + expectedWins) / window.TotalSeconds),
                    ("p50_ms", stats.All.Percentile(0.50)),
                    ("p99_ms", stats.All.Percentile(0.99)),
                    ("max_ms", stats.All.Max),
                    ("win_p99_ms", stats.WinLatency.Percentile(0.99)),
                    ("ticker_p99_ms", stats.TickerLatency.Percentile(0.99)),
                    ("bytes_per_connection", bytesPerConnection),
                    ("server_cpu_cores", cpuUse.Server),
                    ("client_cpu_cores", cpuUse.Self),
                    ("server_cpu_us_per_message", serverUs),
                    ("client_cpu_us_per_message", clientUs),
                    ("machine_busy_cores", cpuUse.MachineBusy),
                    ("connect_per_s", connections / connectSeconds),
                    ("players", playerCount),
                    ("instances", instanceCount),
                    ("ticks_per_s", ticksPerSecond),
                    ("wins_per_s", winsPerSecond),
                    ("duration_s", seconds),
                ]);
        }
        finally
        {
            Console.Error.WriteLine("==> closing sockets, stopping the services, dropping their databases");
            foreach (var c in clients) c.Abort();
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
            foreach (var database in databases)
            {
                try { await TestEnvironment.DropDatabaseAsync(database); }
                catch (Exception ex) { Console.Error.WriteLine($"warning: could not drop database {database}: {ex.Message}"); }
            }
        }
    }

    // ------------------------------------------------------------------ the client side

    /// <summary>
    /// One player socket: a receive loop with its own small buffer that reads only what it needs of each frame (msg_name and
    /// the publish time) and counts it. Ready once the subscription's snapshot (one JackpotUpdate per instance) has arrived.
    /// </summary>
    sealed class Client(Stats stats, int snapshotFrames)
    {
        readonly ClientWebSocket socket = new();
        readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        int frames;
        public int WinsInWindow;
        public bool Open => socket.State == WebSocketState.Open;
        public string? CloseStatus { get; private set; }

        public async Task ConnectAsync(HttpMessageInvoker invoker, Uri uri)
        {
            socket.Options.KeepAliveInterval = TimeSpan.Zero; // the server pings; the client only answers
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await socket.ConnectAsync(uri, invoker, timeout.Token);
            _ = Task.Run(ReceiveLoopAsync);
            await socket.SendAsync(Subscribe, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            await ready.Task.WaitAsync(timeout.Token);
        }

        async Task ReceiveLoopAsync()
        {
            // Frames are well under 2 KB; a longer one is read on and only its start parsed.
            var buffer = new byte[2048];
            try
            {
                while (true)
                {
                    var r = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        CloseStatus = $"{(int?)socket.CloseStatus} {socket.CloseStatusDescription}";
                        ready.TrySetException(new InvalidOperationException("closed by the server: " + CloseStatus));
                        return;
                    }
                    var length = r.Count;
                    var total = length;
                    while (!r.EndOfMessage)
                    {
                        r = await socket.ReceiveAsync(buffer.AsMemory(length == buffer.Length ? 0 : length), CancellationToken.None);
                        total += r.Count;
                        if (length < buffer.Length) length = Math.Min(buffer.Length, length + r.Count);
                    }
                    var isWin = stats.Record(buffer.AsSpan(0, length), total);
                    if (isWin && stats.Measuring) WinsInWindow++;
                    if (++frames == snapshotFrames) ready.TrySetResult();
                }
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
            {
                CloseStatus ??= "aborted: " + ex.Message;
                ready.TrySetException(ex);
            }
        }

        public void Abort() => socket.Abort();
    }

    /// <summary>Counts and latency histograms of the frames received while measuring, and of the events published meanwhile.</summary>
    sealed class Stats
    {
        public readonly Histogram All = new(), TickerLatency = new(), WinLatency = new();
        public long Tickers, Wins, Bytes, TickersPublished, WinsPublished, LatePublishes, WinsPublishedInWindowSettled;
        volatile bool measuring;
        long startTicks;
        public bool Measuring => measuring;

        public void Start()
        {
            startTicks = Stopwatch.GetTimestamp();
            measuring = true;
        }

        public TimeSpan Stop()
        {
            measuring = false;
            return Stopwatch.GetElapsedTime(startTicks);
        }

        /// <summary>A frame: its kind from msg_name, its publish time from data.last_updated (update) or data.timestamp (win).</summary>
        public bool Record(ReadOnlySpan<byte> frame, int length)
        {
            var name = frame.IndexOf("\"msg_name\":\""u8);
            var isWin = name >= 0 && frame[(name + 12)..].StartsWith("WinEvent"u8);
            if (!measuring) return isWin;
            var key = isWin ? "\"timestamp\":"u8 : "\"last_updated\":"u8;
            var at = frame.IndexOf(key);
            if (at < 0 || !Utf8Parser.TryParse(frame[(at + key.Length)..], out long published, out _)) return isWin;
            var latency = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - published;
            Interlocked.Add(ref Bytes, length);
            if (isWin)
            {
                Interlocked.Increment(ref Wins);
                WinLatency.Add(latency);
            }
            else
            {
                Interlocked.Increment(ref Tickers);
                TickerLatency.Add(latency);
            }
            All.Add(latency);
            return isWin;
        }

        public void Published(bool isWin, bool late)
        {
            if (late) Interlocked.Increment(ref LatePublishes);
            if (!measuring) return;
            if (isWin) Interlocked.Increment(ref WinsPublished);
            else Interlocked.Increment(ref TickersPublished);
        }

        /// <summary>How many connections received fewer wins in the window than were published in it (edges allowed: ±1).</summary>
        public (int Short, int Min) WinCompleteness(List<Client> clients)
        {
            WinsPublishedInWindowSettled = WinsPublished;
            var min = clients.Count == 0 ? 0 : clients.Min(c => c.WinsInWindow);
            return (clients.Count(c => c.WinsInWindow < WinsPublished - 1), min);
        }
    }

    /// <summary>Latencies in whole milliseconds (the clock the events carry), up to a minute.</summary>
    sealed class Histogram
    {
        readonly long[] counts = new long[60_001];
        long max;
        public long Max => Interlocked.Read(ref max);

        public void Add(long ms)
        {
            var i = (int)Math.Clamp(ms, 0, counts.Length - 1);
            Interlocked.Increment(ref counts[i]);
            long seen;
            while (ms > (seen = Interlocked.Read(ref max)) && Interlocked.CompareExchange(ref max, ms, seen) != seen) { }
        }

        public double Percentile(double p)
        {
            var total = counts.Sum();
            if (total == 0) return double.NaN;
            var rank = (long)Math.Ceiling(p * total);
            long seen = 0;
            for (var i = 0; i < counts.Length; i++)
                if ((seen += counts[i]) >= rank) return i;
            return counts.Length - 1;
        }
    }

    /// <summary>Publishes at <paramref name="perSecond"/> on a fixed schedule (offset into each period), counting publishes that started late.</summary>
    static async Task<long> PublishLoopAsync(double perSecond, double offsetSeconds, Func<Task> publish, Stats stats, bool isWin, CancellationToken ct)
    {
        var period = TimeSpan.FromSeconds(1 / perSecond);
        var start = Stopwatch.GetTimestamp();
        long n = 0;
        while (!ct.IsCancellationRequested)
        {
            var due = TimeSpan.FromSeconds(offsetSeconds) + period * n;
            var wait = due - Stopwatch.GetElapsedTime(start);
            try
            {
                if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            }
            catch (OperationCanceledException) { break; }
            await publish();
            stats.Published(isWin, late: wait < -TimeSpan.FromMilliseconds(50));
            n++;
        }
        return n;
    }

    static JackpotUpdated Update(Guid instance, long version) => new(instance, Operator, "Realtime benchmark " + instance.ToString()[..8], "Active", "Progressive",
        Currency, [BrandKey], ["slots"],
        [new PotTicker("small", true, 10m + version * 0.01m), new PotTicker("big", true, 100m + version * 0.1m)],
        null, null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    static JackpotWon Win(Guid instance) => new(Guid.NewGuid(), Operator, BrandKey, "rt-winner", "slots", instance, "Realtime benchmark " + instance.ToString()[..8],
        Currency, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "small", 123.45m,
        new CurrencyMultipliers(BrandKey, Currency, new Dictionary<string, decimal> { [Currency] = 1m }), ["game-1"], 10m, false, 0m, null, null,
        "round-1", null, "contribution", Currency, 123.45m, []);

    /// <summary>The benchmark's own bus on build/bench's RabbitMQ: publishes with publisher confirms, as ThrillPots' outbox relay does.</summary>
    sealed class Bus(IHost host, IBus bus) : IAsyncDisposable
    {
        public static async Task<Bus> StartAsync()
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddMassTransit(bus => bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(TestEnvironment.RabbitMq), h => h.PublisherConfirmation = true);
                rabbit.ConfigureEndpoints(context);
            }));
            var host = builder.Build();
            await host.StartAsync();
            var control = host.Services.GetRequiredService<IBusControl>();
            await control.WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
            return new Bus(host, control);
        }

        public Task PublishAsync<T>(T message) where T : class => bus.Publish(message);

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    /// <summary>Opens one socket until its subscription's snapshot holds every instance (ThrillConnect has consumed the first updates).</summary>
    static async Task WaitForSnapshotAsync(HttpMessageInvoker invoker, Uri events, string token, int instances)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var probe = new Client(new Stats(), instances);
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                await probe.ConnectAsync(invoker, new Uri(events + Uri.EscapeDataString(token))).WaitAsync(cts.Token);
                return;
            }
            catch (Exception ex) when (deadline.Elapsed < TimeSpan.FromSeconds(60) && ex is OperationCanceledException or TimeoutException) { }
            finally
            {
                probe.Abort();
            }
        }
    }

    // ------------------------------------------------------------------ set-up

    static async Task SanityAsync(HttpClient http, string pots, string wallet, string walletAdmin, string token, HttpMessageInvoker invoker, int connectPort)
    {
        var sanityToken = "rt-sanity-" + Hex(8);
        await SendAsync(http, HttpMethod.Put, $"{wallet}/sim/players/rt-sanity", new
        {
            token = sanityToken, currency = Currency, balance = 100, operator_id = Operator, brand_id = SanityBrand, country = "MT", nickname = "Sanity",
        }, walletAdmin, HttpStatusCode.OK);
        await SendAsync(http, HttpMethod.Post, pots + "/config/operators", new { id = Operator, name = "Realtime operator" }, token, HttpStatusCode.Created);
        await SendAsync(http, HttpMethod.Post, $"{pots}/config/operators/{Operator}/brands", new[] { new { id = SanityBrand, name = "Sanity brand" } }, token,
            HttpStatusCode.OK);
        var template = await SendAsync(http, HttpMethod.Post, pots + "/templates", JsonDocument.Parse($$"""
            {
              "name": "Realtime sanity", "owner_id": "{{Operator}}", "currency": "{{Currency}}",
              "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.1 }, "operator_contribution_percentage": 0 },
              "house_hold_contribution": { "Percentage": 0.3 },
              "win_selector_strategy": "Highest",
              "pots": [
                { "id": "small", "contribution": { "Percentage": 0.7 }, "seed_contribution": { "Percentage": 0.5 },
                  "seed_strategy": { "initial_seed_value": 10, "min_reseed_value": 10, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
                  "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
                  "pot_types": [ { "HitRate": { "max_magic_number": 1000000000000000000, "cost_per_attempt": 0.1 } } ] }
              ]
            }
            """).RootElement, token, HttpStatusCode.Created);
        var templateId = template.GetProperty("id").GetString()!;
        await SendAsync(http, HttpMethod.Post, $"{pots}/templates/{templateId}/publish", new { }, token, HttpStatusCode.OK);
        var instance = (await SendAsync(http, HttpMethod.Post, pots + "/templates/instantiate",
            new { template_id = templateId, owner_id = Operator, allowed_brands = new[] { $"{Operator}:{SanityBrand}" } }, token, HttpStatusCode.Created))
            .GetProperty("id").GetString()!;

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{connectPort}/v1/events/{Operator}/{SanityBrand}?currency={Currency}&token={sanityToken}"),
            invoker, CancellationToken.None);
        await socket.SendAsync(Subscribe, WebSocketMessageType.Text, true, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var r = await socket.ReceiveAsync(buffer, timeout.Token);
                if (r.MessageType == WebSocketMessageType.Close)
                    throw new InvalidOperationException($"sanity: the socket was closed: {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
                var text = Encoding.UTF8.GetString(buffer, 0, r.Count);
                if (text.Contains("\"JackpotUpdate\"", StringComparison.Ordinal) && text.Contains(instance, StringComparison.Ordinal)) break;
            }
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"sanity: no JackpotUpdate of ThrillPots instance {instance} reached its brand's socket in 30 s");
        }
        Console.Error.WriteLine($"    instance {instance}: its JackpotUpdate arrived");
        socket.Abort();
    }

    static async Task SeedPlayersAsync(string wallet, string adminToken, string[] tokens)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { BaseAddress = new Uri(wallet), Timeout = TimeSpan.FromMinutes(2) };
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < tokens.Length)
                await SendAsync(http, HttpMethod.Put, $"{wallet}/sim/players/rt-player-{i}", new
                {
                    token = tokens[i], currency = Currency, balance = 100, operator_id = Operator, brand_id = Brand, country = "MT", nickname = $"Player {i}",
                }, adminToken, HttpStatusCode.OK);
        }));
    }

    static object WalletDefinition(string brand, int walletPort, string secret) => new Dictionary<string, object>
    {
        ["id"] = $"rt-{brand}",
        ["operator_id"] = Operator,
        ["brand_id"] = brand,
        ["wallet_type"] = "StandardWallet",
        ["connection_details"] = new { protocol = "http", host = "127.0.0.1", port = walletPort },
        ["endpoints"] = new Dictionary<string, object>
        {
            ["auth"] = new Dictionary<string, string> { ["POST"] = "/wallet/authenticate" },
            ["balance"] = new Dictionary<string, string> { ["GET"] = "/wallet/balance" },
            ["transaction"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction" },
            ["transaction_batch"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction/batch" },
            ["cancel_bet"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/cancel" },
            ["cancel_batch"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/transaction/batch" },
        },
        ["config"] = new { secret_key = secret, request_timeout = 10, request_retry_limit = 2, request_retry_backoff = 1 },
    };

    /// <summary>
    /// As Thrill-ID's bootstrap admin: organisation <see cref="Operator"/> with both brands, an organisation-level Service account
    /// with thrillgate and thrillpots write, and its client_credentials token.
    /// </summary>
    static async Task<string> TokenAsync(HttpClient http, string issuer, string adminUser, string adminPassword)
    {
        var login = await SendAsync(http, HttpMethod.Post, issuer + "/accounts/auth", new { username = adminUser, password = adminPassword }, null, HttpStatusCode.OK);
        var admin = login.GetProperty("token").GetString()!;
        await SendAsync(http, HttpMethod.Post, issuer + "/admin/organisations", new { id = Operator, units = new[] { Brand, SanityBrand }, enabled = true }, admin,
            HttpStatusCode.OK);
        var account = await SendAsync(http, HttpMethod.Post, issuer + "/admin/accounts", new
        {
            username = $"bench-rt-{Hex(6)}@bench.example",
            account_type = "Service",
            org_id = Operator,
            permissions = new[]
            {
                new { system_id = "thrillgate", permissions = new[] { new { resource_id = "*", permission = "Write" } } },
                new { system_id = "thrillpots", permissions = new[] { new { resource_id = "*", permission = "Write" } } },
            },
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

    static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string url, object? body, string? bearer, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = new StringContent(body is JsonElement e ? e.GetRawText() : JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"{method} {url}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    // ------------------------------------------------------------------ measuring the server

    /// <summary>Resident memory of a process (VmRSS), in bytes.</summary>
    static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    static string Tail(string output)
    {
        var lines = output.Split('\n');
        return string.Join('\n', lines[^Math.Min(40, lines.Length)..]);
    }

    static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}
