using System.Collections.Concurrent;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ThrillSuite.Contracts;
using ThrillSuite.Data.Inbox;
using ThrillSuite.Data.Migrations;
using ThrillSuite.Data.Outbox;

namespace ThrillSuite.Data.IntegrationTests;

/// <summary>
/// The outbox relay and the idempotent consumer against a real PostgreSQL and a RabbitMQ node of this
/// fixture's own, which the broker-restart test stops and starts under the running relay.
/// </summary>
[NonParallelizable]
public class OutboxTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    DedicatedRabbitMq broker = null!;
    IHost host = null!;
    string database = null!;
    NpgsqlDataSource db => host.Services.GetRequiredService<NpgsqlDataSource>();

    [OneTimeSetUp]
    public async Task Start()
    {
        broker = await DedicatedRabbitMq.StartAsync("outbox-it");
        var connectionString = TestEnvironment.UniqueDatabase("outbox", out database);
        await MigrationRunner.MigrateAsync(connectionString,
            [.. MigrationRunner.Load(), new Migration("Tests", 1, "effects", "create table effects (probe_id uuid primary key)")],
            NullLogger.Instance, CancellationToken.None);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.Configure<OutboxRelayOptions>(o =>
        {
            o.PublishTimeout = TimeSpan.FromSeconds(2);
            o.PollInterval = TimeSpan.FromMilliseconds(200);
            o.MaxBackoff = TimeSpan.FromSeconds(1);
        });
        builder.Services.AddHostedService<OutboxRelay>();
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter("outbox-it", includeNamespace: false));
            bus.AddConsumer<EffectConsumer>();
            bus.AddConsumer<WireCounter>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(broker.Uri));
                rabbit.UseMessageRetry(r => r.Interval(20, TimeSpan.FromMilliseconds(250)));
                rabbit.ConfigureEndpoints(context);
            });
        });
        host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, Patience);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await host.StopAsync();
        host.Dispose();
        await broker.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
    }

    [Test]
    public async Task Committed_messages_are_delivered_exactly_once()
    {
        var ids = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();
        foreach (var id in ids) await EnqueueAsync(id, commit: true);

        await AwaitEffectsAsync(ids);
        await Eventually.TrueAsync(() => Task.FromResult(ids.All(id => WireCounter.Deliveries.ContainsKey(id))), Patience, "every wire delivery");
        Assert.That(ids.Select(id => WireCounter.Deliveries[id]), Is.All.EqualTo(1), "no message was published twice");
        await using var connection = await db.OpenConnectionAsync();
        var unpublished = await connection.ExecuteScalarAsync<int>(
            "select count(*) from outbox_messages where published_at is null and body->>'probeId' = any(@ids)",
            new { ids = ids.Select(i => i.ToString()).ToArray() });
        Assert.That(unpublished, Is.Zero);
    }

    [Test]
    public async Task Published_messages_leave_the_queue_for_the_archive_each_once()
    {
        var ids = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToList();
        foreach (var id in ids) await EnqueueAsync(id, commit: true);

        await using var connection = await db.OpenConnectionAsync();
        var keys = new { ids = ids.Select(i => i.ToString()).ToArray() };
        await Eventually.TrueAsync(async () => await connection.ExecuteScalarAsync<long>(
            "select count(*) from outbox_published where body->>'probeId' = any(@ids)", keys) == ids.Count, Patience, "every message archived");
        Assert.That(await connection.ExecuteScalarAsync<long>("select count(*) from outbox_messages where body->>'probeId' = any(@ids)", keys),
            Is.Zero, "the queue holds only what is still to be published");
        var archived = (await connection.QueryAsync<(string ProbeId, DateTime? PublishedAt, int Attempts, string? LastError)>(
            "select body->>'probeId', published_at, attempts, last_error from outbox_all where body->>'probeId' = any(@ids)", keys)).ToList();
        Assert.That(archived.Select(a => a.ProbeId), Is.EquivalentTo(keys.ids), "each once");
        Assert.That(archived, Is.All.Matches<(string, DateTime? PublishedAt, int Attempts, string? LastError)>(
            a => a.PublishedAt is not null && a.Attempts >= 1 && a.LastError is null));
    }

    [Test]
    public async Task A_rolled_back_transaction_publishes_nothing()
    {
        var rolledBack = Guid.NewGuid();
        var marker = Guid.NewGuid();
        await EnqueueAsync(rolledBack, commit: false);
        await EnqueueAsync(marker, commit: true);

        await AwaitEffectsAsync([marker]);
        Assert.That(WireCounter.Deliveries.ContainsKey(rolledBack), Is.False);
        Assert.That(await EffectCountAsync([rolledBack]), Is.Zero);
    }

    [Test]
    public async Task Messages_written_while_the_broker_is_down_are_delivered_once_after_it_returns()
    {
        await broker.StopAsync();
        var ids = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToList();
        try
        {
            foreach (var id in ids) await EnqueueAsync(id, commit: true);

            // The relay tries, fails, records why, and keeps every row.
            await Eventually.TrueAsync(async () =>
            {
                await using var connection = await db.OpenConnectionAsync();
                return await connection.ExecuteScalarAsync<bool>(
                    "select exists (select 1 from outbox_messages where published_at is null and attempts > 0 and last_error is not null)");
            }, Patience, "the relay to record a failed publish");
            Assert.That(ids.Any(WireCounter.Deliveries.ContainsKey), Is.False);
        }
        finally
        {
            await broker.StartAsync();
        }

        await AwaitEffectsAsync(ids);
        await Eventually.TrueAsync(() => Task.FromResult(ids.All(id => WireCounter.Deliveries.ContainsKey(id))), Patience, "every wire delivery");
        Assert.That(ids.Select(id => WireCounter.Deliveries[id]), Is.All.EqualTo(1), "no loss and no duplicate across the restart");
        Assert.That(await EffectCountAsync(ids), Is.EqualTo(ids.Count));
    }

    [Test]
    public async Task A_redelivered_message_id_has_its_effect_once()
    {
        var probe = Guid.NewGuid();
        var messageId = NewId.NextGuid();
        var bus = host.Services.GetRequiredService<IBus>();
        var message = new DiagnosticProbeCompleted(probe, "test", "test", "", DateTimeOffset.UtcNow);

        // As after a relay crash between publish and mark: the same message id twice on the wire.
        await bus.Publish(message, c => c.MessageId = messageId);
        await bus.Publish(message, c => c.MessageId = messageId);

        await Eventually.TrueAsync(() => Task.FromResult(WireCounter.Deliveries.GetValueOrDefault(probe) == 2), Patience, "both deliveries");
        await AwaitEffectsAsync([probe]);
        await Eventually.TrueAsync(() => Task.FromResult(EffectConsumer.Skipped.Contains(messageId)), Patience, "the duplicate to be skipped");
        Assert.That(await EffectCountAsync([probe]), Is.EqualTo(1));
    }

    async Task EnqueueAsync(Guid probeId, bool commit)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await Outbox.Outbox.EnqueueAsync(tx, new DiagnosticProbeCompleted(probeId, "test", "test", "", DateTimeOffset.UtcNow));
        if (commit) await tx.CommitAsync();
        else await tx.RollbackAsync();
    }

    async Task<int> EffectCountAsync(IEnumerable<Guid> ids)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("select count(*) from effects where probe_id = any(@ids)", new { ids = ids.ToArray() });
    }

    Task AwaitEffectsAsync(IReadOnlyCollection<Guid> ids) =>
        Eventually.TrueAsync(async () => await EffectCountAsync(ids) == ids.Count, Patience, $"{ids.Count} effects");

    public sealed class EffectConsumer(NpgsqlDataSource db, ILogger<EffectConsumer> logger)
        : IdempotentConsumer<DiagnosticProbeCompleted>(db, logger)
    {
        public static readonly ConcurrentBag<Guid> Skipped = [];

        protected override Task HandleAsync(ConsumeContext<DiagnosticProbeCompleted> context, NpgsqlTransaction transaction) =>
            transaction.Connection!.ExecuteAsync("insert into effects (probe_id) values (@ProbeId)", context.Message, transaction);

        protected override void OnDuplicate(Guid messageId) => Skipped.Add(messageId);
    }

    /// <summary>Counts raw deliveries on the wire, with no deduplication.</summary>
    public sealed class WireCounter : IConsumer<DiagnosticProbeCompleted>
    {
        public static readonly ConcurrentDictionary<Guid, int> Deliveries = new();

        public Task Consume(ConsumeContext<DiagnosticProbeCompleted> context)
        {
            Deliveries.AddOrUpdate(context.Message.ProbeId, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        }
    }
}
