namespace ThrillPots.Admin;

/// <summary>ThrillPots' system in Thrill-ID's permission scopes (<c>thrillpots:&lt;resource&gt;:read|write</c>).</summary>
public static class Access
{
    public const string System = "thrillpots";
}
