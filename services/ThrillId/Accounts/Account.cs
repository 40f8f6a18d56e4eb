using System.Text.Json;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillId.Accounts;

public sealed record ResourcePermission(string ResourceId, string Permission);
public sealed record SystemPermissions(string SystemId, IReadOnlyList<ResourcePermission> Permissions);

public sealed record Account(
    Guid Id, string Username, string? PasswordHash, string AccountType, string OrgId, string? UnitId, string PermissionsJson,
    bool Enabled, bool Trusted, DateTime CreatedOn, DateTime? LastLoggedIn, bool PendingPasswordReset, int FailedLogins, DateTime? LockedUntil)
{
    public const string User = "User";
    public const string Service = "Service";

    public IReadOnlyList<SystemPermissions> Permissions =>
        JsonSerializer.Deserialize<List<SystemPermissions>>(PermissionsJson, JsonBody.Options) ?? [];

    /// <summary>The scope strings this account's permissions grant (Write grants read too).</summary>
    public IReadOnlyList<string> Scopes => PermissionModel.ToScopes(Permissions);
}

/// <summary>The spec's permission tree (system → resource → Read/Write) and its scope-string form.</summary>
public static class PermissionModel
{
    public static readonly string[] Levels = ["Read", "Write"];

    public static IReadOnlyList<string> ToScopes(IEnumerable<SystemPermissions> permissions)
    {
        var scopes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var system in permissions)
        foreach (var p in system.Permissions)
        {
            scopes.Add(ThrillSuite.ServiceDefaults.Auth.Permissions.Scope(system.SystemId, p.ResourceId, write: false));
            if (p.Permission == "Write") scopes.Add(ThrillSuite.ServiceDefaults.Auth.Permissions.Scope(system.SystemId, p.ResourceId, write: true));
        }
        return [.. scopes];
    }

    /// <summary>Problems with a permission list from an admin request, keyed by field path.</summary>
    public static Dictionary<string, string[]> Validate(IReadOnlyList<SystemPermissions>? permissions)
    {
        var errors = new Dictionary<string, string[]>();
        if (permissions is null) return errors;
        for (var i = 0; i < permissions.Count; i++)
        {
            var system = permissions[i];
            if (system is null || !IsName(system.SystemId)) errors[$"permissions[{i}].system_id"] = ["Required: letters, digits, '-', '_' or '*', at most 64."];
            var list = system?.Permissions ?? [];
            if (system?.Permissions is null) errors[$"permissions[{i}].permissions"] = ["Required: a list of {resource_id, permission}."];
            for (var j = 0; j < list.Count; j++)
            {
                if (list[j] is null || !IsName(list[j].ResourceId)) errors[$"permissions[{i}].permissions[{j}].resource_id"] = ["Required: letters, digits, '-', '_' or '*', at most 64."];
                if (list[j] is not null && !Levels.Contains(list[j].Permission)) errors[$"permissions[{i}].permissions[{j}].permission"] = ["Must be Read or Write."];
            }
        }
        return errors;
    }

    /// <summary>Whether a grantor holding <paramref name="held"/> may hand out every one of <paramref name="granted"/>.</summary>
    public static string? FirstNotHeld(IReadOnlySet<string> held, IEnumerable<SystemPermissions> granted)
    {
        foreach (var system in granted)
        foreach (var p in system.Permissions)
            // A wildcard grant needs the wildcard held: Grants matches "*" only against held wildcards.
            if (!Permissions.Grants(held, system.SystemId, p.ResourceId, p.Permission == "Write"))
                return $"{system.SystemId}:{p.ResourceId}:{p.Permission}";
        return null;
    }

    static bool IsName(string? s) => s is { Length: > 0 and <= 64 } && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '*');
}

/// <summary>The spec's AccountDoc (times in epoch milliseconds).</summary>
public sealed record AccountDoc(
    string Id, string Username, string AccountType, string OrgId, string? UnitId, IReadOnlyList<SystemPermissions> Permissions,
    bool Enabled, bool Trusted, long CreatedOn, long? LastLoggedIn, bool PendingPasswordReset, AccessTo AccessTo)
{
    public static AccountDoc From(Account a, IReadOnlyList<string> orgUnits) => new(
        a.Id.ToString(), a.Username, a.AccountType, a.OrgId, a.UnitId, a.Permissions, a.Enabled, a.Trusted,
        Millis(a.CreatedOn), a.LastLoggedIn is { } l ? Millis(l) : null, a.PendingPasswordReset, AccessTo.For(a, orgUnits));

    static long Millis(DateTime t) => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
}

public sealed record AccessTo(string OrgId, IReadOnlyList<string> UnitIds, IReadOnlyList<string> BrandpathList)
{
    /// <summary>A unit-bound account reaches its unit; an organisation-level one every unit of its organisation.</summary>
    public static AccessTo For(Account a, IReadOnlyList<string> orgUnits)
    {
        IReadOnlyList<string> units = a.UnitId is { } u ? [u] : orgUnits;
        return new AccessTo(a.OrgId, units, [.. units.Select(unit => $"{a.OrgId}:{unit}")]);
    }
}
