using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillConnect.Cors;

public sealed record CorsOriginDoc(string Pattern, string MatchMode);

/// <summary>
/// The brands' origin allow-lists (spec §2.2), read from the database and kept for a few seconds (a change through this
/// replica is seen at once). A brand without rules allows no browser origin.
/// </summary>
public sealed class CorsRules(NpgsqlDataSource db)
{
    public static readonly string[] MatchModes = ["Exact", "Prefix", "Suffix", "Regex"];
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    readonly ConcurrentDictionary<string, (IReadOnlyList<CorsOriginDoc> Rules, long Expires)> cache = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<CorsOriginDoc>> ForAsync(string ownerId, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (cache.TryGetValue(ownerId, out var hit) && hit.Expires > now) return hit.Rules;
        await using var c = await db.OpenConnectionAsync(ct);
        var rules = (await c.QueryAsync<CorsOriginDoc>(new CommandDefinition(
            "select pattern as Pattern, match_mode as MatchMode from cors_rules where owner_id = @ownerId order by pattern", new { ownerId },
            cancellationToken: ct))).ToList();
        cache[ownerId] = (rules, now + (long)CacheFor.TotalMilliseconds);
        return rules;
    }

    public void Forget(string ownerId) => cache.TryRemove(ownerId, out _);

    public async Task<bool> AllowsAsync(string ownerId, string origin, CancellationToken ct) =>
        (await ForAsync(ownerId, ct)).Any(r => Matches(r, origin));

    /// <summary>Every owner that has rules: a service connection's origin is allowed by any brand it may read.</summary>
    public async Task<IReadOnlyList<string>> OwnersAllowingAsync(string origin, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rules = await c.QueryAsync<(string OwnerId, string Pattern, string MatchMode)>(new CommandDefinition(
            "select owner_id, pattern, match_mode from cors_rules", cancellationToken: ct));
        return [.. rules.Where(r => Matches(new CorsOriginDoc(r.Pattern, r.MatchMode), origin)).Select(r => r.OwnerId).Distinct()];
    }

    public static bool Matches(CorsOriginDoc rule, string origin) => rule.MatchMode switch
    {
        "Exact" => string.Equals(origin, rule.Pattern, StringComparison.OrdinalIgnoreCase),
        "Prefix" => origin.StartsWith(rule.Pattern, StringComparison.OrdinalIgnoreCase),
        "Suffix" => origin.EndsWith(rule.Pattern, StringComparison.OrdinalIgnoreCase),
        "Regex" => Regex.IsMatch(origin, rule.Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)),
        _ => false,
    };
}

/// <summary>The CORS admin operations of spec §2.2, per brand, owner-checked and audited.</summary>
public static class CorsEndpoints
{
    public const string System = "thrillconnect";

    public sealed record PutBody(List<CorsOriginDoc?>? CorsOriginList);
    public sealed record DeleteBody(List<string?>? CorsOriginList);
    public sealed record ListDoc(string OwnerId, IReadOnlyList<CorsOriginDoc> CorsOriginList);
    public sealed record RemovedDoc(int Removed, IReadOnlyList<CorsOriginDoc> CorsOriginList);

    public static void MapCorsEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/admin/cors/{ownerId}").WithTags("CORS");
        g.MapGet("", async (string ownerId, HttpContext http, CorsRules rules, CancellationToken ct) =>
            Check(ownerId, http) ?? Results.Ok(new ListDoc(ownerId, await rules.ForAsync(ownerId, ct)))).RequirePermission(System, "cors", write: false);
        g.MapPut("", PutAsync).RequirePermission(System, "cors", write: true);
        g.MapDelete("", DeleteAsync).RequirePermission(System, "cors", write: true);
    }

    static IResult? Check(string ownerId, HttpContext http) =>
        !Ids.IsOwner(ownerId, brandRequired: true) ? Problems.BadRequest("owner_id", "operator:brand.")
        : !http.MayActFor(ownerId) ? TokenValidation.Forbidden($"The caller may not act for '{ownerId}'.")
        : null;

    static async Task<IResult> PutAsync(string ownerId, HttpContext http, NpgsqlDataSource db, CorsRules rules, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<PutBody>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (body!.CorsOriginList is not { Count: > 0 and <= 100 } list) errors["cors_origin_list"] = ["Required: 1-100 rules {pattern, match_mode}."];
        else
            for (var i = 0; i < list.Count; i++)
            {
                var rule = list[i];
                if (rule?.Pattern is not { Length: > 0 and <= 300 }) errors[$"cors_origin_list[{i}].pattern"] = ["Required: 1-300 characters."];
                if (!MatchModes(rule?.MatchMode)) errors[$"cors_origin_list[{i}].match_mode"] = ["One of Exact, Prefix, Suffix, Regex."];
                else if (rule!.MatchMode == "Regex" && rule.Pattern is { } p && !IsRegex(p)) errors[$"cors_origin_list[{i}].pattern"] = ["Not a valid regular expression."];
            }
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (Check(ownerId, http) is { } refusal) return refusal;
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, ownerId, ct);
        foreach (var rule in body.CorsOriginList!)
            await c.ExecuteAsync(new CommandDefinition("""
                insert into cors_rules (owner_id, pattern, match_mode) values (@ownerId, @Pattern, @MatchMode)
                on conflict (owner_id, pattern) do update set match_mode = excluded.match_mode
                """, new { ownerId, rule!.Pattern, rule.MatchMode }, tx, cancellationToken: ct));
        var after = await LoadAsync(c, tx, ownerId, ct);
        await Audit.WriteAsync(c, tx, http.User, "cors.put", "cors", ownerId, ownerId, before, after, ct);
        await tx.CommitAsync(ct);
        rules.Forget(ownerId);
        return Results.Ok(new ListDoc(ownerId, after));
    }

    static async Task<IResult> DeleteAsync(string ownerId, HttpContext http, NpgsqlDataSource db, CorsRules rules, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<DeleteBody>(http.Request);
        if (error is not null) return error;
        if (body!.CorsOriginList is not { Count: > 0 and <= 100 } list || list.Any(p => p is not { Length: > 0 and <= 300 }))
            return Problems.BadRequest("cors_origin_list", "Required: 1-100 patterns to remove.");
        if (Check(ownerId, http) is { } refusal) return refusal;
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, ownerId, ct);
        var removed = await c.ExecuteAsync(new CommandDefinition("delete from cors_rules where owner_id = @ownerId and pattern = any(@patterns)",
            new { ownerId, patterns = list.ToArray() }, tx, cancellationToken: ct));
        var after = await LoadAsync(c, tx, ownerId, ct);
        await Audit.WriteAsync(c, tx, http.User, "cors.delete", "cors", ownerId, ownerId, before, after, ct);
        await tx.CommitAsync(ct);
        rules.Forget(ownerId);
        return Results.Ok(new RemovedDoc(removed, after));
    }

    static async Task<List<CorsOriginDoc>> LoadAsync(NpgsqlConnection c, NpgsqlTransaction tx, string ownerId, CancellationToken ct) =>
        [.. await c.QueryAsync<CorsOriginDoc>(new CommandDefinition(
            "select pattern as Pattern, match_mode as MatchMode from cors_rules where owner_id = @ownerId order by pattern", new { ownerId }, tx,
            cancellationToken: ct))];

    static bool MatchModes(string? mode) => mode is not null && CorsRules.MatchModes.Contains(mode);

    static bool IsRegex(string pattern)
    {
        try { _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(50)); return true; }
        catch (ArgumentException) { return false; }
    }
}
