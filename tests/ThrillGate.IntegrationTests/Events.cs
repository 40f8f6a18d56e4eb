using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.Contracts.Pots;

namespace ThrillGate.IntegrationTests;

/// <summary>
/// A bus of the test's own on the shared RabbitMQ: it sends CreditWin commands to ThrillGate's queue as ThrillPots does, and
/// subscribes to what ThrillGate publishes about them, keeping every copy for the tests to await and count.
/// </summary>
public sealed class Events : IAsyncDisposable
{
    readonly IHost host;
    static readonly ConcurrentQueue<object> Received = new();

    Events(IHost host) => this.host = host;

    public static async Task<Events> StartAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter("gate-it-" + Guid.NewGuid().ToString("N")[..8], includeNamespace: false));
            bus.AddConsumer<Recorder<WinCredited>>();
            bus.AddConsumer<Recorder<WinCreditPending>>();
            bus.AddConsumer<Recorder<WinCreditFailed>>();
            bus.AddConsumer<Recorder<PlayerBonusAdded>>();
            bus.AddConsumer<Recorder<PlayerBonusRemoved>>();
            bus.AddConsumer<Recorder<PlayerBonusUpdated>>();
            bus.AddConsumer<Recorder<PlayerBonusConsumed>>();
            bus.AddConsumer<Recorder<PlayerBonusExpired>>();
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

    /// <summary>Sends the command to ThrillGate's queue with the given MessageId (what its inbox deduplicates on).</summary>
    public async Task SendAsync(CreditWin command, Guid messageId)
    {
        var endpoint = await host.Services.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(new Uri("queue:" + CreditWin.Queue));
        await endpoint.Send(command, context => context.MessageId = messageId);
    }

    public static IEnumerable<T> All<T>() => Received.OfType<T>();

    /// <summary>The first message of type T that matches, once it has arrived.</summary>
    public static Task<T> WaitAsync<T>(Func<T, bool> match, string what, int seconds = 30) where T : class =>
        Eventually.ValueAsync(() => Task.FromResult(All<T>().FirstOrDefault(match)), TimeSpan.FromSeconds(seconds), what);

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }

    public sealed class Recorder<T> : IConsumer<T> where T : class
    {
        public Task Consume(ConsumeContext<T> context)
        {
            Received.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}
