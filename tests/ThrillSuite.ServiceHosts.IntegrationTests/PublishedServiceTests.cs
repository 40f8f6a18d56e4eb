using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace ThrillSuite.ServiceHosts.IntegrationTests;

/// <summary>
/// What a container image runs, proven where no Docker engine does: each service's `dotnet publish` output (what
/// services/&lt;Name&gt;/Dockerfile copies into the runtime image) migrates and starts from the published folder as its
/// working directory, with only that service's own settings in the environment and nothing from the repository.
/// </summary>
public class PublishedServiceTests
{
    static readonly string[] Services = ["ThrillId", "ThrillPots", "ThrillGate", "ThrillConnect", "BitBridge", "ReferenceWallet"];
    static readonly string Root = Path.Combine(TestEnvironment.RepoRoot, ".local", "test", "published-" + Guid.NewGuid().ToString("N")[..8]);
    readonly List<string> databases = [];

    [TearDown]
    public async Task DropDatabases()
    {
        foreach (var db in databases) await TestEnvironment.DropDatabaseAsync(db);
        databases.Clear();
    }

    [OneTimeTearDown]
    public void RemovePublishFolders()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }

    [TestCaseSource(nameof(Services))]
    public async Task The_published_folder_migrates_and_starts_with_only_the_services_settings(string service)
    {
        // build/test has built the solution; publishing its output (--no-build) is what the Dockerfile's publish produces.
        var folder = Path.Combine(Root, service.ToLowerInvariant());
        var publish = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestEnvironment.RepoRoot };
        foreach (var a in new[] { "publish", Path.Combine("services", service, service + ".csproj"), "-c", TestEnvironment.Configuration, "--no-build", "-o", folder, "-nologo" })
            publish.ArgumentList.Add(a);
        var published = await ChildProcess.RunAsync(publish, TimeSpan.FromMinutes(2));
        Assert.That(published.ExitCode, Is.Zero, published.Describe());
        Assert.That(Path.Combine(folder, "appsettings.json"), Does.Exist, "the service's settings file is published");

        var dll = Path.Combine(folder, service + ".dll");
        var port = TestEnvironment.FreePort();
        var env = Settings(service, port);

        await using (var migrate = ServiceProcess.StartPublished(service, dll, port, env, "migrate"))
        {
            Assert.That(await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.Zero, migrate.Output);
        }
        await using (var connection = new NpgsqlConnection(env[$"ConnectionStrings__{service.ToLowerInvariant()}"]))
        {
            var applied = (await connection.QueryAsync<string>("select id from schema_migrations")).ToList();
            Assert.That(applied, Does.Contain("ThrillSuite.Data:0001").And.Contain($"{service}:0001"), "the embedded migrations are in the published assemblies");
        }

        await using var process = ServiceProcess.StartPublished(service, dll, port, env);
        await process.WaitReadyAsync(TimeSpan.FromSeconds(90));

        if (service == "ThrillId")
        {
            // Thrill-ID's appsettings.json lowers the body limit to 64 KiB (the default is 1 MiB): read from the published folder.
            using var http = new HttpClient();
            using var body = new ByteArrayContent(new byte[100 * 1024]);
            using var response = await http.PostAsync($"{process.BaseUrl}/oauth/token", body);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), process.Output);
        }
    }

    /// <summary>
    /// The environment its image sets (the runtime stage's ENV lines, e.g. ThrillPots' DOTNET_ReadyToRun=0), then the
    /// settings build/up gives this one service (its database, RabbitMQ where used, its secrets); nothing else.
    /// </summary>
    Dictionary<string, string> Settings(string service, int httpPort)
    {
        var name = service.ToLowerInvariant();
        var env = ServiceImage.Environment(Path.Combine(TestEnvironment.RepoRoot, "services", service, "Dockerfile"));
        var connection = TestEnvironment.UniqueDatabase("pub_" + name, out var db);
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = httpPort.ToString(),
            [$"ConnectionStrings__{name}"] = connection,
        }) env[key] = value;
        databases.Add(db);
        if (service != "ReferenceWallet") env["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq;
        // Nothing else runs here: the JWKS is fetched only when a token arrives, gRPC peers only when called.
        if (service is "ThrillPots" or "ThrillGate" or "ThrillConnect" or "BitBridge")
        {
            env["Auth__Issuer"] = "http://127.0.0.1:1";
            env["Auth__JwksUri"] = "http://127.0.0.1:1/.well-known/jwks.json";
        }
        if (service is "ThrillPots" or "ThrillGate") env["Service__GrpcPort"] = TestEnvironment.FreePort().ToString();
        if (service is "ThrillPots" or "ThrillConnect") env["Grpc__Endpoints__thrillgate"] = "http://127.0.0.1:1";
        switch (service)
        {
            case "ThrillId":
                env["ThrillId__Issuer"] = "http://127.0.0.1:1";
                env["SigningKeys__EncryptionKey"] = Key();
                // Required on a first start (a new database): the first administrator.
                env["Bootstrap__AdminUser"] = "admin@example.test";
                env["Bootstrap__AdminPassword"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                break;
            case "ThrillPots":
                env["Webhooks__EncryptionKey"] = Key();
                break;
            case "ThrillGate":
                env["Wallets__EncryptionKey"] = Key();
                break;
            case "ThrillConnect":
                env["Grpc__Endpoints__thrillpots"] = "http://127.0.0.1:1";
                break;
            case "BitBridge":
                env["Dispatchers__EncryptionKey"] = Key();
                break;
            case "ReferenceWallet":
                env["Wallet__Secret"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                env["Wallet__AdminToken"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                break;
        }
        return env;
    }

    static string Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
