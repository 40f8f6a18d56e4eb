using System.Security.Cryptography;
using ThrillSuite.Grpc;

namespace ThrillGate.IntegrationTests;

/// <summary>
/// One real Thrill-ID, reference wallet and ThrillGate for the whole run, the test's bus, and the callers the tests act as.
/// Thrill-ID knows organisations "gta" (units w1…w120, a fresh one per test through <see cref="Brands.Next"/>) and "gtb"
/// (unit x1); the reference wallet's players belong to gta's brands.
/// </summary>
[SetUpFixture]
public sealed class Servers
{
    public const string Operator = "gta";
    public const string OtherOperator = "gtb";
    public const int Units = 120;
    // The same key across a restart: it opens the secrets the previous process sealed.
    static readonly string EncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    static readonly Dictionary<string, string[]> Resources = new() { ["thrillgate"] = ["wallets", "credits", "audit", "bonuses"] };
    static TestThrillId thrillId = null!;
    static ServiceProcess wallet = null!;
    // Replaced by KillAndRestartGateAsync, which disposes the one it kills; the last one is disposed in StopAsync.
#pragma warning disable NUnit1032
    static ServiceProcess gate = null!;
#pragma warning restore NUnit1032
    static string walletDatabase = null!, gateDatabase = null!;
    static int gateHttpPort, gateGrpcPort;
    static GrpcClient? grpc;

    public static Api Gate { get; private set; } = null!;
    public static ReferenceWallet Wallet { get; private set; } = null!;
    public static Events Events { get; private set; } = null!;
    /// <summary>ThrillGate's own database, for what only it can show (inbox, debit states).</summary>
    public static string GateDatabase { get; private set; } = null!;
    /// <summary>The HMAC key the reference wallet checks, as a wallet definition's config.secret_key.</summary>
    public static string WalletSecret { get; } = "wallet-secret-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public static int WalletPort { get; private set; }
    public static string GateOutput => gate.Output;

    /// <summary>gta's organisation-level account with thrillgate wallets, credits and audit: write.</summary>
    public static string OperatorA { get; private set; } = null!;
    /// <summary>gtb's organisation-level account with the same permissions, for its own brand x1 only.</summary>
    public static string OperatorB { get; private set; } = null!;
    /// <summary>gta accounts: read-only on every ThrillGate resource, and one with no permission at all.</summary>
    public static string ReadOnlyA { get; private set; } = null!;
    public static string NoPermissionA { get; private set; } = null!;

    /// <summary>
    /// No client-side retries: a test must see ThrillGate's first answer (an UNAVAILABLE debit has already been cancelled, and
    /// a resent one would be refused by the wallet instead).
    /// </summary>
    public static GrpcClient Grpc => grpc ??= GrpcClient.ForAddress($"http://127.0.0.1:{gateGrpcPort}", new GrpcClientOptions { MaxRetryAttempts = 0 });

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        thrillId = TestThrillId.Start("gateid");
        WalletPort = TestEnvironment.FreePort();
        var walletAdmin = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        wallet = ServiceProcess.Start("ReferenceWallet", WalletPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = WalletPort.ToString(),
            ["ConnectionStrings__referencewallet"] = TestEnvironment.UniqueDatabase("gatewallet", out walletDatabase),
            ["Wallet__Secret"] = WalletSecret,
            ["Wallet__AdminToken"] = walletAdmin,
        });
        (gateHttpPort, gateGrpcPort) = (TestEnvironment.FreePort(), TestEnvironment.FreePort());
        GateDatabase = TestEnvironment.UniqueDatabase("gate", out gateDatabase);
        Events = await Events.StartAsync();
        gate = StartGate();
        await Task.WhenAll(thrillId.WaitReadyAsync(), wallet.WaitReadyAsync(), gate.WaitReadyAsync());

        await thrillId.OrganisationAsync(Operator, Enumerable.Range(1, Units).Select(i => $"w{i}"));
        await thrillId.OrganisationAsync(OtherOperator, ["x1"]);
        OperatorA = await thrillId.ClientTokenAsync("gta-ops", Operator, null, Resources, "Write");
        OperatorB = await thrillId.ClientTokenAsync("gtb-ops", OtherOperator, null, Resources, "Write");
        ReadOnlyA = await thrillId.ClientTokenAsync("gta-reader", Operator, null, Resources, "Read");
        NoPermissionA = await thrillId.ClientTokenAsync("gta-none", Operator, null, Resources, null);

        Gate = new Api(new HttpClient { BaseAddress = new Uri(gate.BaseUrl) });
        Wallet = new ReferenceWallet(new HttpClient { BaseAddress = new Uri(wallet.BaseUrl) }, walletAdmin);
    }

    static ServiceProcess StartGate() =>
        ServiceProcess.Start("ThrillGate", gateHttpPort, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = gateHttpPort.ToString(),
            ["Service__GrpcPort"] = gateGrpcPort.ToString(),
            ["ConnectionStrings__thrillgate"] = GateDatabase,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Auth__Issuer"] = thrillId.BaseUrl,
            ["Wallets__EncryptionKey"] = EncryptionKey,
            // Its log tells when each attempt, timeout and re-drive happened, for failure reports.
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        });

    /// <summary>SIGKILLs ThrillGate (no chance to finish or release anything) and starts it again on the same ports and database.</summary>
    public static async Task KillAndRestartGateAsync(Func<Task>? whileDown = null)
    {
        await gate.KillAsync();
        gate.KeepOutput("thrillgate-killed.log");
        await gate.DisposeAsync();
        grpc?.Dispose();
        grpc = null;
        if (whileDown is not null) await whileDown();
        gate = StartGate();
        await gate.WaitReadyAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        grpc?.Dispose();
        Gate?.Dispose();
        Wallet?.Dispose();
        if (Events is not null) await Events.DisposeAsync();
        if (gate is not null)
        {
            await gate.DisposeAsync();
            gate.KeepOutput("thrillgate-integration.log");
        }
        if (wallet is not null)
        {
            await wallet.DisposeAsync();
            wallet.KeepOutput("gate-referencewallet.log");
        }
        if (thrillId is not null) await thrillId.DisposeAsync();
        foreach (var database in new[] { gateDatabase, walletDatabase })
            if (database is not null) await TestEnvironment.DropDatabaseAsync(database);
    }
}

/// <summary>A brand of gta no other test uses, so each test owns its wallet definition, its players and its circuit breaker.</summary>
public static class Brands
{
    static int next;

    public static string Next()
    {
        var n = Interlocked.Increment(ref next);
        if (n > Servers.Units) throw new InvalidOperationException($"More than {Servers.Units} brands used: raise Servers.Units.");
        return $"w{n}";
    }
}
