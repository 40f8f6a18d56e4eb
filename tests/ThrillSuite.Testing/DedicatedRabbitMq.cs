using System.Diagnostics;

namespace ThrillSuite.Testing;

/// <summary>
/// A RabbitMQ node of the test's own (build/lib/rabbitmq-node), so a test can stop and restart its broker
/// without disturbing the shared one other tests use. Restarts keep the node's data, as a real broker's do.
/// </summary>
public sealed class DedicatedRabbitMq : IAsyncDisposable
{
    readonly string state;
    readonly string[] nodeArgs;
    public int Port { get; }
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    DedicatedRabbitMq(string name)
    {
        state = Path.Combine(TestEnvironment.RepoRoot, ".local", "test", "brokers", name);
        Port = TestEnvironment.FreePort();
        var dist = TestEnvironment.FreePort();
        var epmd = TestEnvironment.FreePort();
        nodeArgs = [state, Port.ToString(), dist.ToString(), name, epmd.ToString()];
    }

    public static async Task<DedicatedRabbitMq> StartAsync(string name)
    {
        var node = new DedicatedRabbitMq(name);
        await node.StartAsync();
        return node;
    }

    public Task StartAsync() => RunAsync("start");
    public Task StopAsync() => RunAsync("stop");

    async Task RunAsync(string command)
    {
        var info = new ProcessStartInfo(Path.Combine(TestEnvironment.RepoRoot, "build", "lib", "rabbitmq-node"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(command);
        foreach (var a in nodeArgs) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"rabbitmq-node {command} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(state, recursive: true); }
        catch (IOException) { }
    }
}
