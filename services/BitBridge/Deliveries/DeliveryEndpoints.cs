using BitBridge.Dispatchers;
using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace BitBridge.Deliveries;

/// <summary>
/// Deliveries by state (dead letters with their last error), and replays: one, or every dead one matching a filter. A delivery
/// belongs to its dispatcher's owner; one whose dispatcher was deleted, to the platform only.
/// </summary>
public static class DeliveryEndpoints
{
    public sealed record DeliveryDoc(Guid Id, Guid EventId, string EventType, string? OperatorId, string? BrandId, string DispatcherId, string Status,
        int Attempts, DateTime NextAttemptAt, string? LastError, DateTime Created, DateTime? Sent, string? OwnerId);

    public sealed record ReplayBody(string? DispatcherId, string? EventType, string? OperatorId, Guid? EventId);

    const string Select = """
        select d.id as Id, d.event_id as EventId, e.event_type as EventType, e.operator_id as OperatorId, e.brand_id as BrandId,
               d.dispatcher_id as DispatcherId, d.status as Status, d.attempts as Attempts, d.next_attempt_at as NextAttemptAt, d.last_error as LastError,
               d.created_at as Created, d.sent_at as Sent, x.owner_id as OwnerId
        from deliveries d join events e on e.id = d.event_id left join dispatchers x on x.id = d.dispatcher_id
        """;

    const string Filter = """
         (@status::text is null or d.status = @status) and (@dispatcher_id::text is null or d.dispatcher_id = @dispatcher_id)
           and (@event_type::text is null or e.event_type = @event_type) and (@operator_id::text is null or e.operator_id = @operator_id)
           and (@event_id::uuid is null or d.event_id = @event_id)
           and (@org::text is null or x.owner_id = @org or x.owner_id like @org || ':%')
        """;

    public static void MapDeliveryEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/admin/deliveries").WithTags("Deliveries");
        g.MapGet("", ListAsync).RequirePermission(DispatcherEndpoints.System, "deliveries", write: false);
        g.MapPost("/{id:guid}/replay", ReplayOneAsync).RequirePermission(DispatcherEndpoints.System, "deliveries", write: true);
        g.MapPost("/replay", ReplayManyAsync).RequirePermission(DispatcherEndpoints.System, "deliveries", write: true);
    }

    static bool MayAct(HttpContext http, DeliveryDoc d) => d.OwnerId is { } owner ? http.MayActFor(owner) : http.IsPlatform();

    /// <summary>The caller's organisation, to narrow the query before the limit (null for the platform, which sees everything).</summary>
    static string? Org(HttpContext http) => http.IsPlatform() ? null : http.User.OrgId() ?? "";

    static async Task<IResult> ListAsync(string? status, string? dispatcher_id, string? event_type, string? operator_id, Guid? event_id, int? limit,
        HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (status is not (null or "pending" or "sent" or "dead")) return Problems.BadRequest("status", "One of pending, sent, dead.");
        if (limit is < 1 or > 1000) return Problems.BadRequest("limit", "1-1000 (default 100).");
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<DeliveryDoc>(new CommandDefinition(Select + " where " + Filter + " order by d.created_at desc limit @limit",
            new { status, dispatcher_id, event_type, operator_id, event_id, org = Org(http), limit = limit ?? 100 }, cancellationToken: ct));
        return Results.Ok(rows.Where(d => MayAct(http, d)).ToList());
    }

    static async Task<IResult> ReplayOneAsync(Guid id, HttpContext http, NpgsqlDataSource db, Deliverer deliverer, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var d = await c.QuerySingleOrDefaultAsync<DeliveryDoc>(new CommandDefinition(Select + " where d.id = @id for update of d", new { id }, tx,
            cancellationToken: ct));
        if (d is null) return Problems.NotFound($"No delivery {id}.");
        if (!MayAct(http, d)) return TokenValidation.Forbidden($"The delivery's dispatcher belongs to '{d.OwnerId ?? "the platform"}'.");
        if (d.Status != "dead") return Problems.Conflict($"Delivery {id} is {d.Status}; only dead deliveries are replayed.");
        await ReplayAsync(c, tx, [id], ct);
        await Audit.WriteAsync(c, tx, http.User, "delivery.replay", "delivery", id.ToString(), d.OwnerId, new { d.Status, d.LastError }, new { Status = "pending" }, ct);
        await tx.CommitAsync(ct);
        deliverer.Wake();
        return Results.Ok(d with { Status = "pending", Attempts = 0 });
    }

    /// <summary>Every dead delivery matching the filter that the caller may act for (at most 10000 per call); answers how many.</summary>
    static async Task<IResult> ReplayManyAsync(HttpContext http, NpgsqlDataSource db, Deliverer deliverer, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<ReplayBody>(http.Request);
        if (error is not null) return error;
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var dead = await c.QueryAsync<DeliveryDoc>(new CommandDefinition(Select + " where " + Filter + " limit 10000 for update of d skip locked", new
        {
            status = "dead", dispatcher_id = body!.DispatcherId, event_type = body.EventType, operator_id = body.OperatorId, event_id = body.EventId,
            org = Org(http),
        }, tx, cancellationToken: ct));
        var ids = dead.Where(d => MayAct(http, d)).Select(d => d.Id).ToArray();
        await ReplayAsync(c, tx, ids, ct);
        await Audit.WriteAsync(c, tx, http.User, "delivery.replay_bulk", "delivery", "*", null, body, new { replayed = ids.Length }, ct);
        await tx.CommitAsync(ct);
        deliverer.Wake();
        return Results.Ok(new { replayed = ids.Length });
    }

    /// <summary>A replay starts over: attempts from zero, due now; the delivery id stays, so receivers still see one delivery.</summary>
    static Task ReplayAsync(NpgsqlConnection c, NpgsqlTransaction tx, Guid[] ids, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition("update deliveries set status = 'pending', attempts = 0, next_attempt_at = now() where id = any(@ids) and status = 'dead'",
            new { ids }, tx, cancellationToken: ct));
}
