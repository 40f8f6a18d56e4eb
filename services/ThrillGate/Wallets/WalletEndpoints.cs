using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillGate.Wallets;

/// <summary>
/// Wallet configuration (spec §5.2): one definition per brand, owner-checked against <c>operator:brand</c>, audited, the
/// secret write-only. Accepts both endpoint shapes of §3.2 and answers the normalised object shape.
/// </summary>
public static class WalletEndpoints
{
    public const string System = "thrillgate";

    public sealed record WalletDoc(string Id, string OperatorId, string BrandId, string WalletType, ConnectionBody ConnectionDetails,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Endpoints, ConfigDoc Config, bool Enabled, int Version,
        long CreatedTimestamp, long UpdatedTimestamp);

    public sealed record ConfigDoc(bool SecretKeySet, int RequestTimeout, int RequestRetryLimit, decimal RequestRetryBackoff, bool RetryBackoffSleep,
        IReadOnlyDictionary<string, ErrorRule> ErrorResponseRules, bool AcceptZeroValueCredits, bool MustCloseGamerounds, string HmacAlgorithm,
        string HmacEncoding);

    sealed record Row(string Definition, bool Enabled, int Version, DateTime CreatedAt, DateTime UpdatedAt);

    public static void MapWalletEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/admin/wallets").WithTags("Wallets");
        g.MapPost("", CreateAsync).RequirePermission(System, "wallets", write: true);
        g.MapGet("", ListAsync).RequirePermission(System, "wallets", write: false);
        g.MapGet("/{id}", GetAsync).RequirePermission(System, "wallets", write: false);
        g.MapPut("/{id}", UpdateAsync).RequirePermission(System, "wallets", write: true);
        g.MapPost("/{id}/disable", (string id, HttpContext http, NpgsqlDataSource db, WalletStore store, CancellationToken ct) =>
            SetEnabledAsync(id, false, http, db, store, ct)).RequirePermission(System, "wallets", write: true);
        g.MapPost("/{id}/enable", (string id, HttpContext http, NpgsqlDataSource db, WalletStore store, CancellationToken ct) =>
            SetEnabledAsync(id, true, http, db, store, ct)).RequirePermission(System, "wallets", write: true);
        g.MapDelete("/{id}", (string id, HttpContext http, NpgsqlDataSource db, WalletStore store, CancellationToken ct) =>
            SetEnabledAsync(id, false, http, db, store, ct)).RequirePermission(System, "wallets", write: true);
    }

    static async Task<IResult> CreateAsync(HttpContext http, NpgsqlDataSource db, WalletStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<WalletBody>(http.Request);
        if (error is not null) return error;
        var (definition, secret, errors) = WalletDefinition.Validate(body!, secretRequired: true);
        if (definition is null) return Problems.BadRequest(errors);
        if (!http.MayActFor(Owner(definition))) return TokenValidation.Forbidden($"The caller may not act for '{Owner(definition)}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (await c.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from wallets where id = @Id)", new { definition.Id }, tx, cancellationToken: ct)))
            return Problems.Conflict($"Wallet '{definition.Id}' already exists.");
        if (await EnabledForBrandAsync(c, tx, definition, ct) is { } other)
            return Problems.Conflict($"Brand '{Owner(definition)}' already has the enabled wallet '{other}'; disable it first.");
        await c.ExecuteAsync(new CommandDefinition("""
            insert into wallets (id, operator_id, brand_id, definition, secret) values (@Id, @OperatorId, @BrandId, cast(@json as jsonb), @sealed)
            """, new { definition.Id, definition.OperatorId, definition.BrandId, json = WalletStore.Serialize(definition), @sealed = store.Seal(secret!) },
            tx, cancellationToken: ct));
        var doc = (await LoadAsync(c, tx, definition.Id, ct))!;
        await Audit.WriteAsync(c, tx, http.User, "wallet.create", "wallet", doc.Id, Owner(definition), null, doc, ct);
        await tx.CommitAsync(ct);
        store.Forget(definition.OperatorId, definition.BrandId);
        return Results.Created($"/admin/wallets/{doc.Id}", doc);
    }

    /// <summary>A full replacement of the definition; a body without <c>config.secret_key</c> keeps the stored secret.</summary>
    static async Task<IResult> UpdateAsync(string id, HttpContext http, NpgsqlDataSource db, WalletStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<WalletBody>(http.Request);
        if (error is not null) return error;
        var (definition, secret, errors) = WalletDefinition.Validate(body! with { Id = body!.Id ?? id }, secretRequired: false);
        if (definition is null) return Problems.BadRequest(errors);
        if (definition.Id != id) return Problems.BadRequest("id", $"Must be '{id}', the wallet in the path.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, id, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No wallet '{id}'.");
        if (!http.MayActFor($"{before.OperatorId}:{before.BrandId}")) return TokenValidation.Forbidden($"The wallet belongs to '{before.OperatorId}:{before.BrandId}'.");
        if (!http.MayActFor(Owner(definition))) return TokenValidation.Forbidden($"The caller may not act for '{Owner(definition)}'.");
        if (before.Enabled && await EnabledForBrandAsync(c, tx, definition, ct) is { } other && other != id)
            return Problems.Conflict($"Brand '{Owner(definition)}' already has the enabled wallet '{other}'.");
        await c.ExecuteAsync(new CommandDefinition("""
            update wallets set operator_id = @OperatorId, brand_id = @BrandId, definition = cast(@json as jsonb), secret = coalesce(@sealed, secret),
                version = version + 1, updated_at = now()
            where id = @Id
            """, new
        {
            definition.Id, definition.OperatorId, definition.BrandId, json = WalletStore.Serialize(definition),
            @sealed = secret is null ? null : store.Seal(secret),
        }, tx, cancellationToken: ct));
        var after = (await LoadAsync(c, tx, id, ct))!;
        await Audit.WriteAsync(c, tx, http.User, "wallet.update", "wallet", id, Owner(definition), before, after, ct);
        await tx.CommitAsync(ct);
        store.Forget(before.OperatorId, before.BrandId);
        store.Forget(definition.OperatorId, definition.BrandId);
        return Results.Ok(after);
    }

    static async Task<IResult> SetEnabledAsync(string id, bool enabled, HttpContext http, NpgsqlDataSource db, WalletStore store, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, id, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No wallet '{id}'.");
        var owner = $"{before.OperatorId}:{before.BrandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The wallet belongs to '{owner}'.");
        if (enabled && !before.Enabled && await c.ExecuteScalarAsync<string?>(new CommandDefinition(
                "select id from wallets where operator_id = @OperatorId and brand_id = @BrandId and enabled", new { before.OperatorId, before.BrandId }, tx,
                cancellationToken: ct)) is { } other)
            return Problems.Conflict($"Brand '{owner}' already has the enabled wallet '{other}'.");
        await c.ExecuteAsync(new CommandDefinition("update wallets set enabled = @enabled, version = version + 1, updated_at = now() where id = @id",
            new { id, enabled }, tx, cancellationToken: ct));
        var after = (await LoadAsync(c, tx, id, ct))!;
        await Audit.WriteAsync(c, tx, http.User, enabled ? "wallet.enable" : "wallet.disable", "wallet", id, owner, before, after, ct);
        await tx.CommitAsync(ct);
        store.Forget(before.OperatorId, before.BrandId);
        return Results.Ok(after);
    }

    static async Task<IResult> GetAsync(string id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var doc = await LoadAsync(c, null, id, ct);
        if (doc is null) return Problems.NotFound($"No wallet '{id}'.");
        var owner = $"{doc.OperatorId}:{doc.BrandId}";
        return http.MayActFor(owner) ? Results.Ok(doc) : TokenValidation.Forbidden($"The wallet belongs to '{owner}'.");
    }

    static async Task<IResult> ListAsync(string? operator_id, string? brand_id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var ids = await c.QueryAsync<string>(new CommandDefinition("""
            select id from wallets where (@operator_id::text is null or operator_id = @operator_id) and (@brand_id::text is null or brand_id = @brand_id)
            order by operator_id, brand_id, id
            """, new { operator_id, brand_id }, cancellationToken: ct));
        var docs = new List<WalletDoc>();
        foreach (var id in ids)
            if (await LoadAsync(c, null, id, ct) is { } doc && http.MayActFor($"{doc.OperatorId}:{doc.BrandId}")) docs.Add(doc);
        return Results.Ok(docs);
    }

    static string Owner(WalletDefinition d) => $"{d.OperatorId}:{d.BrandId}";

    static Task<string?> EnabledForBrandAsync(NpgsqlConnection c, NpgsqlTransaction tx, WalletDefinition d, CancellationToken ct) =>
        c.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select id from wallets where operator_id = @OperatorId and brand_id = @BrandId and enabled and id <> @Id", new { d.OperatorId, d.BrandId, d.Id }, tx,
            cancellationToken: ct));

    static async Task<WalletDoc?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string id, CancellationToken ct, bool forUpdate = false)
    {
        var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "select definition::text as Definition, enabled as Enabled, version as Version, created_at as CreatedAt, updated_at as UpdatedAt from wallets where id = @id"
            + (forUpdate ? " for update" : ""), new { id }, tx, cancellationToken: ct));
        if (row is null) return null;
        var d = WalletStore.Deserialize(row.Definition);
        var cfg = d.Config;
        return new WalletDoc(d.Id, d.OperatorId, d.BrandId, d.WalletType, d.ConnectionDetails,
            d.Endpoints.ToDictionary(e => e.Key, e => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [e.Value.Verb] = e.Value.Path }),
            new ConfigDoc(true, cfg.RequestTimeout, cfg.RequestRetryLimit, cfg.RequestRetryBackoff, cfg.RetryBackoffSleep, cfg.ErrorResponseRules,
                cfg.AcceptZeroValueCredits, cfg.MustCloseGamerounds, cfg.HmacAlgorithm, cfg.HmacEncoding),
            row.Enabled, row.Version, Time.Ms(row.CreatedAt), Time.Ms(row.UpdatedAt));
    }
}
