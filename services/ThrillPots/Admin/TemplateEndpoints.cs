using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using ThrillPots.Engine;
using ThrillPots.Templates;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Admin;

/// <summary>Jackpot templates (spec §5 steps 1–2, §6): created as drafts, changed freely until published, immutable after.</summary>
public static class TemplateEndpoints
{
    internal sealed record Row(Guid Id, string OwnerId, string Name, string Currency, string JackpotType, string Definition,
        DateTime? PublishedAt, int Version, DateTime CreatedAt, DateTime UpdatedAt)
    {
        public TemplateDefinition Parsed => JsonSerializer.Deserialize<TemplateDefinition>(Definition, Audit.Json)!;
    }

    internal const string Select = """
        select id as Id, owner_id as OwnerId, name as Name, currency as Currency, jackpot_type as JackpotType, definition::text as Definition,
               published_at as PublishedAt, version as Version, created_at as CreatedAt, updated_at as UpdatedAt
        from templates
        """;

    public static void MapTemplateEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/templates").WithTags("Templates");
        g.MapPost("", CreateAsync).RequirePermission(Access.System, "templates", write: true);
        g.MapGet("", ListAsync).RequirePermission(Access.System, "templates", write: false);
        g.MapGet("/{id:guid}", GetAsync).RequirePermission(Access.System, "templates", write: false);
        g.MapPut("/{id:guid}", UpdateAsync).RequirePermission(Access.System, "templates", write: true);
        g.MapDelete("/{id:guid}", DeleteAsync).RequirePermission(Access.System, "templates", write: true);
        g.MapPost("/{id:guid}/publish", PublishAsync).RequirePermission(Access.System, "templates", write: true);
    }

    static async Task<IResult> CreateAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (template, refusal) = await ReadValidAsync(http, db, ct);
        if (refusal is not null) return refusal;
        var id = Guid.CreateVersion7();
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        const string sql = """
            insert into templates (id, owner_id, name, currency, jackpot_type, definition)
            values (@id, @OwnerId, @Name, @Currency, @jackpotType, cast(@definition as jsonb))
            """;
        await c.ExecuteAsync(new CommandDefinition(sql, new
        {
            id, template!.OwnerId, template.Name, template.Currency, jackpotType = template.JackpotType ?? TemplateDefinition.Jackpot,
            definition = JsonSerializer.Serialize(template, Audit.Json),
        }, tx, cancellationToken: ct));
        var doc = Doc((await LoadAsync(c, tx, id, ct))!);
        await Audit.WriteAsync(c, tx, http.User, "template.create", "template", id.ToString(), template.OwnerId, null, doc, ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/templates/{id}", doc);
    }

    static async Task<IResult> UpdateAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (template, refusal) = await ReadValidAsync(http, db, ct);
        if (refusal is not null) return refusal;
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var current = await LoadAsync(c, tx, id, ct, forUpdate: true);
        if (current is null) return Problems.NotFound($"No template {id}.");
        if (!http.MayActFor(current.OwnerId)) return TokenValidation.Forbidden($"The template belongs to '{current.OwnerId}'.");
        if (current.PublishedAt is not null) return Problems.Conflict($"Template {id} is published and cannot change.");
        if (template!.OwnerId != current.OwnerId) return Problems.BadRequest("owner_id", $"A template keeps its owner ('{current.OwnerId}').");
        const string sql = """
            update templates set name = @Name, currency = @Currency, jackpot_type = @jackpotType, definition = cast(@definition as jsonb),
                   version = version + 1, updated_at = now()
            where id = @id
            """;
        await c.ExecuteAsync(new CommandDefinition(sql, new
        {
            id, template.Name, template.Currency, jackpotType = template.JackpotType ?? TemplateDefinition.Jackpot,
            definition = JsonSerializer.Serialize(template, Audit.Json),
        }, tx, cancellationToken: ct));
        var after = Doc((await LoadAsync(c, tx, id, ct))!);
        await Audit.WriteAsync(c, tx, http.User, "template.update", "template", id.ToString(), current.OwnerId, Doc(current), after, ct);
        await tx.CommitAsync(ct);
        return Results.Ok(after);
    }

    static async Task<IResult> DeleteAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var current = await LoadAsync(c, tx, id, ct, forUpdate: true);
        if (current is null) return Problems.NotFound($"No template {id}.");
        if (!http.MayActFor(current.OwnerId)) return TokenValidation.Forbidden($"The template belongs to '{current.OwnerId}'.");
        if (current.PublishedAt is not null) return Problems.Conflict($"Template {id} is published and cannot change.");
        await c.ExecuteAsync(new CommandDefinition("delete from templates where id = @id", new { id }, tx, cancellationToken: ct));
        await Audit.WriteAsync(c, tx, http.User, "template.delete", "template", id.ToString(), current.OwnerId, Doc(current), null, ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> PublishAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var current = await LoadAsync(c, tx, id, ct, forUpdate: true);
        if (current is null) return Problems.NotFound($"No template {id}.");
        if (!http.MayActFor(current.OwnerId)) return TokenValidation.Forbidden($"The template belongs to '{current.OwnerId}'.");
        if (current.PublishedAt is not null) return Problems.Conflict($"Template {id} is already published.");
        await c.ExecuteAsync(new CommandDefinition("update templates set published_at = now(), updated_at = now() where id = @id", new { id }, tx, cancellationToken: ct));
        var after = Doc((await LoadAsync(c, tx, id, ct))!);
        await Audit.WriteAsync(c, tx, http.User, "template.publish", "template", id.ToString(), current.OwnerId, Doc(current), after, ct);
        await tx.CommitAsync(ct);
        return Results.Ok(after);
    }

    static async Task<IResult> GetAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await LoadAsync(c, null, id, ct);
        if (row is null) return Problems.NotFound($"No template {id}.");
        return http.MayActFor(row.OwnerId) ? Results.Ok(Doc(row)) : TokenValidation.Forbidden($"The template belongs to '{row.OwnerId}'.");
    }

    static async Task<IResult> ListAsync(string? owner_id, bool? published, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>(new CommandDefinition(Select + """
             where (@owner_id::text is null or owner_id = @owner_id)
               and (@published::boolean is null or (published_at is not null) = @published)
             order by created_at, id
            """, new { owner_id, published }, cancellationToken: ct));
        return Results.Ok(rows.Where(r => http.MayActFor(r.OwnerId)).Select(Doc).ToList());
    }

    /// <summary>Body, template rules (400), owner (403), then the rules that need the database: owner registered, currency known.</summary>
    static async Task<(TemplateDefinition? Template, IResult? Refusal)> ReadValidAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<TemplateDefinition>(http.Request);
        if (error is not null) return (null, error);
        var errors = TemplateValidation.Validate(body!);
        if (errors.Count > 0) return (null, Problems.BadRequest(errors));
        if (!http.MayActFor(body!.OwnerId!)) return (null, TokenValidation.Forbidden($"The caller may not act for '{body.OwnerId}'."));
        await using var c = await db.OpenConnectionAsync(ct);
        if (!await OperatorEndpoints.OwnerExistsAsync(c, null, body.OwnerId!, ct))
            return (null, Problems.BadRequest("owner_id", $"'{body.OwnerId}' is not a registered operator or brand (POST /config/operators)."));
        if (!await CurrencyEndpoints.IsKnownAsync(c, body.Currency!, ct))
            return (null, Problems.BadRequest("currency", $"'{body.Currency}' is not in the system currency table (PUT /config/currencies)."));
        foreach (var code in body.ContributionRules!.CurrencyLimits?.Keys ?? [])
            if (!await CurrencyEndpoints.IsKnownAsync(c, code, ct))
                return (null, Problems.BadRequest($"{AlwaysFair.Field}.{code}", $"'{code}' is not in the system currency table (PUT /config/currencies): no player can contribute in it."));
        return (body with { JackpotType = body.JackpotType ?? TemplateDefinition.Jackpot }, null);
    }

    internal static async Task<Row?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id, CancellationToken ct, bool forUpdate = false) =>
        await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(Select + " where id = @id" + (forUpdate ? " for update" : ""),
            new { id }, tx, cancellationToken: ct));

    /// <summary>The template as posted, plus its id and lifecycle fields.</summary>
    static JsonObject Doc(Row r)
    {
        var doc = JsonNode.Parse(r.Definition)!.AsObject();
        doc.Insert(0, "id", r.Id.ToString());
        doc["published"] = r.PublishedAt is not null;
        doc["published_timestamp"] = Time.Ms(r.PublishedAt);
        doc["version"] = r.Version;
        doc["created_timestamp"] = Time.Ms(r.CreatedAt);
        doc["updated_timestamp"] = Time.Ms(r.UpdatedAt);
        return doc;
    }
}
