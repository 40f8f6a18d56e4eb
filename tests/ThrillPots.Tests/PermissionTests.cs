using System.Security.Claims;
using ThrillSuite.ServiceDefaults.Auth;

namespace ThrillPots.Tests;

/// <summary>
/// The scope rule every request is checked with (ThrillPots' contribution endpoints on each call): <c>system:resource:write</c>
/// grants read and write, <c>…:read</c> only read, <c>*</c> stands for any system or resource, and nothing else matches.
/// </summary>
public class PermissionTests
{
    static ClaimsPrincipal With(params string[] scopeClaims) =>
        new(new ClaimsIdentity(scopeClaims.Select(s => new Claim(Permissions.ScopeClaim, s)), "test"));

    [TestCase("thrillpots:contributions:write", true, true)]
    [TestCase("thrillpots:contributions:read", false, true)]
    [TestCase("thrillpots:*:write", true, true)]
    [TestCase("*:contributions:read", false, true)]
    [TestCase("*:*:write", true, true)]
    [TestCase("*:*:read", false, true)]
    [TestCase("thrillpots:instances:write", false, false)]
    [TestCase("thrillgate:contributions:write", false, false)]
    [TestCase("thrillpots:contributions:writes", false, false)]
    [TestCase("thrillpots:contributions:Write", false, false)]
    [TestCase("thrillpots:contribution:write", false, false)]
    [TestCase("thrillpots:contributionsx:write", false, false)]
    [TestCase("xthrillpots:contributions:write", false, false)]
    [TestCase("thrillpots:contributions", false, false)]
    [TestCase("thrillpots:contributions:", false, false)]
    [TestCase("thrillpots::write", false, false)]
    [TestCase("thrillpots:contributions:read:write", false, false)]
    [TestCase("thrillpots*contributions:write", false, false)]
    [TestCase(":write", false, false)]
    [TestCase("", false, false)]
    public void One_scope_grants_write_and_read_as_the_rule_says(string scope, bool grantsWrite, bool grantsRead)
    {
        Assert.That(Permissions.Grants(scope.AsSpan(), "thrillpots", "contributions", write: true), Is.EqualTo(grantsWrite), "write");
        Assert.That(Permissions.Grants(scope.AsSpan(), "thrillpots", "contributions", write: false), Is.EqualTo(grantsRead), "read");
        Assert.That(With(scope).HasPermission("thrillpots", "contributions", write: true), Is.EqualTo(grantsWrite), "claim, write");
        Assert.That(With(scope).HasPermission("thrillpots", "contributions", write: false), Is.EqualTo(grantsRead), "claim, read");
        var set = new HashSet<string>(StringComparer.Ordinal) { scope };
        Assert.That(Permissions.Grants(set, "thrillpots", "contributions", write: true), Is.EqualTo(grantsWrite), "set, write");
    }

    [Test]
    public void Scopes_are_read_from_every_scope_claim_and_every_space_separated_word()
    {
        var user = With("thrillid:accounts:read  thrillgate:freebets:write", "", "thrillpots:instances:read thrillpots:contributions:write ");
        Assert.That(user.HasPermission("thrillpots", "contributions", write: true));
        Assert.That(user.HasPermission("thrillgate", "freebets", write: false));
        Assert.That(user.HasPermission("thrillid", "accounts", write: false));
        Assert.That(user.HasPermission("thrillid", "accounts", write: true), Is.False);
        Assert.That(user.HasPermission("thrillpots", "instances", write: true), Is.False);
        Assert.That(With().HasPermission("thrillpots", "contributions", write: false), Is.False, "no scope claim");
        Assert.That(user.Scopes(), Is.EquivalentTo(new[]
        {
            "thrillid:accounts:read", "thrillgate:freebets:write", "thrillpots:instances:read", "thrillpots:contributions:write",
        }));
    }
}
