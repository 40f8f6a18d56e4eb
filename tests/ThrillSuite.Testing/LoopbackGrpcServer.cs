using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ThrillSuite.Grpc;
using ThrillSuite.Grpc.Diagnostics;

namespace ThrillSuite.Testing;

/// <summary>Our gRPC server in-process on a real loopback socket, HTTP/2 only (h2c), serving the Diagnostics service.</summary>
public sealed class LoopbackGrpcServer : IAsyncDisposable
{
    readonly WebApplication app;
    public string Address { get; }
    public int Port => new Uri(Address).Port;

    LoopbackGrpcServer(WebApplication app, string address)
    {
        this.app = app;
        Address = address;
    }

    /// <param name="applicationName">What DiagnosticsService answers as EchoReply.service.</param>
    public static async Task<LoopbackGrpcServer> StartAsync(string? applicationName = null, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = applicationName });
        builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpcService<DiagnosticsService>(DiagnosticsService.Descriptor);
        configure?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseGrpcServer();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new LoopbackGrpcServer(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await app.StopAsync(cts.Token);
        await app.DisposeAsync();
    }
}
