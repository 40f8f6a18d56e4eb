using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace BitBridge.Dispatchers;

/// <summary>
/// Dispatcher configuration (spec §3.2): CRUD owner-checked against owner_id, audited, secrets write-only (a PUT without them
/// keeps the stored ones). An unbound (global) dispatcher receives every operator's events: only the platform may manage one.
/// </summary>
public static class DispatcherEndpoints
{
    public const string System = "bitbridge";

    public static void MapDispatcherEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/admin/dispatchers").WithTags("Dispatchers");
        g.MapGet("", ListAsync).RequirePermission(System, "dispatchers", write: false);
        g.MapGet("/{id}", GetAsync).RequirePermission(System, "dispatchers", write: false);
        g.MapPost("", CreateAsync).RequirePermission(System, "dispatchers", write: true);
        g.MapPut("/{id}", UpdateAsync).RequirePermission(System, "dispatchers", write: true);
        g.MapDelete("/{id}", DeleteAsync).RequirePermission(System, "dispatchers", write: true);
    }

    /// <summary>Null when the caller may manage a resource of this owner and binding; the 403 otherwise.</summary>
    public static IResult? Refusal(HttpContext http, string ownerId, string? operatorId) =>
        !http.MayActFor(ownerId) ? TokenValidation.Forbidden($"The caller may not act for '{ownerId}'.")
        : operatorId is null && !http.IsPlatform() ? TokenValidation.Forbidden("Only the platform organisation may manage an unbound (global) resource.")
        : null;

    static async Task<IResult> CreateAsync(HttpContext http, NpgsqlDataSource db, DispatcherStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<DispatcherBody>(http.Request);
        if (error is not null) return error;
        var (d, secrets, errors) = DispatcherDefinition.Validate(body!, secretsRequired: true, http.User.OrgId());
        if (d is null) return Problems.BadRequest(errors);
        if (Refusal(http, d.OwnerId, d.OperatorId) is { } refused) return refused;

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (await c.ExecuteAsync(new CommandDefinition("""
            insert into dispatchers (id, dispatcher_type, operator_id, brand_id, owner_id, event_types, enabled, config, secrets, priority)
            values (@Id, @DispatcherType, @OperatorId, @BrandId, @OwnerId, @EventTypes, @Enabled, cast(@config as jsonb), @secrets, @Priority)
            on conflict (id) do nothing
            """, new
        {
            d.Id, d.DispatcherType, d.OperatorId, d.BrandId, d.OwnerId, d.EventTypes, d.Enabled, d.Priority,
            config = JsonSerializer.Serialize(d.Config, DispatcherStore.Json), secrets = store.Seal(secrets),
        }, tx, cancellationToken: ct)) == 0)
            return Problems.Conflict($"Dispatcher '{d.Id}' already exists.");
        var doc = store.Doc((await DispatcherStore.LoadAsync(c, tx, d.Id, ct))!);
        await Audit.WriteAsync(c, tx, http.User, "dispatcher.create", "dispatcher", d.Id, d.OwnerId, null, doc, ct);
        await tx.CommitAsync(ct);
        store.Forget(d.Id);
        return Results.Created($"/admin/dispatchers/{d.Id}", doc);
    }

    /// <summary>A full replacement; secrets left out keep their stored values. The type cannot change (its secrets would not fit).</summary>
    static async Task<IResult> UpdateAsync(string id, HttpContext http, NpgsqlDataSource db, DispatcherStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<DispatcherBody>(http.Request);
        if (error is not null) return error;
        var (d, secrets, errors) = DispatcherDefinition.Validate(body! with { Id = body!.Id ?? id }, secretsRequired: false, http.User.OrgId());
        if (d is null) return Problems.BadRequest(errors);
        if (d.Id != id) return Problems.BadRequest("id", $"Must be '{id}', the dispatcher in the path.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await DispatcherStore.LoadAsync(c, tx, id, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No dispatcher '{id}'.");
        if ((Refusal(http, before.OwnerId, before.OperatorId) ?? Refusal(http, d.OwnerId, d.OperatorId)) is { } refused) return refused;
        if (before.DispatcherType != d.DispatcherType)
            return Problems.BadRequest("dispatcher_type", $"Must stay {before.DispatcherType}; create another dispatcher for another type.");
        var merged = secrets.Over(store.Open(before.Secrets));
        await c.ExecuteAsync(new CommandDefinition("""
            update dispatchers set operator_id = @OperatorId, brand_id = @BrandId, owner_id = @OwnerId, event_types = @EventTypes, enabled = @Enabled,
                config = cast(@config as jsonb), secrets = @secrets, priority = @Priority, version = version + 1, updated_at = now()
            where id = @Id
            """, new
        {
            d.Id, d.OperatorId, d.BrandId, d.OwnerId, d.EventTypes, d.Enabled, d.Priority,
            config = JsonSerializer.Serialize(d.Config, DispatcherStore.Json), secrets = store.Seal(merged),
        }, tx, cancellationToken: ct));
        var after = store.Doc((await DispatcherStore.LoadAsync(c, tx, id, ct))!);
        await Audit.WriteAsync(c, tx, http.User, "dispatcher.update", "dispatcher", id, d.OwnerId, store.Doc(before), after, ct);
        await tx.CommitAsync(ct);
        store.Forget(id);
        return Results.Ok(after);
    }

    /// <summary>Its deliveries still pending become dead letters when they fall due ("dispatcher deleted"), replayable if it comes back.</summary>
    static async Task<IResult> DeleteAsync(string id, HttpContext http, NpgsqlDataSource db, DispatcherStore store, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await DispatcherStore.LoadAsync(c, tx, id, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No dispatcher '{id}'.");
        if (Refusal(http, before.OwnerId, before.OperatorId) is { } refused) return refused;
        await c.ExecuteAsync(new CommandDefinition("delete from dispatchers where id = @id", new { id }, tx, cancellationToken: ct));
        await Audit.WriteAsync(c, tx, http.User, "dispatcher.delete", "dispatcher", id, before.OwnerId, store.Doc(before), null, ct);
        await tx.CommitAsync(ct);
        store.Forget(id);
        return Results.NoContent();
    }

    static async Task<IResult> GetAsync(string id, HttpContext http, NpgsqlDataSource db, DispatcherStore store, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await DispatcherStore.LoadAsync(c, null, id, ct);
        if (row is null) return Problems.NotFound($"No dispatcher '{id}'.");
        return http.MayActFor(row.OwnerId) ? Results.Ok(store.Doc(row)) : TokenValidation.Forbidden($"The dispatcher belongs to '{row.OwnerId}'.");
    }

    static async Task<IResult> ListAsync(string? operator_id, string? brand_id, string? dispatcher_type, string? event_type, HttpContext http,
        NpgsqlDataSource db, DispatcherStore store, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<DispatcherStore.Row>(new CommandDefinition(DispatcherStore.Select + """
             where (@operator_id::text is null or operator_id = @operator_id) and (@brand_id::text is null or brand_id = @brand_id)
               and (@dispatcher_type::text is null or dispatcher_type = @dispatcher_type) and (@event_type::text is null or @event_type = any(event_types))
             order by operator_id nulls first, brand_id nulls first, id
            """, new { operator_id, brand_id, dispatcher_type, event_type }, cancellationToken: ct));
        return Results.Ok(rows.Where(r => http.MayActFor(r.OwnerId)).Select(store.Doc).ToList());
    }
}
