using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// One real Thrill-ID and one real ThrillPots process for the whole run, and the callers the tests act as. Thrill-ID knows
/// organisations "tpa" (units b1, b2, b3) and "tpb" (unit x1); ThrillPots registers tpa with b1, b2 (b3 stays unregistered) and tpb with x1.
/// </summary>
[SetUpFixture]
public sealed class Servers
{
    public const string Admin = "admin@thrilltech.io";
    static readonly string[] Resources = ["operators", "sources", "currencies", "templates", "instances", "audit", "contributions"];
    static readonly string AdminPassword = "bootstrap-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    static ServiceProcess thrillId = null!, thrillPots = null!, thrillGate = null!, wallet = null!;
    static string gateDatabase = null!, walletDatabase = null!;
    static readonly string WebhookKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    static string idDatabase = null!, potsDatabase = null!;
    static HttpClient id = null!;

    public static Api Pots { get; private set; } = null!;
    /// <summary>ThrillPots' gRPC port (h2c), its database, and the test's bus listening to what it publishes.</summary>
    public static int PotsGrpcPort { get; private set; }
    public static string PotsDatabase { get; private set; } = null!;
    public static Events Events { get; private set; } = null!;
    /// <summary>ThrillGate (wallet adapter) and the reference wallet it calls, for wallet-integrated brands.</summary>
    public static Api Gate { get; private set; } = null!;
    public static Api Wallet { get; private set; } = null!;
    public static readonly string WalletSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public static readonly string WalletAdminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    public static int WalletPort { get; private set; }
    static int gateGrpcPort;
    public static int GateGrpcPort => gateGrpcPort;
    /// <summary>The platform organisation's bootstrap admin (*:*:write): acts for every owner, sets system currencies.</summary>
    public static string Platform { get; private set; } = null!;
    /// <summary>Organisation-level accounts of tpa and tpb holding thrillpots:*:write for every resource.</summary>
    public static string OperatorA { get; private set; } = null!;
    public static string OperatorB { get; private set; } = null!;
    /// <summary>tpa accounts: bound to unit b1 (write), organisation-level read-only, and one with no permission.</summary>
    public static string BrandB1 { get; private set; } = null!;
    public static string ReadOnlyA { get; private set; } = null!;
    public static string NoPermissionA { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var idPort = TestEnvironment.FreePort();
        thrillId = ServiceProcess.Start("ThrillId", idPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = idPort.ToString(),
            ["ConnectionStrings__thrillid"] = TestEnvironment.UniqueDatabase("potsid", out idDatabase),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = $"http://127.0.0.1:{idPort}",
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = Admin,
            ["Bootstrap__AdminPassword"] = AdminPassword,
        });
        WalletPort = TestEnvironment.FreePort();
        wallet = ServiceProcess.Start("ReferenceWallet", WalletPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = WalletPort.ToString(),
            ["ConnectionStrings__referencewallet"] = TestEnvironment.UniqueDatabase("potswallet", out walletDatabase),
            ["Wallet__Secret"] = WalletSecret,
            ["Wallet__AdminToken"] = WalletAdminToken,
        });
        var gatePort = TestEnvironment.FreePort();
        gateGrpcPort = TestEnvironment.FreePort();
        thrillGate = ServiceProcess.Start("ThrillGate", gatePort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = gatePort.ToString(),
            ["Service__GrpcPort"] = gateGrpcPort.ToString(),
            ["ConnectionStrings__thrillgate"] = TestEnvironment.UniqueDatabase("potsgate", out gateDatabase),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Auth__Issuer"] = thrillId.BaseUrl,
            ["Wallets__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        });
        PotsGrpcPort = TestEnvironment.FreePort();
        Events = await Events.StartAsync();
        thrillPots = StartPots(TestEnvironment.FreePort(), PotsGrpcPort, PotsDatabase = TestEnvironment.UniqueDatabase("potsadmin", out potsDatabase));
        await Task.WhenAll(thrillId.WaitReadyAsync(), thrillPots.WaitReadyAsync(), thrillGate.WaitReadyAsync(), wallet.WaitReadyAsync());
        Gate = new Api(new HttpClient { BaseAddress = new Uri(thrillGate.BaseUrl) });
        Wallet = new Api(new HttpClient { BaseAddress = new Uri(wallet.BaseUrl) });

        id = new HttpClient { BaseAddress = new Uri(thrillId.BaseUrl) };
        using (var login = await id.PostAsJsonAsync("/accounts/auth", new { username = Admin, password = AdminPassword }))
            Platform = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        await IdAdminAsync("/admin/organisations", new { id = "tpa", units = new[] { "b1", "b2", "b3" }, enabled = true });
        await IdAdminAsync("/admin/organisations", new { id = "tpb", units = new[] { "x1" }, enabled = true });
        OperatorA = await ClientTokenAsync("tpa-ops", "tpa", null, "Write");
        OperatorB = await ClientTokenAsync("tpb-ops", "tpb", null, "Write");
        BrandB1 = await ClientTokenAsync("tpa-b1", "tpa", "b1", "Write");
        ReadOnlyA = await ClientTokenAsync("tpa-reader", "tpa", null, "Read");
        NoPermissionA = await ClientTokenAsync("tpa-none", "tpa", null, null);

        Pots = new Api(new HttpClient { BaseAddress = new Uri(thrillPots.BaseUrl) });
        await RegisterAsync(Pots);
    }

    /// <summary>A ThrillPots process on its own database, trusting this run's Thrill-ID.</summary>
    public static ServiceProcess StartPots(int httpPort, int grpcPort, string connectionString) =>
        ServiceProcess.Start("ThrillPots", httpPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = httpPort.ToString(),
            ["Service__GrpcPort"] = grpcPort.ToString(),
            ["ConnectionStrings__thrillpots"] = connectionString,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Grpc__Endpoints__thrillgate"] = $"http://127.0.0.1:{gateGrpcPort}",
            ["Auth__Issuer"] = thrillId.BaseUrl,
            ["Webhooks__EncryptionKey"] = WebhookKey,
            // Webhook tests watch retries: keep the backoff short.
            ["Webhooks__MaxBackoff"] = "00:00:01",
            ["Webhooks__MaxAttempts"] = "3",
            // A contributor-totals fold asked for after every batch, so every test that contributes moves the mark (ContributorTotalsTests).
            ["Contributions__TotalsLag"] = "00:00:00",
            ["Contributions__TotalsInterval"] = "00:00:00",
        });

    /// <summary>The operators, brands and currencies every test expects, in a fresh ThrillPots.</summary>
    public static async Task RegisterAsync(Api pots)
    {
        (await pots.SendAsync(HttpMethod.Post, "/config/operators", OperatorA, new { id = "tpa", name = "Operator A" })).Expect(HttpStatusCode.Created);
        (await pots.SendAsync(HttpMethod.Post, "/config/operators/tpa/brands", OperatorA,
            new[] { new { id = "b1", name = "Brand 1" }, new { id = "b2", name = "Brand 2" } })).Expect(HttpStatusCode.OK);
        (await pots.SendAsync(HttpMethod.Post, "/config/operators", OperatorB, new { id = "tpb", name = "Operator B" })).Expect(HttpStatusCode.Created);
        (await pots.SendAsync(HttpMethod.Post, "/config/operators/tpb/brands", OperatorB, new[] { new { id = "x1", name = "X 1" } })).Expect(HttpStatusCode.OK);
        (await pots.SendAsync(HttpMethod.Put, "/config/currencies", Platform, Currencies.Defaults)).Expect(HttpStatusCode.OK);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        Pots?.Dispose();
        Gate?.Dispose();
        Wallet?.Dispose();
        if (Events is not null) await Events.DisposeAsync();
        id?.Dispose();
        // Every process is stopped before anything else can fail: one left running would keep consuming this run's queues
        // (a ThrillGate of an earlier run took CreditWin commands and credited a wallet that was gone).
        if (thrillPots is not null) await thrillPots.DisposeAsync();
        if (thrillGate is not null) await thrillGate.DisposeAsync();
        if (wallet is not null) await wallet.DisposeAsync();
        if (thrillId is not null) await thrillId.DisposeAsync();
        // Kept for failure reports: build/test prints the logs directory's path.
        if (Environment.GetEnvironmentVariable("THRILLSUITE_TEST_STATE_DIR") is { Length: > 0 } state)
        {
            var logs = Directory.CreateDirectory(Path.Combine(state, "logs")).FullName;
            foreach (var (name, process) in new[] { ("thrillpots-integration", thrillPots), ("thrillgate-for-thrillpots", thrillGate),
                         ("referencewallet-for-thrillpots", wallet) })
                if (process is not null) await File.WriteAllTextAsync(Path.Combine(logs, name + ".log"), process.Output);
        }
        foreach (var database in new[] { gateDatabase, walletDatabase, potsDatabase, idDatabase })
            if (database is not null) await TestEnvironment.DropDatabaseAsync(database);
    }

    static async Task<JsonElement> IdAdminAsync(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Platform);
        using var response = await id.SendAsync(request);
        Assert.That((int)response.StatusCode, Is.InRange(200, 299), await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>A Service account with the level on every ThrillPots resource (none when null), its client, and a client-credentials token.</summary>
    static async Task<string> ClientTokenAsync(string username, string org, string? unit, string? level)
    {
        var permissions = level is null ? [] : new[]
        {
            new { system_id = "thrillpots", permissions = Resources.Select(r => new { resource_id = r, permission = level }).ToArray() },
            new { system_id = "thrillgate", permissions = new[] { "wallets", "credits", "audit", "bonuses" }.Select(r => new { resource_id = r, permission = level }).ToArray() },
        };
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
}
