using BitBridge.Deliveries;
using BitBridge.Dispatchers;
using BitBridge.Events;
using BitBridge.Templates;
using MassTransit;
using ThrillSuite.ServiceDefaults.Secrets;

namespace BitBridge;

public static class BitBridgeExtensions
{
    /// <summary>One consumer per published event type, all on one durable queue.</summary>
    public static void AddConsumers(IBusRegistrationConfigurator bus)
    {
        foreach (var kind in EventKinds.All)
            bus.AddConsumer(typeof(EventConsumer<>).MakeGenericType(kind.Type)).Endpoint(e => e.Name = EventConsumer<object>.Queue);
    }

    public static WebApplicationBuilder AddBitBridge(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DispatcherOptions>().BindConfiguration("Dispatchers")
            .Validate(o => SecretBox.IsValidKey(o.EncryptionKey),
                "Dispatchers:EncryptionKey (env Dispatchers__EncryptionKey) is required: base64 of 32 random bytes (it seals the dispatchers' secrets).")
            .ValidateOnStart();
        services.AddOptions<DeliveryOptions>().BindConfiguration("Deliveries")
            .Validate(o => o.MaxAttempts >= 1 && o.Concurrency >= 1 && o.ConcurrencyPerDispatcher >= 1 && o.AttemptTimeout > TimeSpan.Zero,
                "Deliveries: MaxAttempts, Concurrency and ConcurrencyPerDispatcher must be at least 1, AttemptTimeout positive.")
            .ValidateOnStart();
        // Each attempt's limit is the deliverer's timeout; the client itself never gives up first.
        services.AddHttpClient("dispatch", c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), AllowAutoRedirect = false });
        services.AddSingleton<DispatcherStore>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<TelegramSender>();
        services.AddSingleton<SmtpSender>();
        services.AddSingleton<AmqpSender>();
        services.AddSingleton<Deliverer>();
        services.AddHostedService(sp => sp.GetRequiredService<Deliverer>());
        return builder;
    }

    public static WebApplication MapBitBridge(this WebApplication app)
    {
        app.MapDispatcherEndpoints();
        app.MapTemplateEndpoints();
        app.MapDeliveryEndpoints();
        app.MapAuditEndpoints(DispatcherEndpoints.System, "/bitbridge/audit");
        return app;
    }
}
