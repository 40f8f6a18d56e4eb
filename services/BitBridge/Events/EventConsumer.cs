using BitBridge.Deliveries;
using Dapper;
using MassTransit;
using Npgsql;

namespace BitBridge.Events;

/// <summary>
/// Takes in one event: picks its dispatchers (spec §3.2: event type listed, operator/brand binding containing the event or
/// none, highest priority only, all of an equal priority) and writes the event and one pending delivery per dispatcher in one
/// statement before the message is acknowledged. Delivery ids are unique per (event, dispatcher), so a redelivered event
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
        // One statement, so one commit: the event is stored only when some dispatcher takes it.
        var added = await c.ExecuteAsync(new CommandDefinition("""
            with candidates as (
                select id, priority from dispatchers
                where enabled and @type = any(event_types) and (operator_id is null or operator_id = @operatorId)
                  and (brand_id is null or brand_id = @brandId)),
            chosen as (select id from candidates where priority = (select max(priority) from candidates)),
            stored as (
                insert into events (id, event_type, operator_id, brand_id, payload)
                select @eventId, @type, @operatorId, @brandId, cast(@payload as jsonb) where exists (select 1 from chosen)
                on conflict (id) do nothing)
            insert into deliveries (id, event_id, dispatcher_id)
            select gen_random_uuid(), @eventId, id from chosen
            on conflict (event_id, dispatcher_id) do nothing
            """, new
        {
            eventId, type = kind.Name, operatorId, brandId,
            payload = JsonSerializer.Serialize(context.Message, Dispatchers.DispatcherStore.Json),
        }, cancellationToken: ct));
        if (added > 0) deliverer.Wake();
    }
}
