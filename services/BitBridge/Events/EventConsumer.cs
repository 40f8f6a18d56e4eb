using BitBridge.Deliveries;
using Dapper;
using MassTransit;
using Npgsql;

namespace BitBridge.Events;

/// <summary>
/// Takes in one event: picks its dispatchers (spec §3.2: event type listed, operator/brand binding containing the event or
/// none, highest priority only, all of an equal priority) and writes the event and one pending delivery per dispatcher in one
/// transaction before the message is acknowledged. Delivery ids are unique per (event, dispatcher), so a redelivered event
/// adds nothing. Sending is the <see cref="Deliverer"/>'s job, from the table.
/// </summary>
public sealed class EventConsumer<T>(NpgsqlDataSource db, Deliverer deliverer) : IConsumer<T> where T : class
{
    public const string Queue = "bitbridge-events";

    public async Task Consume(ConsumeContext<T> context)
    {
        var kind = EventKinds.Of<T>();
        var eventId = context.MessageId ?? throw new InvalidOperationException($"{typeof(T).Name} arrived without a MessageId; it cannot be deduplicated.");
        var (operatorId, brandId) = kind.Scope(context.Message);
        var ct = context.CancellationToken;
        await using var c = await db.OpenConnectionAsync(ct);
        var chosen = (await c.QueryAsync<string>(new CommandDefinition("""
            select id from dispatchers
            where enabled and @type = any(event_types) and (operator_id is null or operator_id = @operatorId) and (brand_id is null or brand_id = @brandId)
              and priority = (select max(priority) from dispatchers where enabled and @type = any(event_types)
                              and (operator_id is null or operator_id = @operatorId) and (brand_id is null or brand_id = @brandId))
            """, new { type = kind.Name, operatorId, brandId }, cancellationToken: ct))).ToArray();
        if (chosen.Length == 0) return;

        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            insert into events (id, event_type, operator_id, brand_id, payload) values (@eventId, @type, @operatorId, @brandId, cast(@payload as jsonb))
            on conflict (id) do nothing;
            insert into deliveries (id, event_id, dispatcher_id)
            select gen_random_uuid(), @eventId, d from unnest(@chosen) d
            on conflict (event_id, dispatcher_id) do nothing;
            """, new
        {
            eventId, type = kind.Name, operatorId, brandId, chosen,
            payload = JsonSerializer.Serialize(context.Message, Dispatchers.DispatcherStore.Json),
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        deliverer.Wake();
    }
}
