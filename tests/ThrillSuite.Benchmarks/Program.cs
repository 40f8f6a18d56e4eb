using ThrillSuite.Benchmarks;

var benchmarks = new Dictionary<string, Func<string[], Task<BenchmarkResult>>>
{
    ["grpc"] = GrpcBenchmark.RunAsync,
    ["auth"] = AuthBenchmark.RunAsync,
    ["contributions"] = ContributionsBenchmark.RunAsync,
    ["realtime"] = RealtimeBenchmark.RunAsync,
    ["wallet"] = WalletBenchmark.RunAsync,
    ["dispatch"] = DispatchBenchmark.RunAsync,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: build/bench NAME [options]; NAME is one of: {string.Join(", ", benchmarks.Keys)}");
    return 2;
}
BenchmarkResult result;
try
{
    result = await run(args[1..]);
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine($"error: benchmark {args[0]} failed: {ex.Message}");
    return 1;
}
result.Print();
return 0;
