using System.Security.Claims;
using Microsoft.Extensions.Options;
using ThrillSuite.ServiceDefaults.Auth;

namespace ThrillId.Admin;

/// <summary>
/// Who is calling an admin endpoint and where it may act: accounts of the platform organisation holding
/// thrillid:organisations:write act everywhere; others only in their organisation, and a unit-bound account only in its unit.
/// </summary>
public sealed class Caller(ClaimsPrincipal user, string platformOrganisation)
{
    public IReadOnlySet<string> Scopes { get; } = user.Scopes();
    public string? OrgId => user.OrgId();
    public string? BoundUnit => user.BoundUnit();
    public bool IsPlatformAdmin => OrgId == platformOrganisation && Permissions.Grants(Scopes, "thrillid", "organisations", write: true);

    public bool MayManage(string orgId, string? unitId) =>
        IsPlatformAdmin || OrgId == orgId && (BoundUnit is null || BoundUnit == unitId);

    public static Caller Of(HttpContext http) =>
        new(http.User, http.RequestServices.GetRequiredService<IOptions<BootstrapOptions>>().Value.Organisation);
}
