using System.Diagnostics;
using System.Security.Cryptography;

namespace ThrillSuite.EndToEnd;

/// <summary>
/// The whole suite as it runs for real: the six service processes on their own databases, the shared test
/// RabbitMQ, nginx rendered from deploy/nginx/edge.conf.template, and an OTLP receiver for their traces.
/// </summary>
[SetUpFixture]
public sealed class Suite
{
    public static readonly string[] Services = ["ThrillId", "ThrillPots", "ThrillGate", "ThrillConnect", "BitBridge", "ReferenceWallet"];

    public static OtlpReceiver Otlp { get; private set; } = null!;
    public static Dictionary<string, ServiceProcess> Processes { get; } = new();
    public static int EdgeHttpPort { get; private set; }
    public static int EdgeGrpcPort { get; private set; }
    public static string Edge => $"http://127.0.0.1:{EdgeHttpPort}";

    public const string AdminUser = "admin@thrilltech.io";
    public static readonly string AdminPassword = Secret();
    public static readonly string WalletSecret = Secret(), WalletAdminToken = Secret();
    static readonly List<string> databases = [];
    static string nginxPrefix = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        Otlp = await OtlpReceiver.StartAsync();
        var http = Services.ToDictionary(s => s, _ => TestEnvironment.FreePort());
        var potsGrpc = TestEnvironment.FreePort();
        var gateGrpc = TestEnvironment.FreePort();
        EdgeHttpPort = TestEnvironment.FreePort();
        EdgeGrpcPort = TestEnvironment.FreePort();

        foreach (var name in Services)
        {
            var database = name.ToLowerInvariant();
            var env = new Dictionary<string, string>
            {
                ["Service__BindAddress"] = "127.0.0.1",
                ["Service__HttpPort"] = http[name].ToString(),
                ["Service__ShutdownGraceSeconds"] = "10",
                ["Diagnostics__Enabled"] = "true",
                [$"ConnectionStrings__{database}"] = TestEnvironment.UniqueDatabase("e2e_" + database, out var db),
                ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Otlp.Endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
                ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
                ["Grpc__Endpoints__thrillgate"] = $"http://127.0.0.1:{gateGrpc}",
                ["Grpc__Endpoints__thrillpots"] = $"http://127.0.0.1:{potsGrpc}",
                ["Wallet__Secret"] = WalletSecret,
                ["Wallet__AdminToken"] = WalletAdminToken,
                ["ThrillId__Issuer"] = Edge,
                ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["Bootstrap__AdminUser"] = AdminUser,
                ["Bootstrap__AdminPassword"] = AdminPassword,
            };
            databases.Add(db);
            if (name is "ThrillPots" or "ThrillGate" or "ThrillConnect" or "BitBridge")
            {
                env["Auth__Issuer"] = Edge;
                env["Auth__JwksUri"] = $"http://127.0.0.1:{http["ThrillId"]}/.well-known/jwks.json";
            }
            if (name == "ThrillPots") env["Service__GrpcPort"] = potsGrpc.ToString();
            if (name == "ThrillConnect")
            {
                env["Demo__PagesPath"] = Path.Combine(TestEnvironment.RepoRoot, "clients", "thrillconnect-js", "demo");
                env["Demo__ClientPath"] = Path.Combine(TestEnvironment.RepoRoot, "clients", "thrillconnect-js", "dist");
            }
            if (name == "ThrillGate")
            {
                env["Service__GrpcPort"] = gateGrpc.ToString();
                env["Wallets__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            }
            if (name == "BitBridge") env["Dispatchers__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            Processes[name] = ServiceProcess.Start(name, http[name], env);
        }
        await Task.WhenAll(Processes.Values.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(120))));

        await StartNginxAsync(new Dictionary<string, int>
        {
            ["EDGE_HTTP_PORT"] = EdgeHttpPort,
            ["EDGE_GRPC_PORT"] = EdgeGrpcPort,
            ["THRILLID_HTTP"] = http["ThrillId"],
            ["THRILLPOTS_HTTP"] = http["ThrillPots"],
            ["THRILLPOTS_GRPC"] = potsGrpc,
            ["THRILLGATE_HTTP"] = http["ThrillGate"],
            ["THRILLCONNECT_HTTP"] = http["ThrillConnect"],
            ["BITBRIDGE_HTTP"] = http["BitBridge"],
            ["REFERENCEWALLET_HTTP"] = http["ReferenceWallet"],
        });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (nginxPrefix.Length > 0) await RunAsync("nginx", "-c", Path.Combine(nginxPrefix, "nginx.conf"), "-p", nginxPrefix + "/", "-s", "stop");
        foreach (var p in Processes.Values) await p.DisposeAsync();
        foreach (var db in databases) await TestEnvironment.DropDatabaseAsync(db);
        await Otlp.DisposeAsync();
    }

    static async Task StartNginxAsync(Dictionary<string, int> ports)
    {
        nginxPrefix = Path.Combine(TestEnvironment.RepoRoot, ".local", "test", "e2e-nginx-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(nginxPrefix);
        var config = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepoRoot, "deploy", "nginx", "edge.conf.template"));
        foreach (var (key, port) in ports) config = config.Replace("{{" + key + "}}", port.ToString());
        Assert.That(config, Does.Not.Contain("{{"), "every placeholder of the edge template has a value");
        var conf = Path.Combine(nginxPrefix, "nginx.conf");
        await File.WriteAllTextAsync(conf, config);
        await RunAsync("nginx", "-c", conf, "-p", nginxPrefix + "/", "-e", Path.Combine(nginxPrefix, "error.log"));
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () => (await http.GetAsync($"http://127.0.0.1:{ports["EDGE_HTTP_PORT"]}/_services/thrillpots/health/live")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(20), "the edge to answer");
    }

    static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {await stderr}");
    }

    static string Secret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}
