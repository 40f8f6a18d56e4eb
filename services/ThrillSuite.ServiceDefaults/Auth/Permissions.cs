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

    public static bool HasPermission(this ClaimsPrincipal user, string system, string resource, bool write)
    {
        var scopes = user.Scopes();
        return Grants(scopes, system, resource, write);
    }

    public static bool Grants(IReadOnlySet<string> scopes, string system, string resource, bool write)
    {
        foreach (var s in new[] { system, "*" })
        foreach (var r in new[] { resource, "*" })
        {
            if (scopes.Contains(Scope(s, r, write: true))) return true;
            if (!write && scopes.Contains(Scope(s, r, write: false))) return true;
        }
        return false;
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
