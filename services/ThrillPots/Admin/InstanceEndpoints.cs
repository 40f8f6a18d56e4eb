using Dapper;
using Npgsql;
using ThrillPots.Contributions;
using ThrillPots.Engine;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Admin;

/// <summary>Jackpot instances (spec §5): instantiated from a published template, then moved through the §5 state table.</summary>
public static class InstanceEndpoints
{
    public const string Pending = "Pending", Active = "Active", Paused = "Paused", Terminated = "Terminated";

    /// <summary>Spec §5's table exactly: Pending → Active; Active → Paused or Terminated; Paused → Active; Terminated is final.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Transitions = new Dictionary<string, string[]>
    {
        [Pending] = [Active],
        [Active] = [Paused, Terminated],
        [Paused] = [Active],
        [Terminated] = [],
    };

    public sealed record Instantiate(string? TemplateId, string? OwnerId, string? Name, List<string>? AllowedBrands, List<string>? AllowedSources,
        long? StartTimestamp, long? EndTimestamp, string? LinkedInstance = null)
    {
        /// <summary>Spec §17: when the instance starts and ends, and its recurring windows (Engine/Schedules).</summary>
        public Schedule? Schedule { get; init; }
    }
    public sealed record StateChange(string? State);
    public sealed record PotDoc(string Id, decimal Value, decimal ReseedFund, decimal SeedBoost, long Version);
    public sealed record InstanceDoc(Guid Id, Guid TemplateId, string OwnerId, string Name, string Currency, string State,
        IReadOnlyList<string> AllowedBrands, IReadOnlyList<string> AllowedSources, long? StartTimestamp, long? EndTimestamp,
        Guid? LinkedInstance, int Version, long CreatedTimestamp, long UpdatedTimestamp, IReadOnlyList<PotDoc> Pots)
    {
        public Schedule? Schedule { get; init; }
    }

    sealed record Row(Guid Id, Guid TemplateId, string OwnerId, string Name, string Currency, string State, string[] AllowedBrands,
        string[] AllowedSources, DateTime? StartAt, DateTime? EndAt, Guid? LinkedInstance, int Version, DateTime CreatedAt, DateTime UpdatedAt,
        string? ScheduleJson);
    sealed record PotRow(Guid InstanceId, string PotId, decimal Value, decimal ReseedFund, decimal SeedBoost, long Version);

    const string Select = """
        select id as Id, template_id as TemplateId, owner_id as OwnerId, name as Name, currency as Currency, state as State,
               allowed_brands as AllowedBrands, allowed_sources as AllowedSources, start_at as StartAt, end_at as EndAt,
               linked_instance as LinkedInstance, version as Version, created_at as CreatedAt, updated_at as UpdatedAt,
               schedule::text as ScheduleJson
        from instances
        """;
    const string SelectPots = """
        select instance_id as InstanceId, pot_id as PotId, value as Value, reseed_fund as ReseedFund, seed_boost as SeedBoost, version as Version
        from pots
        """;

    public static void MapInstanceEndpoints(this WebApplication app)
    {
        app.MapPost("/templates/instantiate", InstantiateAsync).WithTags("Instances").RequirePermission(Access.System, "instances", write: true);
        var g = app.MapGroup("/instances").WithTags("Instances");
        g.MapGet("", ListAsync).RequirePermission(Access.System, "instances", write: false);
        g.MapGet("/{id:guid}", GetAsync).RequirePermission(Access.System, "instances", write: false);
        g.MapPost("/{id:guid}/state", ChangeStateAsync).RequirePermission(Access.System, "instances", write: true);
    }

    static async Task<IResult> InstantiateAsync(HttpContext http, NpgsqlDataSource db, IRandomSource random, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<Instantiate>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!Guid.TryParse(body!.TemplateId, out var templateId)) errors["template_id"] = ["Required: the template's UUID."];
        if (!Ids.IsOwner(body.OwnerId)) errors["owner_id"] = ["Required: operator or operator:brand."];
        if (body.Name is not null && (body.Name.Length is 0 or > 200 || string.IsNullOrWhiteSpace(body.Name))) errors["name"] = ["1-200 characters, or left out."];
        if (body.AllowedBrands is not { Count: > 0 }) errors["allowed_brands"] = ["Required: at least one operator:brand."];
        else
            for (var i = 0; i < body.AllowedBrands.Count; i++)
                if (!Ids.IsOwner(body.AllowedBrands[i], brandRequired: true)) errors[$"allowed_brands[{i}]"] = ["operator:brand."];
                else if (Ids.IsOwner(body.OwnerId) && Permissions.ParseOwner(body.AllowedBrands[i]).Org != Permissions.ParseOwner(body.OwnerId!).Org)
                    errors[$"allowed_brands[{i}]"] = ["Must be a brand of the owner's operator."];
        if (body.AllowedSources is not null)
            for (var i = 0; i < body.AllowedSources.Count; i++)
                if (!Ids.IsValid(body.AllowedSources[i])) errors[$"allowed_sources[{i}]"] = ["A source id: " + Ids.Rule];
        if (body.StartTimestamp is <= 0) errors["start_timestamp"] = ["A Unix time in milliseconds."];
        if (body.EndTimestamp is { } end && (end <= 0 || body.StartTimestamp is { } start && end <= start))
            errors["end_timestamp"] = ["A Unix time in milliseconds after start_timestamp."];
        if (body.Schedule is not null)
        {
            foreach (var (field, messages) in Schedules.Validate(body.Schedule)) errors[field] = messages;
            if (body.StartTimestamp is not null || body.EndTimestamp is not null)
                errors["schedule"] = ["Give either schedule or start_timestamp/end_timestamp, not both."];
        }
        Guid? linked = null;
        if (body.LinkedInstance is not null)
            if (Guid.TryParse(body.LinkedInstance, out var l)) linked = l;
            else errors["linked_instance"] = ["The UUID of the instance whose contributions also go to the new one, or left out."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        var allowedBrands = body.AllowedBrands!.Distinct().ToArray();
        if (!http.MayActFor(body.OwnerId!)) return TokenValidation.Forbidden($"The caller may not act for '{body.OwnerId}'.");
        if (allowedBrands.FirstOrDefault(b => !http.MayActFor(b)) is { } notMine) return TokenValidation.Forbidden($"The caller may not act for '{notMine}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var template = await TemplateEndpoints.LoadAsync(c, tx, templateId, ct);
        if (template is null) return Problems.NotFound($"No template {templateId}.");
        // A template serves its owner and, when the owner is an operator, that operator's brands.
        if (template.OwnerId != body.OwnerId && template.OwnerId != Permissions.ParseOwner(body.OwnerId!).Org)
            return TokenValidation.Forbidden($"Template {templateId} belongs to '{template.OwnerId}', not to '{body.OwnerId}' or its operator.");
        if (template.PublishedAt is null) return Problems.Conflict($"Template {templateId} is not published.");
        if (!await OperatorEndpoints.OwnerExistsAsync(c, tx, body.OwnerId!, ct)) return Problems.BadRequest("owner_id", $"'{body.OwnerId}' is not a registered operator or brand.");
        for (var i = 0; i < allowedBrands.Length; i++)
            if (!await OperatorEndpoints.OwnerExistsAsync(c, tx, allowedBrands[i], ct))
                return Problems.BadRequest($"allowed_brands[{body.AllowedBrands!.IndexOf(allowedBrands[i])}]", $"'{allowedBrands[i]}' is not a registered brand.");

        if (template.Parsed.Raffle is { } raffle && Raffles.RaffleMath.Period(raffle).BySchedule && body.Schedule is null)
            return Problems.BadRequest("schedule", "Required: the raffle's period is \"Schedule\", so its draws follow the instance's schedule.");
        if (linked is { } from && await Links.LinkEndpoints.CheckLinkedAsync(c, tx, http, from, body.OwnerId!, ct) is { } refusal) return refusal;

        var id = Guid.CreateVersion7();
        var startTimestamp = body.Schedule?.TimestampStart ?? body.StartTimestamp;
        var endTimestamp = body.Schedule?.TimestampEnd ?? body.EndTimestamp;
        var state = startTimestamp is { } s && Time.At(s) > DateTime.UtcNow ? Pending : Active;
        const string insert = """
            insert into instances (id, template_id, owner_id, name, currency, state, allowed_brands, allowed_sources, start_at, end_at, schedule, linked_instance)
            values (@id, @templateId, @ownerId, @name, @currency, @state, @allowedBrands, @allowedSources, @startAt, @endAt, cast(@schedule as jsonb), @linked)
            """;
        await c.ExecuteAsync(new CommandDefinition(insert, new
        {
            id, templateId, ownerId = body.OwnerId, name = body.Name ?? template.Name, currency = template.Currency, state,
            allowedBrands, allowedSources = (body.AllowedSources ?? []).Distinct().ToArray(),
            startAt = startTimestamp is { } st ? Time.At(st) : (DateTime?)null,
            endAt = endTimestamp is { } en ? Time.At(en) : (DateTime?)null,
            schedule = body.Schedule is null ? null : System.Text.Json.JsonSerializer.Serialize(body.Schedule, Audit.Json), linked,
        }, tx, cancellationToken: ct));
        // Spec §16 scenario 1: the new instance is linked TO the given one (contributions to it also go to the new one).
        if (linked is not null)
            await c.ExecuteAsync(new CommandDefinition("insert into instance_links (from_instance, to_instance) values (@linked, @id)",
                new { linked, id }, tx, cancellationToken: ct));
        // The pots at their initial seeds, with the first cycle's hidden MustDrop points drawn and committed.
        var pots = InstanceMath.Initialize(template.Parsed, random, DateTimeOffset.UtcNow);
        const string pot = """
            insert into pots (instance_id, pot_id, position, initial_seed, value, drops)
            values (@id, @PotId, @position, @Value, @Value, cast(@drops as jsonb))
            """;
        for (var i = 0; i < pots.Count; i++)
            await c.ExecuteAsync(new CommandDefinition(pot, new { id, pots[i].PotId, position = i, pots[i].Value, drops = PotDrops.Serialize(pots[i]) },
                tx, cancellationToken: ct));
        var doc = (await LoadAsync(c, tx, id, ct))!;
        await Audit.WriteAsync(c, tx, http.User, "instance.create", "instance", id.ToString(), doc.OwnerId, null, doc, ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/instances/{id}", doc);
    }

    static async Task<IResult> ChangeStateAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<StateChange>(http.Request);
        if (error is not null) return error;
        if (body!.State is null || !Transitions.ContainsKey(body.State))
            return Problems.BadRequest("state", $"Required: one of {string.Join(", ", Transitions.Keys)}.");
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, id, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No instance {id}.");
        if (!http.MayActFor(before.OwnerId)) return TokenValidation.Forbidden($"The instance belongs to '{before.OwnerId}'.");
        if (!Transitions[before.State].Contains(body.State))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                detail: $"Instance {id} is {before.State}; it cannot become {body.State}" +
                        (Transitions[before.State].Length == 0 ? " (final)." : $" (allowed: {string.Join(", ", Transitions[before.State])})."),
                extensions: new Dictionary<string, object?> { ["current_state"] = before.State, ["allowed_states"] = Transitions[before.State] });
        await c.ExecuteAsync(new CommandDefinition(
            "update instances set state = @State, version = version + 1, updated_at = now() where id = @id", new { body.State, id }, tx, cancellationToken: ct));
        var after = (await LoadAsync(c, tx, id, ct))!;
        await Audit.WriteAsync(c, tx, http.User, "instance.state", "instance", id.ToString(), before.OwnerId, before, after, ct);
        await tx.CommitAsync(ct);
        return Results.Ok(after);
    }

    static async Task<IResult> GetAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var doc = await LoadAsync(c, null, id, ct);
        if (doc is null) return Problems.NotFound($"No instance {id}.");
        return http.MayActFor(doc.OwnerId) ? Results.Ok(doc) : TokenValidation.Forbidden($"The instance belongs to '{doc.OwnerId}'.");
    }

    static async Task<IResult> ListAsync(string? owner_id, string? state, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (state is not null && !Transitions.ContainsKey(state)) return Problems.BadRequest("state", $"One of {string.Join(", ", Transitions.Keys)}.");
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = (await c.QueryAsync<Row>(new CommandDefinition(Select + """
             where (@owner_id::text is null or owner_id = @owner_id) and (@state::text is null or state = @state)
             order by created_at, id
            """, new { owner_id, state }, cancellationToken: ct))).Where(r => http.MayActFor(r.OwnerId)).ToList();
        var ids = rows.Select(r => r.Id).ToArray();
        var pots = (await c.QueryAsync<PotRow>(new CommandDefinition(SelectPots + " where instance_id = any(@ids) order by position", new { ids },
            cancellationToken: ct))).ToLookup(p => p.InstanceId);
        return Results.Ok(rows.Select(r => Doc(r, pots[r.Id])).ToList());
    }

    internal static async Task<InstanceDoc?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id, CancellationToken ct, bool forUpdate = false)
    {
        var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(Select + " where id = @id" + (forUpdate ? " for update" : ""),
            new { id }, tx, cancellationToken: ct));
        if (row is null) return null;
        var pots = await c.QueryAsync<PotRow>(new CommandDefinition(SelectPots + " where instance_id = @id order by position", new { id }, tx, cancellationToken: ct));
        return Doc(row, pots);
    }

    static InstanceDoc Doc(Row r, IEnumerable<PotRow> pots) =>
        new(r.Id, r.TemplateId, r.OwnerId, r.Name, r.Currency, r.State, r.AllowedBrands, r.AllowedSources, Time.Ms(r.StartAt), Time.Ms(r.EndAt),
            r.LinkedInstance, r.Version, Time.Ms(r.CreatedAt), Time.Ms(r.UpdatedAt),
            [.. pots.Select(p => new PotDoc(p.PotId, p.Value, p.ReseedFund, p.SeedBoost, p.Version))])
        {
            Schedule = r.ScheduleJson is null ? null : System.Text.Json.JsonSerializer.Deserialize<Schedule>(r.ScheduleJson, Audit.Json),
        };
}
