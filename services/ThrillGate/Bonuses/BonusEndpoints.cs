using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillGate.Wallets;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillGate.Bonuses;

/// <summary>
/// The ThrillGate Bonus API (spec §8.3–§8.4): templates, instances, awards (from an instance or direct from an external
/// reward system), removal and queries. Every write is owner-checked against <c>operator:brand</c> and audited; awards are
/// idempotent by <c>request_id</c> per brand.
/// </summary>
public static class BonusEndpoints
{
    public const string Resource = "bonuses";
    public const int MaxPlayers = 1000;

    public sealed record TemplateBody(string? Name, string? OperatorId, string? BrandId, JsonElement? FreespinType, JsonElement? ExpiresAfterMs);

    public sealed record InstanceBody(string? Name, string? OperatorId, string? BrandId, string? TemplateId, JsonElement? AvailableFor,
        JsonElement? ExpiresAfterMs, JsonElement? TimestampStart, JsonElement? TimestampEnd);

    public sealed record AddBody(string? RequestId, string? InstanceId, string? OperatorId, string? BrandId, JsonElement? Players, string? PromoId);

    public sealed record CreateBody(string? RequestId, string? OperatorId, string? BrandId, JsonElement? Players, string? BonusName, JsonElement? Bonus,
        JsonElement? AvailableFor, JsonElement? TimestampBonusExpires, string? PromoId);

    public sealed record TemplateDoc(Guid Id, string Name, string OperatorId, string BrandId, JsonElement FreespinType, long ExpiresAfterMs,
        string? CreatedBy, long TimestampCreated);

    public sealed record InstanceDoc(Guid Id, string Name, string OperatorId, string BrandId, JsonElement FreespinType, Guid TemplateId,
        IReadOnlyList<BonusScope> AvailableFor, long ExpiresAfterMs, long TimestampStart, long TimestampEnd, long TimestampCreated);

    sealed record TemplateRow(Guid Id, string Name, string OperatorId, string BrandId, string FreespinType, long ExpiresAfterMs, string? CreatedBy,
        DateTime CreatedAt);

    sealed record InstanceRow(Guid Id, string Name, string OperatorId, string BrandId, string FreespinType, Guid TemplateId, string AvailableFor,
        long ExpiresAfterMs, long TimestampStart, long TimestampEnd, DateTime CreatedAt);

    const string TemplateColumns = """
        id, name, operator_id as OperatorId, brand_id as BrandId, freespin_type::text as FreespinType, expires_after_ms as ExpiresAfterMs,
        created_by as CreatedBy, created_at as CreatedAt
        """;

    const string InstanceColumns = """
        id, name, operator_id as OperatorId, brand_id as BrandId, freespin_type::text as FreespinType, template_id as TemplateId,
        available_for::text as AvailableFor, expires_after_ms as ExpiresAfterMs, timestamp_start as TimestampStart, timestamp_end as TimestampEnd,
        created_at as CreatedAt
        """;

    /// <summary>
    /// The spec's paths are <c>thrillgate/bonus/...</c> (what the edge routes to ThrillGate); <c>/bonus/...</c> is the same API
    /// for callers that reach ThrillGate directly, kept out of the OpenAPI document.
    /// </summary>
    public static void MapBonusEndpoints(this WebApplication app)
    {
        Map(app.MapGroup("/thrillgate/bonus").WithTags("Bonuses"));
        Map(app.MapGroup("/bonus").ExcludeFromDescription());
    }

    static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/templates", CreateTemplateAsync).RequirePermission(WalletEndpoints.System, Resource, write: true);
        g.MapGet("/templates", ListTemplatesAsync).RequirePermission(WalletEndpoints.System, Resource, write: false);
        g.MapPost("/instances", CreateInstanceAsync).RequirePermission(WalletEndpoints.System, Resource, write: true);
        g.MapGet("/instances", ListInstancesAsync).RequirePermission(WalletEndpoints.System, Resource, write: false);
        g.MapPost("/freespins/add", AddAsync).RequirePermission(WalletEndpoints.System, Resource, write: true);
        g.MapPost("/playerbonus/create", CreatePlayerBonusAsync).RequirePermission(WalletEndpoints.System, Resource, write: true);
        g.MapGet("/playerbonus", ListPlayerBonusesAsync).RequirePermission(WalletEndpoints.System, Resource, write: false);
        g.MapGet("/playerbonus/{id}", GetPlayerBonusAsync).RequirePermission(WalletEndpoints.System, Resource, write: false);
        g.MapDelete("/playerbonus/{id}", RemoveAsync).RequirePermission(WalletEndpoints.System, Resource, write: true);
    }

    static void Owner(string? operatorId, string? brandId, Dictionary<string, string[]> errors)
    {
        if (!Ids.IsValid(operatorId)) errors["operator_id"] = ["Required: " + Ids.Rule];
        if (!Ids.IsValid(brandId)) errors["brand_id"] = ["Required: " + Ids.Rule];
    }

    static async Task<IResult> CreateTemplateAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<TemplateBody>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!BonusFields.Text(body!.Name, 200)) errors["name"] = ["Required: 1-200 characters."];
        Owner(body.OperatorId, body.BrandId, errors);
        var type = FreeSpinType.Parse(body.FreespinType, "freespin_type", errors);
        var expires = BonusFields.Millis(body.ExpiresAfterMs, "expires_after_ms", errors, max: 10L * 365 * 86_400_000);
        if (errors.Count > 0) return Problems.BadRequest(errors);
        var owner = $"{body.OperatorId}:{body.BrandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The caller may not act for '{owner}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var id = Guid.CreateVersion7();
        await c.ExecuteAsync(new CommandDefinition("""
            insert into bonus_templates (id, name, operator_id, brand_id, freespin_type, expires_after_ms)
            values (@id, @Name, @OperatorId, @BrandId, cast(@type as jsonb), @expires)
            """, new { id, body.Name, body.OperatorId, body.BrandId, type = JsonSerializer.Serialize(type!.ToJson()), expires }, tx, cancellationToken: ct));
        var doc = Doc((await c.QuerySingleAsync<TemplateRow>(new CommandDefinition($"select {TemplateColumns} from bonus_templates where id = @id", new { id },
            tx, cancellationToken: ct)))!);
        await Audit.WriteAsync(c, tx, http.User, "bonus_template.create", "bonus_template", id.ToString(), owner, null, doc, ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/thrillgate/bonus/templates?id={id}", doc);
    }

    static async Task<IResult> CreateInstanceAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<InstanceBody>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!BonusFields.Text(body!.Name, 200)) errors["name"] = ["Required: 1-200 characters."];
        Owner(body.OperatorId, body.BrandId, errors);
        if (!Guid.TryParse(body.TemplateId, out var templateId)) errors["template_id"] = ["Required: the id of a bonus template."];
        var scopes = BonusFields.Scopes(body.AvailableFor, "available_for", errors);
        var start = BonusFields.Millis(body.TimestampStart, "timestamp_start", errors);
        var end = BonusFields.Millis(body.TimestampEnd, "timestamp_end", errors);
        long? expiresOverride = body.ExpiresAfterMs is { ValueKind: not JsonValueKind.Null }
            ? BonusFields.Millis(body.ExpiresAfterMs, "expires_after_ms", errors, max: 10L * 365 * 86_400_000) : null;
        if (start > 0 && end > 0 && end <= start) errors["timestamp_end"] = ["Must be after timestamp_start (or 0 = no end)."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        var owner = $"{body.OperatorId}:{body.BrandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The caller may not act for '{owner}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var template = await c.QuerySingleOrDefaultAsync<TemplateRow>(new CommandDefinition(
            $"select {TemplateColumns} from bonus_templates where id = @templateId", new { templateId }, tx, cancellationToken: ct));
        if (template is null || template.OperatorId != body.OperatorId || template.BrandId != body.BrandId)
            return Problems.BadRequest("template_id", $"No bonus template {templateId} of '{owner}'.");
        var id = Guid.CreateVersion7();
        await c.ExecuteAsync(new CommandDefinition("""
            insert into bonus_instances (id, name, operator_id, brand_id, template_id, freespin_type, available_for, expires_after_ms, timestamp_start, timestamp_end)
            values (@id, @Name, @OperatorId, @BrandId, @templateId, cast(@FreespinType as jsonb), cast(@scopes as jsonb), @expires, @start, @end)
            """, new
        {
            id, body.Name, body.OperatorId, body.BrandId, templateId, template.FreespinType, scopes = JsonSerializer.Serialize(scopes, PlayerBonuses.Json),
            expires = expiresOverride ?? template.ExpiresAfterMs, start, end,
        }, tx, cancellationToken: ct));
        var doc = Doc((await LoadInstanceAsync(c, tx, id, ct))!);
        await Audit.WriteAsync(c, tx, http.User, "bonus_instance.create", "bonus_instance", id.ToString(), owner, null, doc, ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/thrillgate/bonus/instances?id={id}", doc);
    }

    /// <summary>Awards an instance to players (§8.3 step 3): each gets its own bonus, expiring <c>expires_after_ms</c> after the award.</summary>
    static async Task<IResult> AddAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<AddBody>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!BonusFields.Text(body!.RequestId, 128)) errors["request_id"] = ["Required: 1-128 characters (the idempotency key)."];
        if (!Guid.TryParse(body.InstanceId, out var instanceId)) errors["instance_id"] = ["Required: the id of a bonus instance."];
        Owner(body.OperatorId, body.BrandId, errors);
        var players = Players(body.Players, errors);
        if (body.PromoId is { } promo && !BonusFields.Text(promo, 128)) errors["promo_id"] = ["1-128 characters, or null."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        var owner = $"{body.OperatorId}:{body.BrandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The caller may not act for '{owner}'.");

        return await AwardOnceAsync(http, db, body.OperatorId!, body.BrandId!, body.RequestId!, Hash(body), async (c, tx) =>
        {
            var instance = await LoadInstanceAsync(c, tx, instanceId, ct);
            if (instance is null || instance.OperatorId != body.OperatorId || instance.BrandId != body.BrandId)
                return (null, Problems.BadRequest("instance_id", $"No bonus instance {instanceId} of '{owner}'."));
            var now = BonusFields.Now();
            if (instance.TimestampStart > 0 && now < instance.TimestampStart || instance.TimestampEnd > 0 && now >= instance.TimestampEnd)
                return (null, Problems.BadRequest("instance_id", $"Bonus instance {instanceId} may be awarded only from {instance.TimestampStart} to {instance.TimestampEnd} (epoch ms)."));
            var errs = new Dictionary<string, string[]>();
            var type = FreeSpinType.Parse(JsonDocument.Parse(instance.FreespinType).RootElement, "freespin_type", errs)!;
            var expiresAt = instance.ExpiresAfterMs > 0 ? now + instance.ExpiresAfterMs : 0;
            return (new PlayerBonuses.Award(body.OperatorId!, body.BrandId!, body.RequestId!, instanceId, body.PromoId, instance.Name, type,
                JsonSerializer.Deserialize<List<BonusScope>>(instance.AvailableFor, PlayerBonuses.Json)!, expiresAt, now), null);
        }, players, ct);
    }

    /// <summary>Direct award from an external reward system (§8.4): no template or instance, the bonus in the request.</summary>
    static async Task<IResult> CreatePlayerBonusAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<CreateBody>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!BonusFields.Text(body!.RequestId, 128)) errors["request_id"] = ["Required: 1-128 characters (the idempotency key)."];
        Owner(body.OperatorId, body.BrandId, errors);
        var players = Players(body.Players, errors);
        if (!BonusFields.Text(body.BonusName, 200)) errors["bonus_name"] = ["Required: 1-200 characters."];
        var type = FreeSpinType.Parse(body.Bonus, "bonus", errors);
        var scopes = BonusFields.Scopes(body.AvailableFor, "available_for", errors);
        var expiresAt = BonusFields.Millis(body.TimestampBonusExpires, "timestamp_bonus_expires", errors);
        if (body.PromoId is { } promo && !BonusFields.Text(promo, 128)) errors["promo_id"] = ["1-128 characters, or null."];
        if (expiresAt > 0 && expiresAt <= BonusFields.Now()) errors["timestamp_bonus_expires"] = ["Must be in the future (epoch ms), or 0 = no expiry."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        var owner = $"{body.OperatorId}:{body.BrandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The caller may not act for '{owner}'.");

        var award = new PlayerBonuses.Award(body.OperatorId!, body.BrandId!, body.RequestId!, null, body.PromoId, body.BonusName!, type!, scopes, expiresAt!.Value,
            BonusFields.Now());
        return await AwardOnceAsync(http, db, body.OperatorId!, body.BrandId!, body.RequestId!, Hash(body),
            (_, _) => Task.FromResult<(PlayerBonuses.Award?, IResult?)>((award, null)), players, ct);
    }

    /// <summary>
    /// The request is claimed by its id first (a concurrent twin waits on the key, then finds the answer); a replay with the
    /// same content returns the first answer and changes nothing, other content under the same id is 409.
    /// </summary>
    static async Task<IResult> AwardOnceAsync(HttpContext http, NpgsqlDataSource db, string operatorId, string brandId, string requestId, string hash,
        Func<NpgsqlConnection, NpgsqlTransaction, Task<(PlayerBonuses.Award?, IResult?)>> prepare, IReadOnlyList<string> players, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var claimed = await c.ExecuteAsync(new CommandDefinition("""
            insert into bonus_awards (operator_id, brand_id, request_id, request_hash) values (@operatorId, @brandId, @requestId, @hash) on conflict do nothing
            """, new { operatorId, brandId, requestId, hash }, tx, cancellationToken: ct));
        if (claimed == 0)
        {
            var first = await c.QuerySingleAsync<(string Hash, string Response)>(new CommandDefinition(
                "select request_hash, response::text from bonus_awards where operator_id = @operatorId and brand_id = @brandId and request_id = @requestId",
                new { operatorId, brandId, requestId }, tx, cancellationToken: ct));
            return first.Hash == hash
                ? Results.Text(first.Response, "application/json", statusCode: StatusCodes.Status200OK)
                : Problems.Conflict($"request_id '{requestId}' was already used for a different award.");
        }
        var (award, refusal) = await prepare(c, tx);
        if (refusal is not null) return refusal;
        var docs = await PlayerBonuses.AwardAsync(c, tx, award!, players, ct);
        var response = JsonSerializer.Serialize(docs, JsonBody.Options);
        await c.ExecuteAsync(new CommandDefinition("""
            update bonus_awards set response = cast(@response as jsonb) where operator_id = @operatorId and brand_id = @brandId and request_id = @requestId
            """, new { response, operatorId, brandId, requestId }, tx, cancellationToken: ct));
        await Audit.WriteAsync(c, tx, http.User, "player_bonus.award", "bonus_award", requestId, $"{operatorId}:{brandId}", null,
            new { request_id = requestId, instance_id = award!.InstanceId, award.PromoId, players, bonuses = docs.Select(d => d.Id) }, ct);
        await tx.CommitAsync(ct);
        return Results.Text(response, "application/json", statusCode: StatusCodes.Status200OK);
    }

    /// <summary>Removes a player's available bonus (PlayerBonusRemoved); uses already taken stay taken.</summary>
    static async Task<IResult> RemoveAsync(string id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var bonusId)) return Problems.NotFound($"No player bonus '{id}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await PlayerBonuses.LoadAsync(c, tx, bonusId, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No player bonus '{id}'.");
        var owner = $"{before.OperatorId}:{before.BrandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The bonus belongs to '{owner}'.");
        if (before.State != "Available") return Problems.Conflict($"Player bonus {id} is {before.State}: only an available bonus can be removed.");
        var now = BonusFields.Now();
        await c.ExecuteAsync(new CommandDefinition("update player_bonuses set state = 'Removed', ended_at = @now where id = @bonusId", new { bonusId, now }, tx,
            cancellationToken: ct));
        var after = (await PlayerBonuses.LoadAsync(c, tx, bonusId, ct))!;
        await PlayerBonuses.PublishAsync(tx, after, "Removed", now, ct);
        await Audit.WriteAsync(c, tx, http.User, "player_bonus.remove", "player_bonus", id, owner, PlayerBonuses.Doc(before), PlayerBonuses.Doc(after), ct);
        await tx.CommitAsync(ct);
        return Results.Ok(PlayerBonuses.Doc(after));
    }

    static async Task<IResult> GetPlayerBonusAsync(string id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var bonusId)) return Problems.NotFound($"No player bonus '{id}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await PlayerBonuses.LoadAsync(c, null, bonusId, ct);
        if (row is null) return Problems.NotFound($"No player bonus '{id}'.");
        var owner = $"{row.OperatorId}:{row.BrandId}";
        return http.MayActFor(owner) ? Results.Json(new PlayerBonusView(row.PlayerId, row.OperatorId, row.BrandId, PlayerBonuses.Doc(row)), JsonBody.Options)
            : TokenValidation.Forbidden($"The bonus belongs to '{owner}'.");
    }

    public sealed record PlayerBonusView(string PlayerId, string OperatorId, string BrandId, PlayerBonus Bonus);

    static Task<IResult> ListTemplatesAsync(HttpContext http, NpgsqlDataSource db, string? id, string? name, string? operator_id, string? brand_id,
        string? sort_field, string? sort_direction, string? page, string? limit, CancellationToken ct) =>
        ListAsync<TemplateRow, TemplateDoc>(http, db, "bonus_templates", TemplateColumns, Doc, new()
        {
            ["id"] = "id", ["name"] = "name", ["timestamp_created"] = "created_at", ["expires_after_ms"] = "expires_after_ms",
        }, new Filter(id, name, operator_id, brand_id, null, null), sort_field, sort_direction, page, limit, ct);

    static Task<IResult> ListInstancesAsync(HttpContext http, NpgsqlDataSource db, string? id, string? name, string? operator_id, string? brand_id,
        string? sort_field, string? sort_direction, string? page, string? limit, CancellationToken ct) =>
        ListAsync<InstanceRow, InstanceDoc>(http, db, "bonus_instances", InstanceColumns, Doc, new()
        {
            ["id"] = "id", ["name"] = "name", ["timestamp_created"] = "created_at", ["timestamp_start"] = "timestamp_start",
            ["timestamp_end"] = "timestamp_end", ["expires_after_ms"] = "expires_after_ms",
        }, new Filter(id, name, operator_id, brand_id, null, null), sort_field, sort_direction, page, limit, ct);

    static Task<IResult> ListPlayerBonusesAsync(HttpContext http, NpgsqlDataSource db, string? id, string? operator_id, string? brand_id, string? player_id,
        string? state, string? sort_field, string? sort_direction, string? page, string? limit, CancellationToken ct)
    {
        if (state is not null and not ("Available" or "Consumed" or "Expired" or "Removed"))
            return Task.FromResult(Problems.BadRequest("state", "One of Available, Consumed, Expired, Removed."));
        return ListAsync<PlayerBonuses.Row, PlayerBonusView>(http, db, "player_bonuses", PlayerBonuses.Columns,
            r => new PlayerBonusView(r.PlayerId, r.OperatorId, r.BrandId, PlayerBonuses.Doc(r)), new()
            {
                ["id"] = "id", ["name"] = "name", ["player_id"] = "player_id", ["timestamp_bonus_awarded"] = "awarded_at",
                ["timestamp_bonus_expires"] = "expires_at", ["state"] = "state",
            }, new Filter(id, null, operator_id, brand_id, player_id, state), sort_field, sort_direction, page, limit, ct);
    }

    sealed record Filter(string? Id, string? Name, string? OperatorId, string? BrandId, string? PlayerId, string? State);

    /// <summary>
    /// The spec's query (§8.3): filters, <c>sort_field</c> (named per resource), <c>sort_direction</c> 1 = ascending, -1 =
    /// descending, <c>page</c> from 1 and <c>limit</c> 1-500 (defaults: newest first, page 1, 50). <c>operator_id</c> is
    /// required; without <c>brand_id</c> the caller must be able to act for the whole operator.
    /// </summary>
    static async Task<IResult> ListAsync<TRow, TDoc>(HttpContext http, NpgsqlDataSource db, string table, string columns, Func<TRow, TDoc> doc,
        Dictionary<string, string> sortable, Filter f, string? sortField, string? sortDirection, string? page, string? limit, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Ids.IsValid(f.OperatorId)) errors["operator_id"] = ["Required: " + Ids.Rule];
        if (f.BrandId is not null && !Ids.IsValid(f.BrandId)) errors["brand_id"] = [Ids.Rule];
        if (f.Id is not null && !Guid.TryParse(f.Id, out _)) errors["id"] = ["A UUID."];
        var column = table == "player_bonuses" ? "awarded_at" : "created_at";
        if (sortField is not null && !sortable.TryGetValue(sortField, out column!))
            errors["sort_field"] = ["One of " + string.Join(", ", sortable.Keys) + "."];
        var direction = sortDirection switch { null or "-1" => "desc", "1" => "asc", _ => null };
        if (direction is null) errors["sort_direction"] = ["1 (ascending) or -1 (descending)."];
        var pageNo = page is null ? 1 : int.TryParse(page, out var p) && p >= 1 ? p : 0;
        if (pageNo == 0) errors["page"] = ["A whole number from 1."];
        var size = limit is null ? 50 : int.TryParse(limit, out var l) && l is >= 1 and <= 500 ? l : 0;
        if (size == 0) errors["limit"] = ["A whole number from 1 to 500."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        var owner = f.BrandId is null ? f.OperatorId! : $"{f.OperatorId}:{f.BrandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The caller may not read for '{owner}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<TRow>(new CommandDefinition($"""
            select {columns} from {table}
            where operator_id = @OperatorId and (@BrandId::text is null or brand_id = @BrandId) and (@id::uuid is null or id = @id::uuid)
              and (@Name::text is null or name = @Name) {(table == "player_bonuses" ? "and (@PlayerId::text is null or player_id = @PlayerId) and (@State::text is null or state = @State)" : "")}
            order by {column} {direction}, id {direction} limit @size offset @offset
            """, new { f.OperatorId, f.BrandId, id = f.Id, f.Name, f.PlayerId, f.State, size, offset = (long)(pageNo - 1) * size }, cancellationToken: ct));
        return Results.Json(rows.Select(doc).ToList(), JsonBody.Options);
    }

    static IReadOnlyList<string> Players(JsonElement? element, Dictionary<string, string[]> errors)
    {
        if (element is { ValueKind: JsonValueKind.Array } e && e.GetArrayLength() is > 0 and <= MaxPlayers
            && e.EnumerateArray().All(p => p.ValueKind == JsonValueKind.String && BonusFields.Text(p.GetString(), 128)))
        {
            var players = e.EnumerateArray().Select(p => p.GetString()!).ToList();
            if (players.Distinct().Count() == players.Count) return players;
            errors["players"] = ["Each player at most once."];
            return [];
        }
        errors["players"] = [$"Required: an array of 1-{MaxPlayers} player ids of 1-128 characters."];
        return [];
    }

    static string Hash(object body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(body, JsonBody.Options))));

    static async Task<InstanceRow?> LoadInstanceAsync(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id, CancellationToken ct) =>
        await c.QuerySingleOrDefaultAsync<InstanceRow>(new CommandDefinition($"select {InstanceColumns} from bonus_instances where id = @id", new { id }, tx,
            cancellationToken: ct));

    static TemplateDoc Doc(TemplateRow r) => new(r.Id, r.Name, r.OperatorId, r.BrandId, JsonDocument.Parse(r.FreespinType).RootElement, r.ExpiresAfterMs,
        r.CreatedBy, Time.Ms(r.CreatedAt));

    static InstanceDoc Doc(InstanceRow r) => new(r.Id, r.Name, r.OperatorId, r.BrandId, JsonDocument.Parse(r.FreespinType).RootElement, r.TemplateId,
        JsonSerializer.Deserialize<List<BonusScope>>(r.AvailableFor, PlayerBonuses.Json)!, r.ExpiresAfterMs, r.TimestampStart, r.TimestampEnd,
        Time.Ms(r.CreatedAt));
}
