using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Admin;

/// <summary>ThrillPots' own operator/brand registry (spec §4, §22.1 Config/Operators).</summary>
public static class OperatorEndpoints
{
    public sealed record NewOperator(string? Id, string? Name, bool? Enabled);
    public sealed record NewBrand(string? Id, string? Name, bool? Enabled);
    public sealed record BrandDoc(string Id, string Path, string Name, bool Enabled, bool WalletIntegration, long CreatedTimestamp);
    public sealed record WalletIntegrationBody(bool? Enabled);
    public sealed record OperatorDoc(string Id, string Path, string Name, bool Enabled, long CreatedTimestamp, IReadOnlyList<BrandDoc> Brands);

    sealed record OperatorRow(string Id, string Name, bool Enabled, DateTime CreatedAt);
    sealed record BrandRow(string OperatorId, string Id, string Name, bool Enabled, bool WalletIntegration, DateTime CreatedAt);

    public static void MapOperatorEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/config/operators").WithTags("Config: operators");
        g.MapPost("", CreateAsync).RequirePermission(Access.System, "operators", write: true);
        g.MapGet("", ListAsync).RequirePermission(Access.System, "operators", write: false);
        g.MapGet("/{operatorId}", GetAsync).RequirePermission(Access.System, "operators", write: false);
        g.MapPost("/{operatorId}/brands", AddBrandsAsync).RequirePermission(Access.System, "operators", write: true);
        g.MapPost("/{operatorId}/enable", (string operatorId, HttpContext http, NpgsqlDataSource db, CancellationToken ct) =>
            SetEnabledAsync(operatorId, null, true, http, db, ct)).RequirePermission(Access.System, "operators", write: true);
        g.MapPost("/{operatorId}/disable", (string operatorId, HttpContext http, NpgsqlDataSource db, CancellationToken ct) =>
            SetEnabledAsync(operatorId, null, false, http, db, ct)).RequirePermission(Access.System, "operators", write: true);
        g.MapPost("/{operatorId}/brands/{brandId}/enable", (string operatorId, string brandId, HttpContext http, NpgsqlDataSource db, CancellationToken ct) =>
            SetEnabledAsync(operatorId, brandId, true, http, db, ct)).RequirePermission(Access.System, "operators", write: true);
        g.MapPut("/{operatorId}/brands/{brandId}/wallet-integration", SetWalletIntegrationAsync).RequirePermission(Access.System, "operators", write: true);
        g.MapPost("/{operatorId}/brands/{brandId}/disable", (string operatorId, string brandId, HttpContext http, NpgsqlDataSource db, CancellationToken ct) =>
            SetEnabledAsync(operatorId, brandId, false, http, db, ct)).RequirePermission(Access.System, "operators", write: true);
    }

    static async Task<IResult> CreateAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<NewOperator>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!Ids.IsValid(body!.Id)) errors["id"] = ["Required: " + Ids.Rule];
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200) errors["name"] = ["Required: 1-200 characters."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!http.MayActFor(body.Id!)) return TokenValidation.Forbidden($"The caller may not act for operator '{body.Id}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        const string sql = "insert into operators (id, name, enabled) values (@Id, @Name, @enabled) on conflict do nothing";
        if (await c.ExecuteAsync(new CommandDefinition(sql, new { body.Id, body.Name, enabled = body.Enabled ?? true }, tx, cancellationToken: ct)) == 0)
            return Problems.Conflict($"Operator '{body.Id}' already exists.");
        var doc = (await LoadAsync(c, tx, body.Id!, ct))!;
        await Audit.WriteAsync(c, tx, http.User, "operator.create", "operator", doc.Id, doc.Id, null, doc, ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/config/operators/{doc.Id}", doc);
    }

    static async Task<IResult> AddBrandsAsync(string operatorId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<List<NewBrand>>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (body!.Count == 0) errors["body"] = ["At least one brand: [{\"id\", \"name\"}]."];
        for (var i = 0; i < body.Count; i++)
        {
            if (body[i] is null) { errors[$"[{i}]"] = ["Required: {\"id\", \"name\"}."]; continue; }
            if (!Ids.IsValid(body[i].Id)) errors[$"[{i}].id"] = ["Required: " + Ids.Rule];
            if (string.IsNullOrWhiteSpace(body[i].Name) || body[i].Name!.Length > 200) errors[$"[{i}].name"] = ["Required: 1-200 characters."];
        }
        if (errors.Count == 0 && body.Select(b => b.Id).Distinct().Count() != body.Count) errors["body"] = ["Brand ids must be unique."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!http.MayActFor(operatorId)) return TokenValidation.Forbidden($"The caller may not act for operator '{operatorId}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, operatorId, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No operator '{operatorId}'.");
        const string sql = "insert into brands (operator_id, id, name, enabled) values (@operatorId, @Id, @Name, @enabled) on conflict do nothing";
        foreach (var b in body)
            if (await c.ExecuteAsync(new CommandDefinition(sql, new { operatorId, b.Id, b.Name, enabled = b.Enabled ?? true }, tx, cancellationToken: ct)) == 0)
                return Problems.Conflict($"Brand '{operatorId}:{b.Id}' already exists.");
        var after = (await LoadAsync(c, tx, operatorId, ct))!;
        await Audit.WriteAsync(c, tx, http.User, "operator.add_brands", "operator", operatorId, operatorId, before, after, ct);
        await tx.CommitAsync(ct);
        return Results.Ok(after);
    }

    static async Task<IResult> GetAsync(string operatorId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var doc = await LoadAsync(c, null, operatorId, ct);
        if (doc is null) return Problems.NotFound($"No operator '{operatorId}'.");
        return Visible(http, doc) is { } v ? Results.Ok(v) : TokenValidation.Forbidden($"The caller may not act for operator '{operatorId}'.");
    }

    static async Task<IResult> ListAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var operators = await c.QueryAsync<OperatorRow>(new CommandDefinition(
            "select id as Id, name as Name, enabled as Enabled, created_at as CreatedAt from operators order by id", cancellationToken: ct));
        var brands = (await c.QueryAsync<BrandRow>(new CommandDefinition(
            "select operator_id as OperatorId, id as Id, name as Name, enabled as Enabled, wallet_integration as WalletIntegration, created_at as CreatedAt from brands order by operator_id, id",
            cancellationToken: ct))).ToLookup(b => b.OperatorId);
        return Results.Ok(operators.Select(o => Visible(http, Doc(o, brands[o.Id]))).OfType<OperatorDoc>().ToList());
    }

    static async Task<IResult> SetEnabledAsync(string operatorId, string? brandId, bool enabled, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var owner = brandId is null ? operatorId : $"{operatorId}:{brandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The caller may not act for '{owner}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, operatorId, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No operator '{operatorId}'.");
        if (brandId is not null && before.Brands.All(b => b.Id != brandId)) return Problems.NotFound($"No brand '{owner}'.");
        if (brandId is null)
            await c.ExecuteAsync(new CommandDefinition("update operators set enabled = @enabled where id = @operatorId", new { enabled, operatorId }, tx, cancellationToken: ct));
        else
            await c.ExecuteAsync(new CommandDefinition("update brands set enabled = @enabled where operator_id = @operatorId and id = @brandId",
                new { enabled, operatorId, brandId }, tx, cancellationToken: ct));
        var after = (await LoadAsync(c, tx, operatorId, ct))!;
        await Audit.WriteAsync(c, tx, http.User, $"{(brandId is null ? "operator" : "brand")}.{(enabled ? "enable" : "disable")}", brandId is null ? "operator" : "brand",
            owner, owner, before, after, ct);
        await tx.CommitAsync(ct);
        return Results.Ok(Visible(http, after));
    }

    /// <summary>
    /// Wallet integration of a brand (issue 5): on, contributions are debited from the player's wallet through ThrillGate and
    /// wins credited; off, the operator settles both (wins are withheld from automatic payment). ThrillGate must hold an
    /// enabled wallet for the brand before this is switched on, or its contributions are refused.
    /// </summary>
    static async Task<IResult> SetWalletIntegrationAsync(string operatorId, string brandId, HttpContext http, NpgsqlDataSource db,
        Contributions.WalletDebits wallets, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<WalletIntegrationBody>(http.Request);
        if (error is not null) return error;
        if (body!.Enabled is not bool enabled) return Problems.BadRequest("enabled", "Required: true or false.");
        var owner = $"{operatorId}:{brandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The caller may not act for '{owner}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, operatorId, ct, forUpdate: true);
        if (before is null || before.Brands.All(b => b.Id != brandId)) return Problems.NotFound($"No brand '{owner}'.");
        await c.ExecuteAsync(new CommandDefinition("update brands set wallet_integration = @enabled where operator_id = @operatorId and id = @brandId",
            new { enabled, operatorId, brandId }, tx, cancellationToken: ct));
        var after = (await LoadAsync(c, tx, operatorId, ct))!;
        await Audit.WriteAsync(c, tx, http.User, "brand.wallet_integration", "brand", owner, owner, before, after, ct);
        await tx.CommitAsync(ct);
        wallets.Forget(owner);
        return Results.Ok(after.Brands.Single(b => b.Id == brandId));
    }

    /// <summary>The operator as the caller may see it: everything when it may act for the operator, else only its own brands.</summary>
    static OperatorDoc? Visible(HttpContext http, OperatorDoc doc)
    {
        if (http.MayActFor(doc.Id)) return doc;
        var brands = doc.Brands.Where(b => http.MayActFor(b.Path)).ToList();
        return brands.Count == 0 ? null : doc with { Brands = brands };
    }

    internal static async Task<OperatorDoc?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string operatorId, CancellationToken ct, bool forUpdate = false)
    {
        var op = await c.QuerySingleOrDefaultAsync<OperatorRow>(new CommandDefinition(
            "select id as Id, name as Name, enabled as Enabled, created_at as CreatedAt from operators where id = @operatorId" + (forUpdate ? " for update" : ""),
            new { operatorId }, tx, cancellationToken: ct));
        if (op is null) return null;
        var brands = await c.QueryAsync<BrandRow>(new CommandDefinition(
            "select operator_id as OperatorId, id as Id, name as Name, enabled as Enabled, wallet_integration as WalletIntegration, created_at as CreatedAt from brands where operator_id = @operatorId order by id",
            new { operatorId }, tx, cancellationToken: ct));
        return Doc(op, brands);
    }

    /// <summary>Whether the owner's operator (and brand, when named) are registered.</summary>
    internal static async Task<bool> OwnerExistsAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string ownerId, CancellationToken ct)
    {
        var (op, brand) = Permissions.ParseOwner(ownerId);
        const string sql = """
            select exists (select 1 from operators where id = @op)
               and (@brand::text is null or exists (select 1 from brands where operator_id = @op and id = @brand))
            """;
        return await c.ExecuteScalarAsync<bool>(new CommandDefinition(sql, new { op, brand }, tx, cancellationToken: ct));
    }

    static OperatorDoc Doc(OperatorRow o, IEnumerable<BrandRow> brands) =>
        new(o.Id, o.Id, o.Name, o.Enabled, Time.Ms(o.CreatedAt),
            [.. brands.Select(b => new BrandDoc(b.Id, $"{o.Id}:{b.Id}", b.Name, b.Enabled, b.WalletIntegration, Time.Ms(b.CreatedAt)))]);
}
