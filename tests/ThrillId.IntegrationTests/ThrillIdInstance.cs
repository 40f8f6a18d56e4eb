using System.Security.Cryptography;

namespace ThrillId.IntegrationTests;

/// <summary>The settings one Thrill-ID process starts with; <c>with</c> a copy to restart on the same database.</summary>
public sealed record ThrillIdConfig(
    string ConnectionString,
    string Database,
    string EncryptionKey,
    string AdminUser,
    string? AdminPassword,
    IReadOnlyDictionary<string, string?> Extra)
{
    public const string BootstrapAdmin = "admin@thrilltech.io";

    /// <summary>A fresh database, encryption key and admin password. The per-address login limit is lifted unless
    /// <paramref name="extra"/> sets it: the shared process serves hundreds of logins from 127.0.0.1.</summary>
    public static ThrillIdConfig New(IReadOnlyDictionary<string, string?>? extra = null)
    {
        var connection = TestEnvironment.UniqueDatabase("thrillid", out var database);
        var settings = new Dictionary<string, string?> { ["Login__PerAddressPerMinute"] = "100000" };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;
        return new ThrillIdConfig(connection, database, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            BootstrapAdmin, Names.Password(), settings);
    }
}

/// <summary>One Thrill-ID process (the real dll) with a client for it.</summary>
public sealed class ThrillIdInstance : IAsyncDisposable
{
    public ServiceProcess Process { get; }
    public ThrillIdConfig Config { get; }
    public IdClient Client { get; }
    public string Issuer => Process.BaseUrl;

    ThrillIdInstance(ServiceProcess process, ThrillIdConfig config)
    {
        Process = process;
        Config = config;
        Client = new IdClient(this);
    }

    /// <summary>The environment a process gets: the brief's settings, then <see cref="ThrillIdConfig.Extra"/> (a null value removes a key).</summary>
    public static Dictionary<string, string> Environment(ThrillIdConfig config, int port)
    {
        var env = new Dictionary<string, string?>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = port.ToString(),
            ["ConnectionStrings__thrillid"] = config.ConnectionString,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = $"http://127.0.0.1:{port}",
            ["SigningKeys__EncryptionKey"] = config.EncryptionKey,
            ["Bootstrap__AdminUser"] = config.AdminUser,
            ["Bootstrap__AdminPassword"] = config.AdminPassword,
        };
        foreach (var (key, value) in config.Extra) env[key] = value;
        return env.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!);
    }

    /// <summary>Starts the process without waiting (for tests of refused start-ups).</summary>
    public static ServiceProcess Launch(ThrillIdConfig config, out int port)
    {
        port = TestEnvironment.FreePort();
        return ServiceProcess.Start("ThrillId", port, Environment(config, port));
    }

    public static async Task<ThrillIdInstance> StartAsync(ThrillIdConfig config)
    {
        var process = Launch(config, out _);
        try
        {
            await process.WaitReadyAsync(TimeSpan.FromSeconds(90));
            return new ThrillIdInstance(process, config);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the process; the database stays for a restart (drop it with <see cref="DropDatabaseAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Process.DisposeAsync();
    }

    public Task DropDatabaseAsync() => TestEnvironment.DropDatabaseAsync(Config.Database);

    /// <summary>Stops the process and drops its database.</summary>
    public async Task StopAndDropAsync()
    {
        await DisposeAsync();
        await DropDatabaseAsync();
    }
}

/// <summary>One Thrill-ID process shared by the fixtures that need no special settings; each test owns its data.</summary>
[SetUpFixture]
public sealed class SharedThrillId
{
    static ThrillIdInstance? instance;

    public static ThrillIdInstance Instance => instance ?? throw new InvalidOperationException("The shared Thrill-ID did not start.");
    public static IdClient Client => Instance.Client;

    [OneTimeSetUp]
    public async Task StartAsync() => instance = await ThrillIdInstance.StartAsync(ThrillIdConfig.New());

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (instance is not null) await instance.StopAndDropAsync();
    }
}

public static class Names
{
    static string Hex(int n) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(n));
    public static string Org() => "org-" + Hex(5);
    public static string Unit() => "unit-" + Hex(4);
    public static string User() => $"user-{Hex(8)}@tests.example";
    public static string Password() => "Pw-" + Hex(12);
}
