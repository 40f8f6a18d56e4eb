using System.Collections.Concurrent;
using ThrillSuite.Grpc;
using ThrillSuite.ServiceDefaults.Settings;

namespace ThrillSuite.ServiceDefaults.Hosting;

/// <summary>One pooled gRPC client per named endpoint (Grpc:Endpoints:NAME).</summary>
public sealed class GrpcClients(ServiceSettings settings) : IDisposable
{
    readonly ConcurrentDictionary<string, (HttpClient Http, GrpcClient Client)> clients = new(StringComparer.OrdinalIgnoreCase);

    public GrpcClient Get(string name) => clients.GetOrAdd(name, n =>
    {
        if (!settings.GrpcEndpoints.TryGetValue(n, out var address))
            throw new InvalidOperationException($"No gRPC endpoint named '{n}' is configured (Grpc:Endpoints:{n}).");
        var http = new HttpClient(GrpcClient.CreateHandler()) { BaseAddress = address };
        return (http, new GrpcClient(http));
    }).Client;

    public void Dispose()
    {
        foreach (var (http, _) in clients.Values) http.Dispose();
    }
}
