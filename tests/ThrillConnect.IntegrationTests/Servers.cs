using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;

namespace ThrillConnect.IntegrationTests;

/// <summary>
/// One real Thrill-ID, reference wallet, ThrillGate, ThrillPots and ThrillConnect for the whole run, the test's bus, and the
/// callers the tests act as. Thrill-ID knows organisations "cna" (units a1…a4) and "cnb" (unit y1). ThrillPots knows both
/// operators with those brands; ThrillGate has a wallet (the reference wallet) for cna:a1, cna:a2 and cnb:y1, an unreachable
/// one for cna:a4 and none for cna:a3. Brand cna:a2 overrides the USD multiplier (1.25; the system's is 1.1).
/// </summary>
[SetUpFixture]
public sealed class Servers
{
    public const string OrgA = "cna", OrgB = "cnb";
    const string Admin = "admin@thrilltech.io";
    static readonly string AdminPassword = "bootstrap-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    static readonly string WalletSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    static readonly string WalletAdminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    static ServiceProcess thrillId = null!, wallet = null!, gate = null!, pots = null!, connect = null!;
    static readonly List<string> databases = [];
    static HttpClient id = null!;
    static int gateGrpcPort, potsGrpcPort;

    public static Api Pots { get; private set; } = null!;
    public static Api Gate { get; private set; } = null!;
    public static Api Wallet { get; private set; } = null!;
    /// <summary>ThrillConnect's REST API.</summary>
    public static Api Connect { get; private set; } = null!;
    public static int ConnectPort { get; private set; }
    public static Bus Bus { get; private set; } = null!;

    /// <summary>Thrill-ID's issuer URL, its database and the key that seals its signing keys (to mint tokens as an insider).</summary>
    public static string Issuer => thrillId.BaseUrl;
    public static string IdDatabase { get; private set; } = null!;
    public static readonly string IdEncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The platform organisation's bootstrap admin (*:*:write): sets up ThrillPots and ThrillGate for everyone.</summary>
    public static string Platform { get; private set; } = null!;
    /// <summary>cna's organisation-level service account: thrillconnect events read, cors write.</summary>
    public static string OperatorA { get; private set; } = null!;
    /// <summary>cna's account bound to unit a1: thrillconnect events read, cors write.</summary>
    public static string BrandA1 { get; private set; } = null!;
    /// <summary>cna's organisation-level account with thrillconnect cors read only (no events).</summary>
    public static string CorsReaderA { get; private set; } = null!;
    /// <summary>cna's account with no permission at all.</summary>
    public static string NoPermissionA { get; private set; } = null!;
    /// <summary>cnb's organisation-level account: thrillconnect events read, cors write.</summary>
    public static string OperatorB { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var idPort = TestEnvironment.FreePort();
        thrillId = ServiceProcess.Start("ThrillId", idPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = idPort.ToString(),
            ["ConnectionStrings__thrillid"] = IdDatabase = Database("connid"),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = $"http://127.0.0.1:{idPort}",
            ["SigningKeys__EncryptionKey"] = IdEncryptionKey,
            ["Bootstrap__AdminUser"] = Admin,
            ["Bootstrap__AdminPassword"] = AdminPassword,
        });
        var walletPort = TestEnvironment.FreePort();
        wallet = ServiceProcess.Start("ReferenceWallet", walletPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = walletPort.ToString(),
            ["ConnectionStrings__referencewallet"] = Database("connwallet"),
            ["Wallet__Secret"] = WalletSecret,
            ["Wallet__AdminToken"] = WalletAdminToken,
        });
        var gatePort = TestEnvironment.FreePort();
        gateGrpcPort = TestEnvironment.FreePort();
        gate = ServiceProcess.Start("ThrillGate", gatePort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = gatePort.ToString(),
            ["Service__GrpcPort"] = gateGrpcPort.ToString(),
            ["ConnectionStrings__thrillgate"] = Database("conngate"),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Auth__Issuer"] = thrillId.BaseUrl,
            ["Wallets__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        });
        var potsPort = TestEnvironment.FreePort();
        potsGrpcPort = TestEnvironment.FreePort();
        pots = ServiceProcess.Start("ThrillPots", potsPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = potsPort.ToString(),
            ["Service__GrpcPort"] = potsGrpcPort.ToString(),
            ["ConnectionStrings__thrillpots"] = Database("connpots"),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Grpc__Endpoints__thrillgate"] = $"http://127.0.0.1:{gateGrpcPort}",
            ["Auth__Issuer"] = thrillId.BaseUrl,
            ["Webhooks__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        });
        ConnectPort = TestEnvironment.FreePort();
        connect = StartConnect(ConnectPort, Database("connect"));
        Bus = await Bus.StartAsync();
        await Task.WhenAll(thrillId.WaitReadyAsync(), wallet.WaitReadyAsync(), gate.WaitReadyAsync(), pots.WaitReadyAsync(), connect.WaitReadyAsync());

        Pots = new Api(new HttpClient { BaseAddress = new Uri(pots.BaseUrl) });
        Gate = new Api(new HttpClient { BaseAddress = new Uri(gate.BaseUrl) });
        Wallet = new Api(new HttpClient { BaseAddress = new Uri(wallet.BaseUrl) });
        Connect = new Api(new HttpClient { BaseAddress = new Uri(connect.BaseUrl) });

        id = new HttpClient { BaseAddress = new Uri(thrillId.BaseUrl) };
        using (var login = await id.PostAsJsonAsync("/accounts/auth", new { username = Admin, password = AdminPassword }))
            Platform = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        await IdAdminAsync("/admin/organisations", new { id = OrgA, units = new[] { "a1", "a2", "a3", "a4" }, enabled = true });
        await IdAdminAsync("/admin/organisations", new { id = OrgB, units = new[] { "y1" }, enabled = true });
        OperatorA = await ClientTokenAsync("cna-ops", OrgA, null, events: true, cors: "Write");
        BrandA1 = await ClientTokenAsync("cna-a1", OrgA, "a1", events: true, cors: "Write");
        CorsReaderA = await ClientTokenAsync("cna-cors-reader", OrgA, null, events: false, cors: "Read");
        NoPermissionA = await ClientTokenAsync("cna-none", OrgA, null, events: false, cors: null);
        OperatorB = await ClientTokenAsync("cnb-ops", OrgB, null, events: true, cors: "Write");

        await RegisterAsync(walletPort);
        await WarmUpAsync();
    }

    /// <summary>A ThrillConnect process on its own database, reading from this run's ThrillPots and ThrillGate.</summary>
    public static ServiceProcess StartConnect(int port, string connectionString) =>
        ServiceProcess.Start("ThrillConnect", port, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = port.ToString(),
            ["Service__ShutdownGraceSeconds"] = "10",
            ["ConnectionStrings__thrillconnect"] = connectionString,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Grpc__Endpoints__thrillgate"] = $"http://127.0.0.1:{gateGrpcPort}",
            ["Grpc__Endpoints__thrillpots"] = $"http://127.0.0.1:{potsGrpcPort}",
            ["Auth__Issuer"] = thrillId.BaseUrl,
        });

    /// <summary>A database of this run (dropped at the end) and its connection string.</summary>
    public static string Database(string prefix)
    {
        var connectionString = TestEnvironment.UniqueDatabase(prefix, out var name);
        lock (databases) databases.Add(name);
        return connectionString;
    }

    /// <summary>The operators, brands, currencies and wallets every test expects.</summary>
    static async Task RegisterAsync(int walletPort)
    {
        (await Pots.PostAsync("/config/operators", Platform, new { id = OrgA, name = "Connect A" })).Expect(HttpStatusCode.Created);
        (await Pots.PostAsync("/config/operators/cna/brands", Platform, new[] { "a1", "a2", "a3", "a4" }.Select(b => new { id = b, name = "Brand " + b })))
            .Expect(HttpStatusCode.OK);
        (await Pots.PostAsync("/config/operators", Platform, new { id = OrgB, name = "Connect B" })).Expect(HttpStatusCode.Created);
        (await Pots.PostAsync("/config/operators/cnb/brands", Platform, new[] { new { id = "y1", name = "Brand y1" } })).Expect(HttpStatusCode.OK);
        (await Pots.PutAsync("/config/currencies", Platform, new
        {
            base_currency = "EUR",
            multipliers = new Dictionary<string, decimal> { ["EUR"] = 1m, ["USD"] = 1.1m, ["SEK"] = 11.5m, ["GBP"] = 0.85m },
        })).Expect(HttpStatusCode.OK);
        (await Pots.PutAsync("/config/currencies/brands/cna:a2", Platform, new { multipliers = new Dictionary<string, decimal> { ["USD"] = 1.25m } }))
            .Expect(HttpStatusCode.OK);
        foreach (var (op, brand, port) in new[] { (OrgA, "a1", walletPort), (OrgA, "a2", walletPort), (OrgB, "y1", walletPort), (OrgA, "a4", TestEnvironment.FreePort()) })
            (await Gate.PostAsync("/admin/wallets", Platform, new
            {
                id = $"wallet-{op}-{brand}",
                operator_id = op,
                brand_id = brand,
                wallet_type = "StandardWallet",
                connection_details = new { protocol = "http", host = "127.0.0.1", port },
                endpoints = new Dictionary<string, object>
                {
                    ["auth"] = new Dictionary<string, string> { ["POST"] = "/wallet/authenticate" },
                    ["balance"] = new Dictionary<string, string> { ["GET"] = "/wallet/balance" },
                    ["transaction"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction" },
                    ["transaction_batch"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction/batch" },
                    ["cancel_bet"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/cancel" },
                    ["cancel_batch"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/transaction/batch" },
                },
                config = new { secret_key = WalletSecret, request_timeout = 2, request_retry_limit = 0, request_retry_backoff = 1 },
            })).Expect(HttpStatusCode.Created);
    }

    /// <summary>
    /// ThrillConnect is ready before its per-replica queues are bound, and an event published before that is lost: publish
    /// one of each kind until a service connection has seen each, so every test starts with the consumers listening.
    /// </summary>
    static async Task WarmUpAsync()
    {
        await using var service = await Ws.ServiceAsync(OperatorA);
        await service.SubscribeAsync("*");
        await service.SubscribeToAsync("thrillgate", "*");
        var instance = Guid.NewGuid();
        var player = "warm-" + Guid.NewGuid().ToString("N")[..8];
        var missing = new HashSet<string> { "JackpotUpdate", "WinEvent", "OptInEvent", "PlayerBonusUpdated" };
        var bonus = Events.Bonus(Guid.NewGuid(), "Available");
        await Eventually.TrueAsync(async () =>
        {
            if (missing.Contains("JackpotUpdate")) await Bus.PublishAsync(Events.Update(instance, OrgA, ["cna:a1"]));
            if (missing.Contains("WinEvent")) await Bus.PublishAsync(Events.Win(instance, "cna:a1", player, 1m));
            if (missing.Contains("OptInEvent")) await Bus.PublishAsync(Events.OptIn(instance, "cna:a1", player));
            if (missing.Contains("PlayerBonusUpdated"))
                await Bus.PublishAsync(new ThrillSuite.Contracts.Gate.PlayerBonusUpdated(OrgA, "a1", player, bonus, Events.NextTimestamp()));
            if (await service.TryNextAsync(f => missing.Contains(f.Name) && (f.InstanceId == instance || f.Name == "PlayerBonusUpdated"),
                    TimeSpan.FromSeconds(1)) is { } frame)
                missing.Remove(frame.Name);
            return missing.Count == 0;
        }, TimeSpan.FromSeconds(60), "ThrillConnect to consume JackpotUpdated, JackpotWon, OptInChanged and PlayerBonusUpdated");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        Pots?.Dispose();
        Gate?.Dispose();
        Wallet?.Dispose();
        Connect?.Dispose();
        id?.Dispose();
        if (Bus is not null) await Bus.DisposeAsync();
        if (connect is not null) await connect.DisposeAsync();
        if (pots is not null) await pots.DisposeAsync();
        if (gate is not null) await gate.DisposeAsync();
        if (wallet is not null) await wallet.DisposeAsync();
        if (thrillId is not null) await thrillId.DisposeAsync();
        foreach (var (process, log) in new[] { (connect, "thrillconnect-integration.log"), (pots, "connect-thrillpots.log"), (gate, "connect-thrillgate.log"),
                     (wallet, "connect-referencewallet.log"), (thrillId, "connect-thrillid.log") })
            if (process is not null) KeepOutput(process, log);
        foreach (var database in databases) await TestEnvironment.DropDatabaseAsync(database);
    }

    public static string ConnectOutput => connect.Output;

    /// <summary>Kept for failure reports: build/test prints the logs directory's path.</summary>
    public static void KeepOutput(ServiceProcess process, string name)
    {
        if (Environment.GetEnvironmentVariable("THRILLSUITE_TEST_STATE_DIR") is { Length: > 0 } state && Directory.Exists(Path.Combine(state, "logs")))
            File.WriteAllText(Path.Combine(state, "logs", name), process.Output);
    }

    static async Task<JsonElement> IdAdminAsync(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Platform);
        using var response = await id.SendAsync(request);
        Assert.That((int)response.StatusCode, Is.InRange(200, 299), await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>A Service account with thrillconnect permissions (events read, cors at a level), its client and a client-credentials token.</summary>
    static async Task<string> ClientTokenAsync(string username, string org, string? unit, bool events, string? cors)
    {
        var granted = new List<object>();
        if (events) granted.Add(new { resource_id = "events", permission = "Read" });
        if (cors is not null) granted.Add(new { resource_id = "cors", permission = cors });
        var permissions = granted.Count == 0 ? [] : new[] { new { system_id = "thrillconnect", permissions = granted.ToArray() } };
        var account = await IdAdminAsync("/admin/accounts", new { username, account_type = "Service", org_id = org, unit_id = unit, permissions });
        var client = await IdAdminAsync($"/admin/accounts/{account.GetProperty("id").GetString()}/clients", new { });
        using var token = await id.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = client.GetProperty("client_id").GetString()!,
            ["client_secret"] = client.GetProperty("client_secret").GetString()!,
        }));
        Assert.That(token.StatusCode, Is.EqualTo(HttpStatusCode.OK), await token.Content.ReadAsStringAsync());
        return (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    /// <summary>A player of the brand in the reference wallet, with its session token.</summary>
    public static async Task<Player> PlayerAsync(string brandKey = "cna:a1", string currency = "EUR")
    {
        var (op, brand) = (brandKey.Split(':')[0], brandKey.Split(':')[1]);
        return await PutPlayerAsync(new Player("pl-" + Guid.NewGuid().ToString("N")[..12], "tok-" + Guid.NewGuid().ToString("N"), op, brand, currency));
    }

    /// <summary>The same player with a new session token: the wallet no longer knows the old one.</summary>
    public static Task<Player> RenewTokenAsync(Player player) => PutPlayerAsync(player with { Token = "tok-" + Guid.NewGuid().ToString("N") });

    static async Task<Player> PutPlayerAsync(Player player)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/sim/players/" + player.Id)
        {
            Content = JsonContent.Create(new
            {
                token = player.Token, currency = player.Currency, balance = 100m, operator_id = player.Operator, brand_id = player.Brand, country = "MT",
                nickname = "Tester",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", WalletAdminToken);
        using var response = await Wallet.Http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return player;
    }
}

public sealed record Player(string Id, string Token, string Operator, string Brand, string Currency)
{
    public string BrandKey => $"{Operator}:{Brand}";
}
