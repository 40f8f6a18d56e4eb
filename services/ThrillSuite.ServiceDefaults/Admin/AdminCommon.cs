using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;

namespace ThrillSuite.ServiceDefaults.Admin;

/// <summary>The admin APIs' settings (section <c>Admin</c>).</summary>
public sealed class AdminOptions
{
    /// <summary>Thrill-ID's platform organisation: its organisation-level accounts act for every owner and set system defaults.</summary>
    public string PlatformOrganisation { get; set; } = "thrilltech";
}

/// <summary>Where the caller may act: <see cref="Permissions.CanActFor"/>, or anywhere for the platform organisation.</summary>
public static class AdminAccess
{
    public static bool IsPlatform(this HttpContext http) =>
        http.User.OrgId() is { } org && http.User.BoundUnit() is null
        && org == http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.PlatformOrganisation;

    public static bool MayActFor(this HttpContext http, string ownerId) => http.User.CanActFor(ownerId) || http.IsPlatform();

    /// <summary>Whether the caller may see an operator at all: the operator itself or one of its brands.</summary>
    public static bool MayActWithin(this HttpContext http, string operatorId, IEnumerable<string> brandIds) =>
        http.MayActFor(operatorId) || brandIds.Any(b => http.MayActFor($"{operatorId}:{b}"));
}

public static partial class Ids
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Pattern();

    public const string Rule = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.";

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    /// <summary>owner_id grammar (spec §4): <c>operator</c> or <c>operator:brand</c>.</summary>
    public static bool IsOwner(string? owner, bool brandRequired = false)
    {
        if (owner is null) return false;
        var (op, brand) = Permissions.ParseOwner(owner);
        return IsValid(op) && (brand is null ? !brandRequired : IsValid(brand));
    }
}

public static class Time
{
    public static long Ms(DateTime at) => new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
    public static long? Ms(DateTime? at) => at is { } t ? Ms(t) : null;
    public static DateTime At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
}

/// <summary>The audit log: who (token sub and username), when, what (action, resource) and the before/after documents.</summary>
public static class Audit
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public sealed record Entry(long Id, DateTime At, string ActorSub, string? ActorUsername, string Action, string ResourceType,
        string ResourceId, string? OwnerId, string? Before, string? After);

    /// <summary>Written in the caller's transaction, so a change and its record commit together or not at all.</summary>
    public static Task WriteAsync(NpgsqlConnection c, NpgsqlTransaction tx, ClaimsPrincipal user, string action, string resourceType,
        string resourceId, string? ownerId, object? before, object? after, CancellationToken ct)
    {
        const string sql = """
            insert into audit_log (actor_sub, actor_username, action, resource_type, resource_id, owner_id, before, after)
            values (@sub, @username, @action, @resourceType, @resourceId, @ownerId, cast(@before as jsonb), cast(@after as jsonb))
            """;
        return c.ExecuteAsync(new CommandDefinition(sql, new
        {
            sub = user.Subject() ?? "",
            username = user.FindFirst("username")?.Value,
            action, resourceType, resourceId, ownerId,
            before = before is null ? null : JsonSerializer.Serialize(before, Json),
            after = after is null ? null : JsonSerializer.Serialize(after, Json),
        }, tx, cancellationToken: ct));
    }
}
