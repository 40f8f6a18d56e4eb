using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using ThrillConnect.Cors;
using ThrillConnect.Realtime;
using ThrillConnect.Rest;

namespace ThrillConnect;

public static class ThrillConnectExtensions
{
    /// <summary>This replica's name in its queue names: its own queues, removed when it goes.</summary>
    static readonly string ReplicaId = $"{Environment.MachineName}-{Guid.NewGuid():N}"[..Math.Min(Environment.MachineName.Length + 9, 80)].ToLowerInvariant();

    public static void AddEventConsumers(IBusRegistrationConfigurator bus)
    {
        void PerReplica(IEndpointRegistrationConfigurator e)
        {
            e.InstanceId = "-" + ReplicaId;
            e.Temporary = true;
        }
        bus.AddConsumer<JackpotUpdatedConsumer>().Endpoint(PerReplica);
        bus.AddConsumer<JackpotWonConsumer>().Endpoint(PerReplica);
        bus.AddConsumer<OptInChangedConsumer>().Endpoint(PerReplica);
        bus.AddConsumer<RaffleWonConsumer>().Endpoint(PerReplica);
        bus.AddConsumer<PlayerBonusConsumer>().Endpoint(PerReplica);
    }

    public static WebApplicationBuilder AddThrillConnect(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CorsRules>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Jackpots>();
        builder.Services.AddSingleton<Hub>();
        // Fan-out is many small writes to many sockets: the transport's continuations run inline (a thread hop less per
        // frame; nothing in this service blocks a thread). build/bench realtime, 10,000 sockets at 30,000 frames/s: p99
        // 317 ms inline, 406 ms queued. Realtime:InlineScheduling=false restores Kestrel's default.
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = builder.Configuration.GetValue("Realtime:InlineScheduling", true));
        return builder;
    }

    public static WebApplication MapThrillConnect(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapRestEndpoints();
        app.MapCorsEndpoints();
        app.MapSockets();
        MapDemo(app);
        return app;
    }

    /// <summary>
    /// The demo widget page (clients/thrillconnect-js/demo) at /demo and the built client at /demo/lib, when configured
    /// (Demo:PagesPath, Demo:ClientPath): what `build/up` serves so a browser can try the suite.
    /// </summary>
    static void MapDemo(WebApplication app)
    {
        foreach (var (setting, path) in new[] { ("Demo:ClientPath", "/demo/lib"), ("Demo:PagesPath", "/demo") })
        {
            if (app.Configuration[setting] is not { Length: > 0 } dir) continue;
            if (!Directory.Exists(dir))
            {
                app.Logger.LogWarning("{Setting} {Dir} does not exist; {Path} is not served", setting, dir, path);
                continue;
            }
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = new PhysicalFileProvider(Path.GetFullPath(dir)), RequestPath = path });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(Path.GetFullPath(dir)), RequestPath = path });
        }
    }
}
