using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using ThrillSuite.Grpc.Diagnostics;

namespace ThrillSuite.Grpc.Tests;

/// <summary>Our gRPC server on a real loopback socket, HTTP/2 only, serving the Diagnostics service.</summary>
sealed class LoopbackGrpcServer : IAsyncDisposable
{
    readonly WebApplication app;
    public string Address { get; }

    LoopbackGrpcServer(WebApplication app, string address)
    {
        this.app = app;
        Address = address;
    }

    public static async Task<LoopbackGrpcServer> StartAsync(Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpcService<DiagnosticsService>(DiagnosticsService.Descriptor);
        configure?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseGrpcServer();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new LoopbackGrpcServer(app, address);
    }

    public T GetService<T>() where T : notnull => app.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
