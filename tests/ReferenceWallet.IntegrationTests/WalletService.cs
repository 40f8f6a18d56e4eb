using System.Security.Cryptography;

namespace ReferenceWallet.IntegrationTests;

/// <summary>One wallet process, on a database of its own, shared by the fixtures; each test owns its players.</summary>
[SetUpFixture]
public sealed class WalletService
{
    static string database = null!;
    static ServiceProcess process = null!;
    public static WalletClient Client { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var (secret, admin) = (NewSecret(), NewSecret());
        process = await StartAsync(TestEnvironment.UniqueDatabase("wallet", out database), secret, admin);
        Client = new WalletClient(process.BaseUrl, secret, admin);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        Client?.Dispose();
        if (process is not null) await process.DisposeAsync();
        if (database is not null) await TestEnvironment.DropDatabaseAsync(database);
    }

    public static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static ServiceProcess Start(string connectionString, string? secret, string adminToken, IReadOnlyDictionary<string, string>? extra = null)
    {
        var httpPort = TestEnvironment.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["Service__HttpPort"] = httpPort.ToString(),
            ["Service__BindAddress"] = "127.0.0.1",
            ["ConnectionStrings__referencewallet"] = connectionString,
            ["Wallet__AdminToken"] = adminToken,
        };
        if (secret is not null) settings["Wallet__Secret"] = secret;
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) settings[key] = value;
        return ServiceProcess.Start("ReferenceWallet", httpPort, settings);
    }

    public static async Task<ServiceProcess> StartAsync(string connectionString, string secret, string adminToken,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var started = Start(connectionString, secret, adminToken, extra);
        try
        {
            await started.WaitReadyAsync();
            return started;
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }
    }
}
