using BitBridge.Dispatchers;
using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace BitBridge.Templates;

public sealed record TemplateBody(string? Id, string? OwnerId, string? OperatorId, string? BrandId, string? DispatcherType, string? EventType,
    string? Subject, string? Body, bool? Enabled);

public sealed record TemplateDoc(string Id, string OwnerId, string? OperatorId, string? BrandId, string DispatcherType, string EventType, string? Subject,
    string Body, bool Enabled, int Version, DateTime Created, DateTime Updated);

/// <summary>
/// Templates (spec §3.3 proposal): per dispatcher type and event type, scoped like dispatchers (unbound, operator,
/// operator:brand); one enabled template per scope. Text is checked for placeholder syntax when stored; whether the event has
/// the fields is only known when it arrives, and a render that fails is a dead letter naming the missing placeholders.
/// </summary>
public static class TemplateEndpoints
{
    const string Select = """
        select id as Id, owner_id as OwnerId, operator_id as OperatorId, brand_id as BrandId, dispatcher_type as DispatcherType, event_type as EventType,
               subject as Subject, body as Body, enabled as Enabled, version as Version, created_at as Created, updated_at as Updated
        from templates
        """;

    public static void MapTemplateEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/admin/templates").WithTags("Templates");
        const string system = DispatcherEndpoints.System;
        g.MapGet("", ListAsync).RequirePermission(system, "templates", write: false);
        g.MapGet("/{id}", GetAsync).RequirePermission(system, "templates", write: false);
        g.MapPost("", (HttpContext http, NpgsqlDataSource db, CancellationToken ct) => SaveAsync(null, http, db, ct))
            .RequirePermission(system, "templates", write: true);
        g.MapPut("/{id}", (string id, HttpContext http, NpgsqlDataSource db, CancellationToken ct) => SaveAsync(id, http, db, ct))
            .RequirePermission(system, "templates", write: true);
        g.MapDelete("/{id}", DeleteAsync).RequirePermission(system, "templates", write: true);
    }

    /// <summary>The template chosen for a delivery: the most specific enabled scope that contains the event (brand, then operator, then global).</summary>
    public static Task<TemplateDoc?> ChooseAsync(NpgsqlConnection c, string dispatcherType, string eventType, string? operatorId, string? brandId,
        CancellationToken ct) =>
        c.QueryFirstOrDefaultAsync<TemplateDoc>(new CommandDefinition(Choose, new { dispatcherType, eventType, operatorId, brandId }, cancellationToken: ct));

    /// <summary>
    /// The scopes containing the event (@operatorId, @brandId) in templates_scope's own terms (a scope left out is '' there;
    /// ids are never empty), so the unique index finds the at most three candidates; "operator_id is null or operator_id =
    /// @operatorId" read every template for each delivery (0.4–1.6 ms at 5,000). PlanTests checks the plan.
    /// </summary>
    internal const string Choose = Select + """
         where enabled and dispatcher_type = @dispatcherType and event_type = @eventType
           and coalesce(operator_id, '') = any(array['', @operatorId]) and coalesce(brand_id, '') = any(array['', @brandId])
         order by brand_id is not null desc, operator_id is not null desc limit 1
        """;

    static (TemplateBody? Template, Dictionary<string, string[]> Errors) Validate(TemplateBody b, string? callerOrg)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [message];
        if (!Ids.IsValid(b.Id)) Error("id", "Required: " + Ids.Rule);
        if (b.OperatorId is not null && !Ids.IsValid(b.OperatorId)) Error("operator_id", Ids.Rule + " Leave out for a global template.");
        if (b.BrandId is not null && !Ids.IsValid(b.BrandId)) Error("brand_id", "The bare brand id: " + Ids.Rule);
        if (b.BrandId is not null && b.OperatorId is null) Error("brand_id", "A brand scope needs operator_id.");
        var owner = b.OwnerId ?? (b.OperatorId is null ? callerOrg : b.BrandId is null ? b.OperatorId : $"{b.OperatorId}:{b.BrandId}");
        if (!Ids.IsOwner(owner)) Error("owner_id", "operator or operator:brand (defaults to the scope).");
        else if (b.OperatorId is null && owner != callerOrg) Error("owner_id", "A global template belongs to the platform organisation: leave owner_id out.");
        else if (b.OperatorId is not null && owner != b.OperatorId && owner != $"{b.OperatorId}:{b.BrandId}")
            Error("owner_id", "Must be the scope's operator, or its operator:brand.");
        if (b.DispatcherType is null || !DispatcherDefinition.Types.Contains(b.DispatcherType))
            Error("dispatcher_type", $"Required: one of {string.Join(", ", DispatcherDefinition.Types)}.");
        if (!Ids.IsValid(b.EventType)) Error("event_type", "Required: the event type name (e.g. JackpotWinEvent).");
        if (b.DispatcherType == DispatcherDefinition.Smtp && b.Subject is not { Length: > 0 and <= 998 }) Error("subject", "Required for Smtp: 1-998 characters.");
        else if (b.DispatcherType is not (null or DispatcherDefinition.Smtp) && b.Subject is not null) Error("subject", "Only Smtp templates have a subject.");
        else if (b.Subject is not null && (TemplateRenderer.Check(b.Subject) ?? (b.Subject.Contains('\n') ? "One line." : null)) is { } bad) Error("subject", bad);
        if (b.Body is not { Length: > 0 and <= 65536 }) Error("body", "Required: 1-65536 characters.");
        else if (TemplateRenderer.Check(b.Body) is { } bad) Error("body", bad);
        return errors.Count > 0 ? (null, errors) : (b with { OwnerId = owner }, errors);
    }

    /// <summary>POST (id null) creates; PUT replaces the whole template.</summary>
    static async Task<IResult> SaveAsync(string? id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<TemplateBody>(http.Request);
        if (error is not null) return error;
        var (t, errors) = Validate(id is null ? body! : body! with { Id = body!.Id ?? id }, http.User.OrgId());
        if (t is null) return Problems.BadRequest(errors);
        if (id is not null && t.Id != id) return Problems.BadRequest("id", $"Must be '{id}', the template in the path.");
        if (DispatcherEndpoints.Refusal(http, t.OwnerId!, t.OperatorId) is { } refused) return refused;

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, t.Id!, ct);
        if (id is null && before is not null) return Problems.Conflict($"Template '{t.Id}' already exists.");
        if (id is not null && before is null) return Problems.NotFound($"No template '{id}'.");
        if (before is not null && DispatcherEndpoints.Refusal(http, before.OwnerId, before.OperatorId) is { } refusedBefore) return refusedBefore;
        var args = new { t.Id, t.OwnerId, t.OperatorId, t.BrandId, t.DispatcherType, t.EventType, t.Subject, t.Body, Enabled = t.Enabled ?? true };
        try
        {
            await c.ExecuteAsync(new CommandDefinition(before is null
                ? """
                  insert into templates (id, owner_id, operator_id, brand_id, dispatcher_type, event_type, subject, body, enabled)
                  values (@Id, @OwnerId, @OperatorId, @BrandId, @DispatcherType, @EventType, @Subject, @Body, @Enabled)
                  """
                : """
                  update templates set owner_id = @OwnerId, operator_id = @OperatorId, brand_id = @BrandId, dispatcher_type = @DispatcherType,
                      event_type = @EventType, subject = @Subject, body = @Body, enabled = @Enabled, version = version + 1, updated_at = now()
                  where id = @Id
                  """, args, tx, cancellationToken: ct));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return Problems.Conflict($"Another enabled {t.DispatcherType} template for {t.EventType} has this scope; disable it first.");
        }
        var after = (await LoadAsync(c, tx, t.Id!, ct))!;
        await Audit.WriteAsync(c, tx, http.User, before is null ? "template.create" : "template.update", "template", after.Id, after.OwnerId, before, after, ct);
        await tx.CommitAsync(ct);
        return before is null ? Results.Created($"/admin/templates/{after.Id}", after) : Results.Ok(after);
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, id, ct);
        if (before is null) return Problems.NotFound($"No template '{id}'.");
        if (DispatcherEndpoints.Refusal(http, before.OwnerId, before.OperatorId) is { } refused) return refused;
        await c.ExecuteAsync(new CommandDefinition("delete from templates where id = @id", new { id }, tx, cancellationToken: ct));
        await Audit.WriteAsync(c, tx, http.User, "template.delete", "template", id, before.OwnerId, before, null, ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> GetAsync(string id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var t = await LoadAsync(c, null, id, ct);
        if (t is null) return Problems.NotFound($"No template '{id}'.");
        return http.MayActFor(t.OwnerId) ? Results.Ok(t) : TokenValidation.Forbidden($"The template belongs to '{t.OwnerId}'.");
    }

    static async Task<IResult> ListAsync(string? operator_id, string? dispatcher_type, string? event_type, HttpContext http, NpgsqlDataSource db,
        CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<TemplateDoc>(new CommandDefinition(Select + """
             where (@operator_id::text is null or operator_id = @operator_id) and (@dispatcher_type::text is null or dispatcher_type = @dispatcher_type)
               and (@event_type::text is null or event_type = @event_type)
             order by event_type, dispatcher_type, operator_id nulls first, brand_id nulls first, id
            """, new { operator_id, dispatcher_type, event_type }, cancellationToken: ct));
        return Results.Ok(rows.Where(t => http.MayActFor(t.OwnerId)).ToList());
    }

    static Task<TemplateDoc?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string id, CancellationToken ct) =>
        c.QuerySingleOrDefaultAsync<TemplateDoc>(new CommandDefinition(Select + " where id = @id for update", new { id }, tx, cancellationToken: ct));
}
