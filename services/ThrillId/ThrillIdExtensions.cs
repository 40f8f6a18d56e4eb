using ThrillId.Accounts;
using ThrillId.Admin;
using ThrillId.Keys;
using ThrillId.Tokens;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Hosting;

namespace ThrillId;

public static class ThrillIdExtensions
{
    public static WebApplicationBuilder AddThrillId(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ThrillIdOptions>().BindConfiguration("ThrillId").ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<ThrillIdOptions>, ThrillIdOptionsValidator>();
        services.AddOptions<SigningKeyOptions>().BindConfiguration("SigningKeys");
        services.AddOptions<BootstrapOptions>().BindConfiguration("Bootstrap");
        services.AddOptions<LoginOptions>().BindConfiguration("Login");
        services.AddOptions<PasswordResetOptions>().BindConfiguration("PasswordReset");

        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<ISigningKeySource>(sp => sp.GetRequiredService<SigningKeyStore>());
        services.AddSingleton<KeyMaintenance>();
        services.AddSingleton<IStartupTask>(sp => sp.GetRequiredService<KeyMaintenance>());
        services.AddHostedService(sp => sp.GetRequiredService<KeyMaintenance>());
        services.AddSingleton<IStartupTask, BootstrapAdmin>();

        services.AddSingleton<AccountStore>();
        services.AddSingleton<Logins>();
        services.AddSingleton<PasswordResets>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<RefreshTokens>();
        services.AddSingleton<Issuer>();
        services.AddSingleton<ClientAuthentication>();
        services.AddLoginRateLimit();

        // Thrill-ID validates its own tokens like any resource service, from its key store instead of over HTTP.
        var issuer = builder.Configuration["ThrillId:Issuer"] ?? "";
        var audiences = (builder.Configuration["ThrillId:Audiences"] ?? "thrillsuite").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        services.AddTokenValidation(new TokenValidationSettings(issuer, audiences));
        return builder;
    }

    public static WebApplication MapThrillId(this WebApplication app)
    {
        app.UseRateLimiter();
        app.MapAccountEndpoints();
        app.MapOAuthEndpoints();
        app.MapAdminEndpoints();
        return app;
    }
}
