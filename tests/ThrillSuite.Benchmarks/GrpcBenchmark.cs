using System.Diagnostics;
using ThrillSuite.Diagnostics.V1;
using ThrillSuite.Grpc;
using ThrillSuite.Grpc.Diagnostics;
using ThrillSuite.Testing;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// Unary Echo calls through our client and server in one process over real loopback h2c, with a fixed
/// number of concurrent callers: calls per second and latency percentiles.
/// Options: --seconds N (default 10), --concurrency N (default 32), --payload BYTES (default 64).
/// </summary>
public static class GrpcBenchmark
{
    public static async Task<BenchmarkResult> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 10);
        var concurrency = Option(args, "--concurrency", 32);
        var payload = Option(args, "--payload", 64);

        await using var server = await LoopbackGrpcServer.StartAsync();
        using var client = GrpcClient.ForAddress(server.Address);
        var request = new EchoRequest { Message = "bench", Payload = Google.Protobuf.ByteString.CopyFrom(new byte[payload]) };

        // Warm-up: JIT, connection, HTTP/2 windows.
        await RunLoadAsync(client, request, concurrency, TimeSpan.FromSeconds(2));
        var (latencies, elapsed) = await RunLoadAsync(client, request, concurrency, TimeSpan.FromSeconds(seconds));

        latencies.Sort();
        double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))] * 1000.0 / Stopwatch.Frequency;
        return new BenchmarkResult("grpc",
            $"unary Echo, our client → our server, one process, loopback h2c, {concurrency} concurrent callers, {payload} B payload",
            [
                ("unary_calls_per_s", latencies.Count / elapsed.TotalSeconds),
                ("p50_ms", Percentile(0.50)),
                ("p99_ms", Percentile(0.99)),
                ("calls", latencies.Count),
                ("concurrency", concurrency),
                ("duration_s", elapsed.TotalSeconds),
            ]);
    }

    static async Task<(List<long> Latencies, TimeSpan Elapsed)> RunLoadAsync(GrpcClient client, EchoRequest request, int concurrency, TimeSpan duration)
    {
        var total = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var mine = new List<long>(100_000);
            while (total.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                await client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, request);
                mine.Add(Stopwatch.GetTimestamp() - start);
            }
            return mine;
        }).ToList();
        var all = (await Task.WhenAll(workers)).SelectMany(l => l).ToList();
        return (all, total.Elapsed);
    }
}
