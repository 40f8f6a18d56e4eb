using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Admin;

/// <summary>Contribution sources (spec §15): stable ids per brand, each mapped to any number of instances.</summary>
public static class SourceEndpoints
{
    public sealed record NewSource(string? OwnerId, string? SourceName, string? SourceId);
    public sealed record Assignment(string? OwnerId, List<string>? SourceId, string? InstanceId);
    public sealed record SourceDoc(string OwnerId, string SourceId, string SourceName, IReadOnlyList<Guid> InstanceIds, long CreatedTimestamp);

    // instance ids travel as text[]: Dapper matches a record's array parameter only for text[] (ThrillSuite.Data.TextArrayHandler).
    internal sealed record Row(string OwnerId, string SourceId, string SourceName, DateTime CreatedAt, string[] InstanceIds);

    internal const string Select = """
        select s.owner_id as OwnerId, s.source_id as SourceId, s.source_name as SourceName, s.created_at as CreatedAt,
               coalesce(array_agg(si.instance_id order by si.assigned_at, si.instance_id) filter (where si.instance_id is not null), '{}')::text[] as InstanceIds
        from sources s left join source_instances si on si.owner_id = s.owner_id and si.source_id = s.source_id
        """;
    internal const string GroupBy = " group by s.owner_id, s.source_id order by s.owner_id, s.source_id";

    public static void MapSourceEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/config/sources").WithTags("Config: sources");
        g.MapPost("", CreateAsync).RequirePermission(Access.System, "sources", write: true);
        g.MapPost("/assignjackpot", (HttpContext http, NpgsqlDataSource db, CancellationToken ct) => AssignAsync(true, http, db, ct))
            .RequirePermission(Access.System, "sources", write: true);
        g.MapPost("/unassignjackpot", (HttpContext http, NpgsqlDataSource db, CancellationToken ct) => AssignAsync(false, http, db, ct))
            .RequirePermission(Access.System, "sources", write: true);
        g.MapGet("", ListAsync).RequirePermission(Access.System, "sources", write: false);
        g.MapGet("/{sourceId}", GetAsync).RequirePermission(Access.System, "sources", write: false);
    }

    /// <summary>Body: an array of sources, created together or not at all.</summary>
    static async Task<IResult> CreateAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<List<NewSource>>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (body!.Count == 0) errors["body"] = ["At least one source: [{\"owner_id\", \"source_name\", \"source_id\"}]."];
        for (var i = 0; i < body.Count; i++)
        {
            if (body[i] is not { } s) { errors[$"[{i}]"] = ["Required: {\"owner_id\", \"source_name\", \"source_id\"}."]; continue; }
            if (!Ids.IsOwner(s.OwnerId, brandRequired: true)) errors[$"[{i}].owner_id"] = ["Required: operator:brand."];
            if (!Ids.IsValid(s.SourceId)) errors[$"[{i}].source_id"] = ["Required: " + Ids.Rule];
            if (string.IsNullOrWhiteSpace(s.SourceName) || s.SourceName.Length > 200) errors[$"[{i}].source_name"] = ["Required: 1-200 characters."];
        }
        if (errors.Count == 0 && body.Select(s => (s.OwnerId, s.SourceId)).Distinct().Count() != body.Count) errors["body"] = ["A source is listed twice."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (body.FirstOrDefault(s => !http.MayActFor(s.OwnerId!)) is { } notMine) return TokenValidation.Forbidden($"The caller may not act for '{notMine.OwnerId}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        for (var i = 0; i < body.Count; i++)
            if (!await OperatorEndpoints.OwnerExistsAsync(c, tx, body[i].OwnerId!, ct))
                return Problems.BadRequest($"[{i}].owner_id", $"'{body[i].OwnerId}' is not a registered brand.");
        const string sql = "insert into sources (owner_id, source_id, source_name) values (@OwnerId, @SourceId, @SourceName) on conflict do nothing";
        var created = new List<SourceDoc>();
        foreach (var s in body)
        {
            if (await c.ExecuteAsync(new CommandDefinition(sql, s, tx, cancellationToken: ct)) == 0)
                return Problems.Conflict($"Source '{s.SourceId}' of '{s.OwnerId}' already exists.");
            var doc = (await LoadAsync(c, tx, s.OwnerId!, s.SourceId!, ct))!;
            await Audit.WriteAsync(c, tx, http.User, "source.create", "source", SourceKey(doc), doc.OwnerId, null, doc, ct);
            created.Add(doc);
        }
        await tx.CommitAsync(ct);
        return Results.Created("/config/sources", created);
    }

    /// <summary>Maps (or unmaps) several sources of one brand to one instance (spec §15, §21.3).</summary>
    static async Task<IResult> AssignAsync(bool assign, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<Assignment>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!Ids.IsOwner(body!.OwnerId, brandRequired: true)) errors["owner_id"] = ["Required: operator:brand."];
        if (body.SourceId is not { Count: > 0 }) errors["source_id"] = ["Required: an array of source ids."];
        else
            for (var i = 0; i < body.SourceId.Count; i++)
                if (!Ids.IsValid(body.SourceId[i])) errors[$"source_id[{i}]"] = ["A source id: " + Ids.Rule];
        if (!Guid.TryParse(body.InstanceId, out var instanceId)) errors["instance_id"] = ["Required: the instance's UUID."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!http.MayActFor(body.OwnerId!)) return TokenValidation.Forbidden($"The caller may not act for '{body.OwnerId}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var instance = await InstanceEndpoints.LoadAsync(c, tx, instanceId, ct);
        if (instance is null) return Problems.NotFound($"No instance {instanceId}.");
        if (Permissions.ParseOwner(instance.OwnerId).Org != Permissions.ParseOwner(body.OwnerId!).Org)
            return TokenValidation.Forbidden($"Instance {instanceId} belongs to another operator.");
        if (assign && !instance.AllowedBrands.Contains(body.OwnerId!))
            return Problems.BadRequest("instance_id", $"Instance {instanceId} does not allow brand '{body.OwnerId}' (allowed_brands).");
        if (assign && instance.State == InstanceEndpoints.Terminated) return Problems.Conflict($"Instance {instanceId} is Terminated.");
        var docs = new List<SourceDoc>();
        foreach (var sourceId in body.SourceId!.Distinct())
        {
            var before = await LoadAsync(c, tx, body.OwnerId!, sourceId, ct, forUpdate: true);
            if (before is null) return Problems.NotFound($"No source '{sourceId}' of '{body.OwnerId}'.");
            var sql = assign
                ? "insert into source_instances (owner_id, source_id, instance_id) values (@OwnerId, @sourceId, @instanceId) on conflict do nothing"
                : "delete from source_instances where owner_id = @OwnerId and source_id = @sourceId and instance_id = @instanceId";
            await c.ExecuteAsync(new CommandDefinition(sql, new { body.OwnerId, sourceId, instanceId }, tx, cancellationToken: ct));
            var after = (await LoadAsync(c, tx, body.OwnerId!, sourceId, ct))!;
            await Audit.WriteAsync(c, tx, http.User, assign ? "source.assign" : "source.unassign", "source", SourceKey(after), after.OwnerId, before, after, ct);
            docs.Add(after);
        }
        await tx.CommitAsync(ct);
        return Results.Ok(docs);
    }

    static async Task<IResult> ListAsync(string? owner_id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>(new CommandDefinition(Select + " where (@owner_id::text is null or s.owner_id = @owner_id)" + GroupBy,
            new { owner_id }, cancellationToken: ct));
        return Results.Ok(rows.Where(r => http.MayActFor(r.OwnerId)).Select(Doc).ToList());
    }

    /// <summary>A source id is unique per brand: owner_id picks one when several brands the caller may act for use the same id.</summary>
    static async Task<IResult> GetAsync(string sourceId, string? owner_id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = (await c.QueryAsync<Row>(new CommandDefinition(
            Select + " where s.source_id = @sourceId and (@owner_id::text is null or s.owner_id = @owner_id)" + GroupBy,
            new { sourceId, owner_id }, cancellationToken: ct))).ToList();
        if (rows.Count == 0) return Problems.NotFound($"No source '{sourceId}'.");
        var mine = rows.Where(r => http.MayActFor(r.OwnerId)).ToList();
        return mine.Count switch
        {
            0 => TokenValidation.Forbidden($"Source '{sourceId}' belongs to an owner the caller may not act for."),
            1 => Results.Ok(Doc(mine[0])),
            _ => Problems.BadRequest("owner_id", $"Several brands have a source '{sourceId}': name one with ?owner_id=."),
        };
    }

    static async Task<SourceDoc?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction tx, string ownerId, string sourceId, CancellationToken ct, bool forUpdate = false)
    {
        if (forUpdate)
        {
            var exists = await c.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select true from sources where owner_id = @ownerId and source_id = @sourceId for update", new { ownerId, sourceId }, tx, cancellationToken: ct));
            if (!exists) return null;
        }
        var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            Select + " where s.owner_id = @ownerId and s.source_id = @sourceId" + GroupBy, new { ownerId, sourceId }, tx, cancellationToken: ct));
        return row is null ? null : Doc(row);
    }

    static string SourceKey(SourceDoc s) => $"{s.OwnerId}/{s.SourceId}";

    static SourceDoc Doc(Row r) => new(r.OwnerId, r.SourceId, r.SourceName, [.. r.InstanceIds.Select(Guid.Parse)], Time.Ms(r.CreatedAt));
}
