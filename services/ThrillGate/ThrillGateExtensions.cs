using ThrillGate.Bonuses;
using ThrillGate.Credits;
using ThrillGate.Debits;
using ThrillGate.Grpc;
using ThrillGate.Wallets;
using ThrillSuite.Grpc;
using ThrillSuite.ServiceDefaults.Secrets;

namespace ThrillGate;

public static class ThrillGateExtensions
{
    public static WebApplicationBuilder AddThrillGate(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<WalletOptions>().BindConfiguration("Wallets")
            .Validate(o => SecretBox.IsValidKey(o.EncryptionKey),
                "Wallets:EncryptionKey (env Wallets__EncryptionKey) is required: base64 of 32 random bytes (it seals the wallets' HMAC secrets).")
            .ValidateOnStart();
        // Timeouts are per attempt, set by each wallet's pipeline; the client itself never gives up first.
        services.AddHttpClient("wallets", c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) });
        services.AddSingleton<WalletStore>();
        services.AddSingleton<WalletClient>();
        services.AddSingleton<DebitLog>();
        services.AddSingleton<CreditSender>();
        services.AddHostedService(sp => sp.GetRequiredService<CreditSender>());
        services.AddGrpcService<WalletsGrpc>(WalletsGrpc.Descriptor);
        services.AddGrpcService<FreeBetsGrpc>(FreeBetsGrpc.Descriptor);
        services.AddSingleton<BonusExpirySweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<BonusExpirySweeper>());
        return builder;
    }

    public static WebApplication MapThrillGate(this WebApplication app)
    {
        app.MapWalletEndpoints();
        app.MapCreditEndpoints();
        app.MapBonusEndpoints();
        app.MapAuditEndpoints(WalletEndpoints.System, "/thrillgate/audit");
        return app;
    }
}
