using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;

namespace BitBridge.IntegrationTests;

/// <summary>
/// One real Thrill-ID and BitBridge for the whole run, the test's bus, the local peers (webhook receiver and Telegram Bot API),
/// and the callers the tests act as. Thrill-ID knows organisations "bba" (units b1…b60, a fresh one per test through
/// <see cref="Brands.Next"/>) and "bbb" (unit y1).
/// </summary>
[SetUpFixture]
public sealed class Servers
{
    public const string Operator = "bba";
    public const string OtherOperator = "bbb";
    public const int Units = 60;
    const string Admin = "admin@thrilltech.io";
    static readonly string AdminPassword = "bootstrap-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    // The same key across a restart: it opens the secrets the previous process sealed.
    static readonly string EncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    static ServiceProcess thrillId = null!;
    // Replaced by KillAndRestartAsync, which disposes the one it kills; the last one is disposed in StopAsync.
#pragma warning disable NUnit1032
    static ServiceProcess bridge = null!;
#pragma warning restore NUnit1032
    static string idDatabase = null!, bridgeDatabase = null!;
    static int bridgeHttpPort;
    static HttpClient id = null!;

    public static Api Bridge { get; private set; } = null!;
    public static Bus Bus { get; private set; } = null!;
    public static Peers Peers { get; private set; } = null!;
    /// <summary>BitBridge's own database, for what only it can show.</summary>
    public static string BridgeDatabase { get; private set; } = null!;
    public static string BridgeOutput => bridge.Output;

    /// <summary>The platform administrator (organisation thrilltech, every permission): the only one who may manage global dispatchers.</summary>
    public static string Platform { get; private set; } = null!;
    /// <summary>bba's and bbb's organisation-level accounts with bitbridge dispatchers, templates, deliveries and audit: write.</summary>
    public static string OperatorA { get; private set; } = null!;
    public static string OperatorB { get; private set; } = null!;
    /// <summary>bba accounts: read-only on every BitBridge resource, and one with no permission at all.</summary>
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
            ["ConnectionStrings__thrillid"] = TestEnvironment.UniqueDatabase("bbid", out idDatabase),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = $"http://127.0.0.1:{idPort}",
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = Admin,
            ["Bootstrap__AdminPassword"] = AdminPassword,
        });
        bridgeHttpPort = TestEnvironment.FreePort();
        BridgeDatabase = TestEnvironment.UniqueDatabase("bb", out bridgeDatabase);
        Peers = await Peers.StartAsync();
        Bus = await Bus.StartAsync();
        bridge = StartBridge();
        await Task.WhenAll(thrillId.WaitReadyAsync(), bridge.WaitReadyAsync());

        id = new HttpClient { BaseAddress = new Uri(thrillId.BaseUrl) };
        using (var login = await id.PostAsJsonAsync("/accounts/auth", new { username = Admin, password = AdminPassword }))
            Platform = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        await IdAdminAsync("/admin/organisations", new { id = Operator, units = Enumerable.Range(1, Units).Select(i => $"b{i}").ToArray(), enabled = true });
        await IdAdminAsync("/admin/organisations", new { id = OtherOperator, units = new[] { "y1" }, enabled = true });
        OperatorA = await ClientTokenAsync("bba-ops", Operator, "Write");
        OperatorB = await ClientTokenAsync("bbb-ops", OtherOperator, "Write");
        ReadOnlyA = await ClientTokenAsync("bba-reader", Operator, "Read");
        NoPermissionA = await ClientTokenAsync("bba-none", Operator, null);
        Bridge = new Api(new HttpClient { BaseAddress = new Uri(bridge.BaseUrl) });
    }

    static ServiceProcess StartBridge() =>
        ServiceProcess.Start("BitBridge", bridgeHttpPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = bridgeHttpPort.ToString(),
            ["ConnectionStrings__bitbridge"] = BridgeDatabase,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Auth__Issuer"] = thrillId.BaseUrl,
            ["Dispatchers__EncryptionKey"] = EncryptionKey,
            // Retries within seconds, so that failure tests finish quickly; the lease (timeout + 5 s) bounds the wait after a crash.
            ["Deliveries__FirstRetryDelay"] = "00:00:00.2",
            ["Deliveries__MaxRetryDelay"] = "00:00:01",
            ["Deliveries__MaxAttempts"] = "6",
            ["Deliveries__AttemptTimeout"] = "00:00:03",
            ["Deliveries__PollInterval"] = "00:00:00.1",
            ["Deliveries__BreakDuration"] = "00:00:01",
            ["Dispatchers__CacheFor"] = "00:00:00",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        });

    /// <summary>SIGKILLs BitBridge (no chance to finish or release anything) and starts it again on the same port and database.</summary>
    public static async Task KillAndRestartAsync()
    {
        await bridge.KillAsync();
        KeepOutput(bridge, "bitbridge-killed.log");
        await bridge.DisposeAsync();
        bridge = StartBridge();
        await bridge.WaitReadyAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        Bridge?.Dispose();
        id?.Dispose();
        if (Bus is not null) await Bus.DisposeAsync();
        if (Peers is not null) await Peers.DisposeAsync();
        if (bridge is not null)
        {
            await bridge.DisposeAsync();
            KeepOutput(bridge, "bitbridge-integration.log");
        }
        if (thrillId is not null) await thrillId.DisposeAsync();
        foreach (var database in new[] { bridgeDatabase, idDatabase })
            if (database is not null) await TestEnvironment.DropDatabaseAsync(database);
    }

    // Kept for failure reports: build/test prints the logs directory's path.
    static void KeepOutput(ServiceProcess process, string name)
    {
        if (Environment.GetEnvironmentVariable("THRILLSUITE_TEST_STATE_DIR") is { Length: > 0 } state)
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

    /// <summary>A Service account with the level on every BitBridge resource (none when null), and a client-credentials token of it.</summary>
    static async Task<string> ClientTokenAsync(string username, string org, string? level)
    {
        var permissions = level is null ? [] : new[]
        {
            new { system_id = "bitbridge", permissions = new[] { "dispatchers", "templates", "deliveries", "audit" }.Select(r => new { resource_id = r, permission = level }).ToArray() },
        };
        var account = await IdAdminAsync("/admin/accounts", new { username, account_type = "Service", org_id = org, permissions });
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

/// <summary>A brand of bba no other test uses, so each test owns its dispatchers, templates and events.</summary>
public static class Brands
{
    static int next;

    public static string Next()
    {
        var n = Interlocked.Increment(ref next);
        if (n > Servers.Units) throw new InvalidOperationException($"More than {Servers.Units} brands used: raise Servers.Units.");
        return $"b{n}";
    }
}
