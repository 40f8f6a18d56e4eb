using ThrillPots.Admin;
using ThrillPots.Contributions;
using ThrillPots.Engine;
using ThrillPots.Grpc;
using ThrillPots.Jackpots;
using ThrillSuite.Grpc;

namespace ThrillPots;

public static class ThrillPotsExtensions
{
    public static WebApplicationBuilder AddThrillPots(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AdminOptions>().BindConfiguration("Admin");
        services.AddOptions<WriterOptions>().BindConfiguration("Contributions");
        services.AddOptions<TickerOptions>().BindConfiguration("Ticker");
        // Production draws come from the operating system's CSPRNG (design.md §4).
        services.AddSingleton<IRandomSource>(CryptoRandomSource.Instance);
        services.AddSingleton<ContributionEngine>();
        services.AddSingleton<Targets>();
        services.AddSingleton<ContributionService>();
        services.AddHostedService<ContributionDrain>();
        services.AddHostedService<Ticker>();
        services.AddGrpcService<ContributionsGrpc>(ContributionsGrpc.Descriptor);
        services.AddGrpcService<PlayerJackpotsGrpc>(PlayerJackpotsGrpc.Descriptor);
        return builder;
    }

    public static WebApplication MapThrillPots(this WebApplication app)
    {
        app.MapAdminEndpoints();
        app.MapContributionEndpoints();
        app.MapReconciliationEndpoints();
        return app;
    }
}
