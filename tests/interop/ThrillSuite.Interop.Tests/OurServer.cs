using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ThrillSuite.Grpc;
using ThrillSuite.Grpc.Diagnostics;

namespace ThrillSuite.Interop.Tests;

/// <summary>ThrillSuite.Grpc's Diagnostics service hosted in-process on Kestrel, h2c (HTTP/2 only) on a free loopback port.</summary>
public sealed class OurServer : IAsyncDisposable
{
    /// <summary>The host's application name, which DiagnosticsService answers in EchoReply.service.</summary>
    public const string ApplicationName = "ThrillSuite.Interop.Tests";

    readonly WebApplication app;

    OurServer(WebApplication app, int port)
    {
        this.app = app;
        Port = port;
    }

    public int Port { get; }

    public static async Task<OurServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = ApplicationName,
            EnvironmentName = Environments.Production,
        });
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddGrpcService<DiagnosticsService>(DiagnosticsService.Descriptor);
        var app = builder.Build();
        app.UseGrpcServer();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new OurServer(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await app.StopAsync(cts.Token);
        await app.DisposeAsync();
    }
}
