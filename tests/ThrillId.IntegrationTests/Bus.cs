using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ThrillSuite.Contracts.Id;

namespace ThrillId.IntegrationTests;

/// <summary>A bus of the test's own on the shared RabbitMQ, receiving every ForgotPasswordStarted Thrill-ID publishes
/// on a temporary queue (as BitBridge would).</summary>
public sealed class Bus : IAsyncDisposable
{
    readonly IHost host;
    readonly ConcurrentQueue<ForgotPasswordStarted> received;

    Bus(IHost host, ConcurrentQueue<ForgotPasswordStarted> received)
    {
        this.host = host;
        this.received = received;
    }

    public IReadOnlyCollection<ForgotPasswordStarted> Received => received;

    public static async Task<Bus> StartAsync()
    {
        var received = new ConcurrentQueue<ForgotPasswordStarted>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddMassTransit(bus => bus.UsingRabbitMq((_, rabbit) =>
        {
            rabbit.Host(new Uri(TestEnvironment.RabbitMq));
            rabbit.ReceiveEndpoint("thrillid-tests-" + Guid.NewGuid().ToString("N"), e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<ForgotPasswordStarted>(context =>
                {
                    received.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
            });
        }));
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
        return new Bus(host, received);
    }

    /// <summary>The messages received for <paramref name="username"/> so far.</summary>
    public IReadOnlyList<ForgotPasswordStarted> For(string username) => [.. received.Where(m => m.Username == username)];

    /// <summary>Awaits the <paramref name="count"/>th message for <paramref name="username"/>.</summary>
    public async Task<ForgotPasswordStarted> NextForAsync(string username, int count = 1) =>
        await Eventually.ValueAsync(() => Task.FromResult(For(username) is { } all && all.Count >= count ? all[count - 1] : null),
            TimeSpan.FromSeconds(30), $"ForgotPasswordStarted #{count} for {username}");

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
