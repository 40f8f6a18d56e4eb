using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ThrillSuite.Contracts.Pots;

namespace ThrillConnect.IntegrationTests;

/// <summary>
/// A bus of the test's own on the shared RabbitMQ that publishes ThrillPots' event contracts directly, where a test needs
/// precise control (many brands, bursts, a win on an instance of its choosing) that the engine would not give.
/// </summary>
public sealed class Bus : IAsyncDisposable
{
    readonly IHost host;
    readonly IBus bus;

    Bus(IHost host)
    {
        this.host = host;
        bus = host.Services.GetRequiredService<IBus>();
    }

    public static async Task<Bus> StartAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddMassTransit(b => b.UsingRabbitMq((_, rabbit) => rabbit.Host(new Uri(TestEnvironment.RabbitMq))));
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
        return new Bus(host);
    }

    public Task PublishAsync<T>(T message) where T : class => bus.Publish(message);

    /// <summary>As the outbox relay publishes: with the row's id as the message id (the same id again when it re-sends).</summary>
    public Task PublishAsync<T>(T message, Guid messageId) where T : class => bus.Publish(message, c => c.MessageId = messageId);

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}

/// <summary>Contract messages as ThrillPots publishes them, with the values a test cares about.</summary>
public static class Events
{
    static long lastUpdated = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>A strictly increasing last_updated, so a later update is always the newer one.</summary>
    public static long NextTimestamp() => Interlocked.Increment(ref lastUpdated);

    public static JackpotUpdated Update(Guid instance, string owner, string[] brands, decimal minor = 10m, decimal major = 100m, string currency = "EUR",
        string status = "Active", long? lastUpdated = null) =>
        new(instance, owner, "Direct " + instance.ToString("N")[..6], status, "Jackpot", currency, brands, [],
            [new PotTicker("minor", true, minor), new PotTicker("major", true, major)], 1767225600000, null, lastUpdated ?? NextTimestamp());

    public static JackpotWon Win(Guid instance, string brand, string player, decimal amount, CurrencyMultipliers? multipliers = null,
        string currency = "EUR") =>
        new(Guid.NewGuid(), brand.Split(':')[0], brand, player, "src-direct", instance, "Direct jackpot", currency, NextTimestamp(), "minor", amount,
            multipliers ?? new CurrencyMultipliers(brand, "EUR", new Dictionary<string, decimal> { ["EUR"] = 1m, ["USD"] = 1.1m }),
            ["game-1"], 10m, false, 0m, null, null, "round-1", Guid.NewGuid(), "HitRate", currency, amount, []);

    /// <summary>A player bonus as ThrillGate's events carry it: a fixed one (5 × €0.20, 2 used) unless <paramref name="variable"/>.</summary>
    public static ThrillSuite.Contracts.Gate.PlayerBonus Bonus(Guid id, string state, bool variable = false) =>
        new(id, "promo-1", Guid.NewGuid(), [new ThrillSuite.Contracts.Gate.BonusScope("thrillsuite", ["slots"])],
            new Dictionary<string, ThrillSuite.Contracts.Gate.BonusFreespins>
            {
                ["Freespins"] = new(id, "Freebets", variable
                    ? new ThrillSuite.Contracts.Gate.PlayerFreeSpinType("PlayerVariableFreeSpins", "EUR", Amount: 1.5m, AmountUsed: 0.2m)
                    : new ThrillSuite.Contracts.Gate.PlayerFreeSpinType("PlayerFixedFreeSpins", "EUR", Count: 5, Used: 2, Value: 0.2m)),
            }, state, 1767225600000, 1767312000000, state == "Consumed" ? 1767230000000 : null);

    public static OptInChanged OptIn(Guid instance, string brand, string player, bool optedIn = true) =>
        new(instance, player, player, brand, 0.5m, "EUR", 3, 1.5m, optedIn, NextTimestamp());
}
