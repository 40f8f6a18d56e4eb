using System.Security.Claims;

namespace ThrillSuite.ServiceDefaults.Auth;

/// <summary>
/// Thrill-ID's permission model as carried in tokens: scope strings <c>system:resource:read|write</c>
/// (Write implies Read, <c>*</c> matches any system or resource), and the caller's organisation and units.
/// </summary>
public static class Permissions
{
    public const string ScopeClaim = "scope";
    public const string OrgClaim = "org_id";
    public const string UnitsClaim = "unit_ids";
    public const string UnitClaim = "unit_id";

    public static string Scope(string system, string resource, bool write) => $"{system}:{resource}:{(write ? "write" : "read")}";

    public static IReadOnlySet<string> Scopes(this ClaimsPrincipal user) =>
        user.FindAll(ScopeClaim).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);

    /// <summary>Checked on every request: reads the scope claims in place, without building the set.</summary>
    public static bool HasPermission(this ClaimsPrincipal user, string system, string resource, bool write)
    {
        foreach (var claim in user.FindAll(ScopeClaim))
        {
            var value = claim.Value.AsSpan();
            foreach (var range in value.Split(' '))
                if (Grants(value[range], system, resource, write)) return true;
        }
        return false;
    }

    public static bool Grants(IReadOnlySet<string> scopes, string system, string resource, bool write)
    {
        foreach (var scope in scopes)
            if (Grants(scope, system, resource, write)) return true;
        return false;
    }

    /// <summary>
    /// Whether one scope string is <c>{system|*}:{resource|*}:write</c>, or <c>…:read</c> when only reading.
    /// </summary>
    public static bool Grants(ReadOnlySpan<char> scope, string system, string resource, bool write)
    {
        ReadOnlySpan<char> rest;
        if (scope.EndsWith(":write", StringComparison.Ordinal)) rest = scope[..^":write".Length];
        else if (!write && scope.EndsWith(":read", StringComparison.Ordinal)) rest = scope[..^":read".Length];
        else return false;
        return Is(rest, system, resource) || Is(rest, system, "*") || Is(rest, "*", resource) || Is(rest, "*", "*");

        static bool Is(ReadOnlySpan<char> s, string system, string resource) =>
            s.Length == system.Length + 1 + resource.Length && s.StartsWith(system, StringComparison.Ordinal)
            && s[system.Length] == ':' && s.EndsWith(resource, StringComparison.Ordinal);
    }

    public static string? OrgId(this ClaimsPrincipal user) => user.FindFirst(OrgClaim)?.Value;

    /// <summary>The unit an account is bound to; null for an organisation-level account.</summary>
    public static string? BoundUnit(this ClaimsPrincipal user) => user.FindFirst(UnitClaim)?.Value;

    public static IReadOnlyList<string> UnitIds(this ClaimsPrincipal user) => [.. user.FindAll(UnitsClaim).Select(c => c.Value)];

    /// <summary>
    /// Whether the caller may act for <paramref name="ownerId"/> (<c>operator</c> or <c>operator:brand</c>): same
    /// organisation, and for a unit-bound account only its own brand, never the whole organisation.
    /// </summary>
    public static bool CanActFor(this ClaimsPrincipal user, string ownerId)
    {
        var (org, unit) = ParseOwner(ownerId);
        if (org.Length == 0 || user.OrgId() != org) return false;
        var bound = user.BoundUnit();
        if (unit is null) return bound is null;
        return bound is null ? user.UnitIds().Contains(unit) : bound == unit;
    }

    public static (string Org, string? Unit) ParseOwner(string ownerId)
    {
        var i = ownerId.IndexOf(':');
        return i < 0 ? (ownerId, null) : (ownerId[..i], ownerId[(i + 1)..]);
    }
}
