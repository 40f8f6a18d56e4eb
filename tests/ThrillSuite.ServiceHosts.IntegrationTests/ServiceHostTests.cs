using System.Diagnostics;
using Dapper;
using Npgsql;
using ThrillSuite.Diagnostics.V1;
using ThrillSuite.Grpc;
using ThrillSuite.Grpc.Diagnostics;

namespace ThrillSuite.ServiceHosts.IntegrationTests;

/// <summary>What every service host promises, checked on the real processes.</summary>
public class ServiceHostTests
{
    static readonly string[] Hosts = ["ThrillId", "ThrillPots", "ThrillGate", "ThrillConnect", "BitBridge", "ReferenceWallet"];
    readonly List<string> databases = [];

    [TearDown]
    public async Task DropDatabases()
    {
        foreach (var db in databases) await TestEnvironment.DropDatabaseAsync(db);
        databases.Clear();
    }

    [TestCaseSource(nameof(Hosts))]
    public async Task Missing_settings_stop_start_up_with_a_message_naming_each(string host)
    {
        await using var process = ServiceProcess.Start(host, 0, new Dictionary<string, string>());
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.That(exit, Is.EqualTo(2), process.Output);
        Assert.That(process.Output, Does.Contain("Service:HttpPort"));
        Assert.That(process.Output, Does.Contain($"ConnectionStrings:{host.ToLowerInvariant()}"));
        if (host != "ReferenceWallet") Assert.That(process.Output, Does.Contain("ConnectionStrings:rabbitmq"));
        if (host is "ThrillPots" or "ThrillGate" or "ThrillConnect" or "BitBridge") Assert.That(process.Output, Does.Contain("Auth:Issuer"));
        if (host == "ThrillGate") Assert.That(process.Output, Does.Contain("Wallets:EncryptionKey"));
        if (host == "BitBridge") Assert.That(process.Output, Does.Contain("Dispatchers:EncryptionKey"));
    }

    [Test]
    public async Task Malformed_settings_are_named_without_leaking_secrets()
    {
        await using var process = ServiceProcess.Start("ThrillGate", 0, new Dictionary<string, string>
        {
            ["Service__HttpPort"] = "http",
            ["Service__GrpcPort"] = "70000",
            ["ConnectionStrings__thrillgate"] = "Host=db;Password=hunter2-secret;Nonsense=1",
            ["ConnectionStrings__rabbitmq"] = "http://user:pa55word@broker/",
            ["Service__ShutdownGraceSeconds"] = "-1",
        });
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.That(exit, Is.EqualTo(2), process.Output);
        Assert.That(process.Output, Does.Contain("Service:HttpPort").And.Contain("'http'"));
        Assert.That(process.Output, Does.Contain("Service:GrpcPort").And.Contain("'70000'"));
        Assert.That(process.Output, Does.Contain("ConnectionStrings:thrillgate"));
        Assert.That(process.Output, Does.Contain("ConnectionStrings:rabbitmq"));
        Assert.That(process.Output, Does.Contain("Service:ShutdownGraceSeconds"));
        Assert.That(process.Output, Does.Not.Contain("hunter2-secret").And.Not.Contain("pa55word"));
    }

    [Test]
    public async Task The_migrate_verb_migrates_and_exits_without_serving()
    {
        var port = TestEnvironment.FreePort();
        var env = Settings("ThrillGate", port);
        await using var process = ServiceProcess.Start("ThrillGate", port, env, "migrate");
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.That(exit, Is.Zero, process.Output);
        await using var connection = new NpgsqlConnection(env["ConnectionStrings__thrillgate"]);
        var applied = (await connection.QueryAsync<string>("select id from schema_migrations")).ToList();
        Assert.That(applied, Does.Contain("ThrillSuite.Data:0001"));
        Assert.That(process.Output, Does.Not.Contain("Now listening"));
    }

    [Test]
    public async Task Two_replicas_starting_together_on_a_new_database_both_come_up()
    {
        var first = TestEnvironment.FreePort();
        var second = TestEnvironment.FreePort();
        var env = Settings("ThrillGate", first);
        await using var a = ServiceProcess.Start("ThrillGate", first, env);
        await using var b = ServiceProcess.Start("ThrillGate", second, new Dictionary<string, string>(env)
        {
            ["Service__HttpPort"] = second.ToString(),
            ["Service__GrpcPort"] = TestEnvironment.FreePort().ToString(),
        });

        await Task.WhenAll(a.WaitReadyAsync(), b.WaitReadyAsync());

        await using var connection = new NpgsqlConnection(env["ConnectionStrings__thrillgate"]);
        Assert.That(await connection.ExecuteScalarAsync<int>("select count(*) from schema_migrations where id = 'ThrillSuite.Data:0001'"), Is.EqualTo(1));
    }

    [Test]
    public async Task Sigterm_lets_in_flight_calls_finish_and_refuses_new_ones()
    {
        var (process, client) = await StartThrillGateAsync(graceSeconds: 20);
        await using var ownedProcess = process;
        using var ownedClient = client;

        var received = new List<int>();
        await foreach (var reply in client.ServerStreamingAsync<CountReply>(DiagnosticsService.CountMethod,
                           new CountRequest { Count = 8, IntervalMs = 150 }, CallOptions.WithTimeout(TimeSpan.FromSeconds(30))))
        {
            received.Add(reply.Index);
            if (reply.Index == 0)
            {
                process.Terminate();
                // New connections are refused as soon as the host stops listening.
                using var fresh = new HttpClient();
                await Eventually.TrueAsync(async () =>
                {
                    try { await fresh.GetAsync($"{process.BaseUrl}/health/live"); return false; }
                    catch (HttpRequestException) { return true; }
                }, TimeSpan.FromSeconds(10), "the HTTP port to stop accepting connections");
            }
        }

        Assert.That(received, Is.EqualTo(Enumerable.Range(0, 8)), "the in-flight stream completed after SIGTERM");
        Assert.That(await process.WaitForExitAsync(TimeSpan.FromSeconds(20)), Is.Zero, process.Output);
    }

    [Test]
    public async Task Work_longer_than_the_grace_period_is_cut_off_and_the_process_still_exits()
    {
        var (process, client) = await StartThrillGateAsync(graceSeconds: 2);
        await using var ownedProcess = process;
        using var ownedClient = client;

        var received = 0;
        var watch = new Stopwatch();
        var cutOff = Assert.CatchAsync<RpcException>(async () =>
        {
            await foreach (var _ in client.ServerStreamingAsync<CountReply>(DiagnosticsService.CountMethod,
                               new CountRequest { Count = 200, IntervalMs = 100 }, CallOptions.WithTimeout(TimeSpan.FromSeconds(60))))
            {
                // The first message proves the call is in flight; then SIGTERM.
                if (++received == 1)
                {
                    watch.Start();
                    process.Terminate();
                }
            }
        }, "the cut-off call fails visibly instead of hanging or pretending to finish");

        Assert.That(received, Is.LessThan(200));
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(15));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the grace period bounds shutdown");
        Assert.That(exit, Is.Zero, process.Output);
        TestContext.Out.WriteLine($"cut off with {cutOff!.StatusCode} after {received} messages, {watch.Elapsed.TotalSeconds:0.0} s after SIGTERM");
    }

    async Task<(ServiceProcess Process, GrpcClient Client)> StartThrillGateAsync(int graceSeconds)
    {
        var port = TestEnvironment.FreePort();
        var env = Settings("ThrillGate", port);
        env["Service__ShutdownGraceSeconds"] = graceSeconds.ToString();
        var process = ServiceProcess.Start("ThrillGate", port, env);
        await process.WaitReadyAsync();
        return (process, GrpcClient.ForAddress($"http://127.0.0.1:{env["Service__GrpcPort"]}"));
    }

    [Test]
    public async Task Diagnostics_are_off_unless_enabled()
    {
        var port = TestEnvironment.FreePort();
        var env = Settings("ThrillPots", port);
        env.Remove("Diagnostics__Enabled");
        env["Grpc__Endpoints__thrillgate"] = "http://127.0.0.1:1";
        await using var process = ServiceProcess.Start("ThrillPots", port, env);
        await process.WaitReadyAsync();

        using var http = new HttpClient();
        using var probe = await http.PostAsync($"{process.BaseUrl}/diagnostics/probes", null);
        Assert.That((int)probe.StatusCode, Is.EqualTo(404));
        using var client = GrpcClient.ForAddress($"http://127.0.0.1:{env["Service__GrpcPort"]}");
        var ex = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
    }

    Dictionary<string, string> Settings(string host, int httpPort)
    {
        var database = host.ToLowerInvariant();
        var env = new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = httpPort.ToString(),
            ["Service__GrpcPort"] = TestEnvironment.FreePort().ToString(),
            ["Diagnostics__Enabled"] = "true",
            [$"ConnectionStrings__{database}"] = TestEnvironment.UniqueDatabase("hosts_" + database, out var db),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            // No Thrill-ID runs here: its JWKS is only fetched when a token arrives.
            ["Auth__Issuer"] = "http://127.0.0.1:1",
            ["Wallets__EncryptionKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Dispatchers__EncryptionKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
        databases.Add(db);
        return env;
    }
}
