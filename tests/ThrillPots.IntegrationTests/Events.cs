using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ThrillSuite.Contracts.Pots;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// A bus of the test's own on the shared RabbitMQ: it subscribes to every event ThrillPots publishes,
/// keeping what arrived (with the MessageId, to see duplicates) for the tests to await.
/// </summary>
public sealed class Events : IAsyncDisposable
{
    readonly IHost host;
    public static readonly ConcurrentQueue<(Guid? MessageId, object Message)> Received = new();

    Events(IHost host) => this.host = host;

    public static async Task<Events> StartAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter("pots-it-" + Guid.NewGuid().ToString("N")[..8], includeNamespace: false));
            bus.AddConsumer<Recorder<JackpotWon>>();
            bus.AddConsumer<Recorder<JackpotUpdated>>();
            bus.AddConsumer<Recorder<OptInChanged>>();
            bus.AddConsumer<Recorder<ThrillSuite.Contracts.Gate.CommunityPayoutError>>();
            bus.AddConsumer<Recorder<RaffleWon>>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(TestEnvironment.RabbitMq));
                rabbit.ConfigureEndpoints(context);
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
        return new Events(host);
    }

    public static IEnumerable<T> All<T>() => Received.Select(r => r.Message).OfType<T>();

    /// <summary>The first message of type T that matches, once it has arrived.</summary>
    public static Task<T> WaitAsync<T>(Func<T, bool> match, string what) where T : class =>
        Eventually.ValueAsync(() => Task.FromResult(All<T>().FirstOrDefault(match)), TimeSpan.FromSeconds(30), what);

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }

    public sealed class Recorder<T> : IConsumer<T> where T : class
    {
        public Task Consume(ConsumeContext<T> context)
        {
            Received.Enqueue((context.MessageId, context.Message));
            return Task.CompletedTask;
        }
    }
}
