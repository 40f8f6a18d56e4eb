using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Testing;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// BitBridge end to end: JackpotWon events published to RabbitMQ as ThrillPots' outbox does, taken in by BitBridge (selection,
/// one delivery row each), sent by its deliverer to a webhook receiver in this process that checks the signature and counts
/// distinct delivery ids. Prints deliveries per second from the first publish to the last distinct delivery, and the latency
/// (received − published) percentiles.
/// Options: --events N (default 5000), --server-env KEY=VALUE (BitBridge settings, e.g. Deliveries__ConcurrencyPerDispatcher=32).
/// </summary>
public static class DispatchBenchmark
{
    public static async Task<BenchmarkResult> RunAsync(string[] args)
    {
        var events = Option(args, "--events", 5000);
        var serverEnv = ServerEnvironment(args);
        var secret = "bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var received = new ConcurrentDictionary<string, long>();
        var badSignatures = 0;

        var receiverPort = TestEnvironment.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{receiverPort}");
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var signed = Encoding.UTF8.GetBytes(request.Headers["X-BitBridge-Timestamp"] + ".").Concat(body.ToArray()).ToArray();
            if (Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed)) != request.Headers["X-BitBridge-Signature"].ToString())
            {
                Interlocked.Increment(ref badSignatures);
                return Results.StatusCode(401);
            }
            received.TryAdd(request.Headers["X-BitBridge-Delivery"].ToString(), Stopwatch.GetTimestamp());
            return Results.Ok();
        });
        await receiver.StartAsync();

        Console.Error.WriteLine("==> starting ThrillId and BitBridge");
        await using var thrillId = TestThrillId.Start("bench_dispatch_thrillid");
        var bridgePort = TestEnvironment.FreePort();
        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = bridgePort.ToString(CultureInfo.InvariantCulture),
            ["ConnectionStrings__bitbridge"] = TestEnvironment.UniqueDatabase("bench_dispatch", out var database),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["Auth__Issuer"] = thrillId.BaseUrl,
            ["Dispatchers__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        };
        foreach (var (key, value) in serverEnv) env[key] = value;
        var bridge = ServiceProcess.Start("BitBridge", bridgePort, env);
        IHost? bus = null;
        try
        {
            await Task.WhenAll(thrillId.WaitReadyAsync(), bridge.WaitReadyAsync());
            using var http = new HttpClient { BaseAddress = new Uri(bridge.BaseUrl) };
            using (var create = new HttpRequestMessage(HttpMethod.Post, "/admin/dispatchers")
            {
                Content = JsonContent.Create(new
                {
                    id = "bench-hook", dispatcher_type = "Webhook", operator_id = "benchop", event_types = new[] { JackpotWon.EventType },
                    config = new { url = $"http://127.0.0.1:{receiverPort}/hook", secret },
                }),
            })
            {
                create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", thrillId.Platform);
                using var response = await http.SendAsync(create);
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"creating the dispatcher: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            var hostBuilder = Host.CreateApplicationBuilder();
            hostBuilder.Logging.SetMinimumLevel(LogLevel.Warning);
            hostBuilder.Services.AddMassTransit(b => b.UsingRabbitMq((_, rabbit) => rabbit.Host(new Uri(TestEnvironment.RabbitMq))));
            bus = hostBuilder.Build();
            await bus.StartAsync();
            var publisher = bus.Services.GetRequiredService<IBus>();

            Console.Error.WriteLine($"==> publishing {events} JackpotWon events");
            var published = new long[events];
            var started = Stopwatch.GetTimestamp();
            var instance = Guid.NewGuid();
            await Parallel.ForEachAsync(Enumerable.Range(0, events), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            {
                var win = new JackpotWon(Guid.NewGuid(), "benchop", "benchop:b1", $"p{i}", "slots", instance, "Bench Pot", "EUR",
                    DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "mega", 10m, new CurrencyMultipliers("benchop:b1", "EUR", new Dictionary<string, decimal> { ["EUR"] = 1m }),
                    ["slots"], 1m, false, 0m, null, null, null, null, "HitRate", "EUR", 10m, []);
                published[i] = Stopwatch.GetTimestamp();
                await publisher.Publish(win, ct);
            });
            var publishSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.Error.WriteLine($"==> published in {publishSeconds:0.0} s; waiting for the deliveries");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Max(120, events / 20.0));
            while (received.Count < events && DateTime.UtcNow < deadline && !bridge.HasExited) await Task.Delay(50);
            if (received.Count < events)
                throw new InvalidOperationException($"{received.Count} of {events} deliveries arrived before the deadline.\n{bridge.Output[^Math.Min(4000, bridge.Output.Length)..]}");
            var elapsed = Stopwatch.GetElapsedTime(started, received.Values.Max()).TotalSeconds;
            // Deliveries and events are not paired by id here: latency is the i-th arrival against the i-th publish.
            var latencies = received.Values.Order().Zip(published.Order(), (r, p) => Stopwatch.GetElapsedTime(p, r).TotalMilliseconds).Order().ToArray();
            return new BenchmarkResult("dispatch", "webhook deliveries end to end (RabbitMQ → BitBridge → receiver)",
            [
                ("events", events),
                ("publish_s", publishSeconds),
                ("deliveries_per_s", events / elapsed),
                ("latency_p50_ms", latencies[latencies.Length / 2]),
                ("latency_p99_ms", latencies[(int)(latencies.Length * 0.99)]),
                ("bad_signatures", badSignatures),
            ]);
        }
        finally
        {
            if (bus is not null) await bus.StopAsync();
            bus?.Dispose();
            await bridge.DisposeAsync();
            await TestEnvironment.DropDatabaseAsync(database);
        }
    }
}
