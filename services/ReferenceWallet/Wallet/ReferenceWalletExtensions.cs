using Microsoft.Extensions.Options;
using ReferenceWallet.Simulation;

namespace ReferenceWallet.Wallet;

public static class ReferenceWalletExtensions
{
    public static IServiceCollection AddReferenceWallet(this IServiceCollection services)
    {
        // ValidateOnStart: RunServiceAsync reports these with the platform's settings, before migrating or listening.
        services.AddOptions<WalletOptions>().BindConfiguration(WalletOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WalletOptions>, WalletOptionsValidator>();
        services.AddSingleton<Ledger>();
        services.AddSingleton<Players>();
        services.AddSingleton<FaultInjector>();
        services.AddSingleton<ThrillSuite.ServiceDefaults.Hosting.IStartupTask, SeedPlayers>();
        return services;
    }

    public static WebApplication MapReferenceWallet(this WebApplication app)
    {
        app.MapWalletEndpoints();
        app.MapSimulationEndpoints();
        return app;
    }
}
