using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.Contracts.Id;
using ThrillSuite.Contracts.Pots;

namespace BitBridge.IntegrationTests;

/// <summary>A bus of the test's own on the shared RabbitMQ, publishing events as ThrillPots, ThrillGate and Thrill-ID do.</summary>
public sealed class Bus : IAsyncDisposable
{
    readonly IHost host;

    Bus(IHost host) => this.host = host;

    public static async Task<Bus> StartAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddMassTransit(bus => bus.UsingRabbitMq((_, rabbit) => rabbit.Host(new Uri(TestEnvironment.RabbitMq))));
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
        return new Bus(host);
    }

    /// <summary>Publishes with the given MessageId (the event id BitBridge deduplicates on); a new one when left out.</summary>
    public async Task<Guid> PublishAsync<T>(T message, Guid? messageId = null) where T : class
    {
        var id = messageId ?? Guid.NewGuid();
        await host.Services.GetRequiredService<IBus>().Publish(message, context => context.MessageId = id);
        return id;
    }

    public static JackpotWon Win(string brand, string player = "p1", decimal amount = 125.5m, string op = Servers.Operator) =>
        new(Guid.NewGuid(), op, $"{op}:{brand}", player, "slots", Guid.NewGuid(), "Mega Pot", "EUR", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "mega",
            amount, new CurrencyMultipliers($"{op}:{brand}", "EUR", new Dictionary<string, decimal> { ["EUR"] = 1m }), ["slots"], 100m, false, 0m, null, null,
            "round-1", Guid.NewGuid(), "HitRate", "EUR", amount, []);

    public static ForgotPasswordStarted Forgot(string org, string? unit, string username = "player@example.com", string otp = "493817") =>
        new(username, otp, org, unit, DateTimeOffset.UtcNow.AddMinutes(15).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public static WinCreditFailed CreditFailed(string brand) =>
        new(Guid.NewGuid(), "tx-1", Guid.NewGuid(), $"{Servers.Operator}:{brand}", "p1", "EUR", 10m, 403, "FORBIDDEN", "refused", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
