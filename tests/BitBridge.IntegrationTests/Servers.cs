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
    // The same key across a restart: it opens the secrets the previous process sealed.
    static readonly string EncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    static readonly Dictionary<string, string[]> Resources = new() { ["bitbridge"] = ["dispatchers", "templates", "deliveries", "audit"] };
    static TestThrillId thrillId = null!;
    // Replaced by KillAndRestartAsync, which disposes the one it kills; the last one is disposed in StopAsync.
#pragma warning disable NUnit1032
    static ServiceProcess bridge = null!;
#pragma warning restore NUnit1032
    static string bridgeDatabase = null!;
    static int bridgeHttpPort;

    public static Api Bridge { get; private set; } = null!;
    public static Bus Bus { get; private set; } = null!;
    public static Peers Peers { get; private set; } = null!;
    /// <summary>BitBridge's own database, for what only it can show.</summary>
    public static string BridgeDatabase { get; private set; } = null!;

    /// <summary>The platform administrator (organisation thrilltech, every permission): the only one who may manage global dispatchers.</summary>
    public static string Platform => thrillId.Platform;
    /// <summary>bba's and bbb's organisation-level accounts with bitbridge dispatchers, templates, deliveries and audit: write.</summary>
    public static string OperatorA { get; private set; } = null!;
    public static string OperatorB { get; private set; } = null!;
    /// <summary>bba accounts: read-only on every BitBridge resource, and one with no permission at all.</summary>
    public static string ReadOnlyA { get; private set; } = null!;
    public static string NoPermissionA { get; private set; } = null!;
    /// <summary>The Thrill-ID process (its forgot-password flow publishes ForgotPasswordStarted to the shared RabbitMQ).</summary>
    public static TestThrillId ThrillId => thrillId;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        thrillId = TestThrillId.Start("bbid");
        bridgeHttpPort = TestEnvironment.FreePort();
        BridgeDatabase = TestEnvironment.UniqueDatabase("bb", out bridgeDatabase);
        Peers = await Peers.StartAsync();
        Bus = await Bus.StartAsync();
        bridge = StartBridge();
        await Task.WhenAll(thrillId.WaitReadyAsync(), bridge.WaitReadyAsync());

        await thrillId.OrganisationAsync(Operator, Enumerable.Range(1, Units).Select(i => $"b{i}"));
        await thrillId.OrganisationAsync(OtherOperator, ["y1"]);
        OperatorA = await thrillId.ClientTokenAsync("bba-ops", Operator, null, Resources, "Write");
        OperatorB = await thrillId.ClientTokenAsync("bbb-ops", OtherOperator, null, Resources, "Write");
        ReadOnlyA = await thrillId.ClientTokenAsync("bba-reader", Operator, null, Resources, "Read");
        NoPermissionA = await thrillId.ClientTokenAsync("bba-none", Operator, null, Resources, null);
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
            ["Deliveries__MaxRetryDelay"] = "00:00:02",
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
        bridge.KeepOutput("bitbridge-killed.log");
        await bridge.DisposeAsync();
        bridge = StartBridge();
        await bridge.WaitReadyAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        Bridge?.Dispose();
        if (Bus is not null) await Bus.DisposeAsync();
        if (Peers is not null) await Peers.DisposeAsync();
        if (bridge is not null)
        {
            await bridge.DisposeAsync();
            bridge.KeepOutput("bitbridge-integration.log");
        }
        if (bridgeDatabase is not null) await TestEnvironment.DropDatabaseAsync(bridgeDatabase);
        if (thrillId is not null) await thrillId.DisposeAsync();
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
