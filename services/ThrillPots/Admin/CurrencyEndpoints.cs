using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillPots.Engine;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Admin;

/// <summary>
/// Currency multipliers (spec §22.1 Currencies): a system default table (base currency and a multiplier per ISO 4217 code,
/// relative to the base) set by the platform organisation, and per-brand overrides whose entries replace the defaults'.
/// </summary>
public static class CurrencyEndpoints
{
    public sealed record CurrencyTable(string? BaseCurrency, Dictionary<string, decimal>? Multipliers);
    public sealed record DefaultsDoc(string BaseCurrency, IReadOnlyDictionary<string, decimal> Multipliers, long UpdatedTimestamp);
    public sealed record BrandDoc(string BrandId, string BaseCurrency, IReadOnlyDictionary<string, decimal> Multipliers,
        IReadOnlyDictionary<string, decimal> Overrides, long? UpdatedTimestamp);

    internal sealed record Row(string Scope, string BaseCurrency, string Multipliers, DateTime UpdatedAt)
    {
        public Dictionary<string, decimal> Parsed => JsonSerializer.Deserialize<Dictionary<string, decimal>>(Multipliers)!;
    }

    const string Select = "select scope as Scope, base_currency as BaseCurrency, multipliers::text as Multipliers, updated_at as UpdatedAt from currency_tables";

    public static void MapCurrencyEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/config/currencies").WithTags("Config: currencies");
        g.MapGet("", GetDefaultsAsync).RequirePermission(Access.System, "currencies", write: false);
        g.MapPut("", PutDefaultsAsync).RequirePermission(Access.System, "currencies", write: true);
        g.MapGet("/brands", ListBrandsAsync).RequirePermission(Access.System, "currencies", write: false);
        g.MapGet("/brands/{ownerId}", GetBrandAsync).RequirePermission(Access.System, "currencies", write: false);
        g.MapPut("/brands/{ownerId}", PutBrandAsync).RequirePermission(Access.System, "currencies", write: true);
    }

    static async Task<IResult> GetDefaultsAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return Results.Ok(Defaults((await LoadAsync(c, null, "", ct))!));
    }

    static async Task<IResult> PutDefaultsAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<CurrencyTable>(http.Request);
        if (error is not null) return error;
        var errors = Validate(body!, baseRequired: true, known: null);
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!http.IsPlatform()) return TokenValidation.Forbidden("The system currency table is set by the platform organisation.");
        var multipliers = new Dictionary<string, decimal>(body!.Multipliers!) { [body.BaseCurrency!] = 1m };

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = (await LoadAsync(c, tx, "", ct, forUpdate: true))!;
        await c.ExecuteAsync(new CommandDefinition(
            "update currency_tables set base_currency = @baseCurrency, multipliers = cast(@json as jsonb), updated_at = now() where scope = ''",
            new { baseCurrency = body.BaseCurrency, json = JsonSerializer.Serialize(multipliers) }, tx, cancellationToken: ct));
        var after = (await LoadAsync(c, tx, "", ct))!;
        await Audit.WriteAsync(c, tx, http.User, "currencies.set_defaults", "currencies", "currencies", null, Defaults(before), Defaults(after), ct);
        await tx.CommitAsync(ct);
        return Results.Ok(Defaults(after));
    }

    static async Task<IResult> GetBrandAsync(string ownerId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Ids.IsOwner(ownerId, brandRequired: true)) return Problems.BadRequest("owner_id", "Must be operator:brand.");
        if (!http.MayActFor(ownerId)) return TokenValidation.Forbidden($"The caller may not act for '{ownerId}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        if (!await OperatorEndpoints.OwnerExistsAsync(c, null, ownerId, ct)) return Problems.NotFound($"No brand '{ownerId}'.");
        return Results.Ok(Brand(ownerId, (await LoadAsync(c, null, "", ct))!, await LoadAsync(c, null, ownerId, ct)));
    }

    static async Task<IResult> ListBrandsAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>(new CommandDefinition(Select + " order by scope", cancellationToken: ct));
        var defaults = rows.Single(r => r.Scope == "");
        return Results.Ok(rows.Where(r => r.Scope != "" && http.MayActFor(r.Scope)).Select(r => Brand(r.Scope, defaults, r)).ToList());
    }

    static async Task<IResult> PutBrandAsync(string ownerId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Ids.IsOwner(ownerId, brandRequired: true)) return Problems.BadRequest("owner_id", "Must be operator:brand.");
        var (body, error) = await JsonBody.ReadAsync<CurrencyTable>(http.Request);
        if (error is not null) return error;
        if (!http.MayActFor(ownerId)) return TokenValidation.Forbidden($"The caller may not act for '{ownerId}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var defaults = (await LoadAsync(c, tx, "", ct))!;
        var errors = Validate(body!, baseRequired: false, known: defaults.Parsed.Keys.ToHashSet());
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!await OperatorEndpoints.OwnerExistsAsync(c, tx, ownerId, ct)) return Problems.NotFound($"No brand '{ownerId}'.");
        var before = await LoadAsync(c, tx, ownerId, ct, forUpdate: true);
        const string sql = """
            insert into currency_tables (scope, base_currency, multipliers) values (@ownerId, @baseCurrency, cast(@json as jsonb))
            on conflict (scope) do update set base_currency = excluded.base_currency, multipliers = excluded.multipliers, updated_at = now()
            """;
        await c.ExecuteAsync(new CommandDefinition(sql,
            new { ownerId, baseCurrency = body!.BaseCurrency ?? defaults.BaseCurrency, json = JsonSerializer.Serialize(body.Multipliers) }, tx, cancellationToken: ct));
        var after = await LoadAsync(c, tx, ownerId, ct);
        await Audit.WriteAsync(c, tx, http.User, "currencies.set_brand", "currencies", ownerId, ownerId,
            before is null ? null : Brand(ownerId, defaults, before), Brand(ownerId, defaults, after), ct);
        await tx.CommitAsync(ct);
        return Results.Ok(Brand(ownerId, defaults, after));
    }

    /// <summary>Every code ISO 4217 (and, for overrides, in the system table); multipliers positive; the base is 1 when listed.</summary>
    static Dictionary<string, string[]> Validate(CurrencyTable body, bool baseRequired, IReadOnlySet<string>? known)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.BaseCurrency is null ? baseRequired : !ThrillPots.Engine.Money.IsKnownCurrency(body.BaseCurrency) || known is not null && !known.Contains(body.BaseCurrency))
            errors["base_currency"] = [known is null ? "Required: an ISO 4217 code." : "An ISO 4217 code in the system currency table."];
        if (body.Multipliers is null) errors["multipliers"] = ["Required: { ISO 4217 code: multiplier }."];
        else
            foreach (var (code, value) in body.Multipliers)
            {
                if (!ThrillPots.Engine.Money.IsKnownCurrency(code)) errors[$"multipliers.{code}"] = ["Not a currency ThrillPots knows (ISO 4217, or BTC, ETH, LTC, USDT)."];
                else if (known is not null && !known.Contains(code)) errors[$"multipliers.{code}"] = ["Not in the system currency table."];
                else if (value <= 0) errors[$"multipliers.{code}"] = ["Must be greater than 0."];
                else if (code == body.BaseCurrency && value != 1) errors[$"multipliers.{code}"] = ["The base currency's multiplier is 1."];
            }
        return errors;
    }

    internal static async Task<Row?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string scope, CancellationToken ct, bool forUpdate = false) =>
        await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(Select + " where scope = @scope" + (forUpdate ? " for update" : ""),
            new { scope }, tx, cancellationToken: ct));

    /// <summary>The codes templates may use: the system table's.</summary>
    internal static async Task<bool> IsKnownAsync(NpgsqlConnection c, string code, CancellationToken ct) =>
        await c.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select jsonb_exists(multipliers, @code) or base_currency = @code from currency_tables where scope = ''", new { code }, cancellationToken: ct));

    static DefaultsDoc Defaults(Row r) => new(r.BaseCurrency, r.Parsed, Time.Ms(r.UpdatedAt));

    static BrandDoc Brand(string ownerId, Row defaults, Row? own)
    {
        var effective = Effective(defaults, own);
        return new BrandDoc(ownerId, effective.BaseCurrency, effective.Multipliers, own?.Parsed ?? [], Time.Ms(own?.UpdatedAt));
    }

    /// <summary>A brand's multipliers in force: its overrides over the system defaults.</summary>
    internal static MultiplierSet Effective(Row defaults, Row? own)
    {
        var baseCurrency = own?.BaseCurrency ?? defaults.BaseCurrency;
        // Defaults are relative to their base: they fill in only when the brand keeps that base.
        var effective = baseCurrency == defaults.BaseCurrency ? new Dictionary<string, decimal>(defaults.Parsed) : new() { [baseCurrency] = 1m };
        foreach (var (k, v) in own?.Parsed ?? []) effective[k] = v;
        return new MultiplierSet(baseCurrency, effective);
    }
}
