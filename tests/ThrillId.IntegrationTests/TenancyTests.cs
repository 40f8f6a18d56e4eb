namespace ThrillId.IntegrationTests;

/// <summary>
/// Admins acting outside what they may: another organisation, a unit they are not bound to, permissions they do
/// not hold. A valid token without the right is 403 (never 401), and nothing changes.
/// </summary>
public class TenancyTests
{
    static IdClient Id => SharedThrillId.Client;

    /// <summary>Organisation A with an org-level admin (accounts:Write, thrillpots:instances:Write), and organisation B with a user and a service.</summary>
    static async Task<(string OrgA, string AdminA, string OrgB, Account UserB, Account ServiceB)> TwoOrganisationsAsync()
    {
        var orgA = await Id.NewOrgAsync("a1", "a2");
        var orgB = await Id.NewOrgAsync("b1");
        var adminA = await Id.NewAccountAsync(orgA, permissions: ["thrillid:accounts:Write", "thrillpots:instances:Write"]);
        var userB = await Id.NewAccountAsync(orgB, permissions: ["thrillpots:instances:Read"]);
        var serviceB = await Id.NewAccountAsync(orgB, type: "Service");
        return (orgA, await Id.TokenOfAsync(adminA), orgB, userB, serviceB);
    }

    [Test]
    public async Task An_admin_of_one_organisation_cannot_read_another_organisations_accounts()
    {
        var (_, adminA, orgB, userB, _) = await TwoOrganisationsAsync();

        var byId = await Id.GetAsync("/admin/accounts/" + userB.Id, adminA);
        var byOrg = await Id.GetAsync("/admin/accounts?org_id=" + orgB, adminA);
        var clients = await Id.GetAsync($"/admin/accounts/{userB.Id}/clients", adminA);
        var all = await Id.GetAsync("/admin/accounts", adminA);

        using (Assert.EnterMultipleScope())
        {
            Expect.Forbidden(byId, "GET account of B");
            Expect.Forbidden(byOrg, "GET accounts?org_id=B");
            Expect.Forbidden(clients, "GET clients of B's account");
            Expect.Ok(all, "GET accounts without a filter");
            Assert.That(all.Body, Does.Not.Contain(userB.Id).And.Not.Contain(orgB), "the unfiltered list stays inside A");
        }
    }

    [Test]
    public async Task An_admin_of_one_organisation_cannot_create_accounts_in_another()
    {
        var (_, adminA, orgB, _, _) = await TwoOrganisationsAsync();
        var username = Names.User();

        var reply = await Id.PostJsonAsync("/admin/accounts", new
        {
            username, password = Names.Password(), account_type = "User", org_id = orgB,
            permissions = Perms.Of("thrillpots:instances:Read"), enabled = true,
        }, adminA);

        Expect.Forbidden(reply);
        Assert.That((await Id.AccountsOfAsync(orgB)).Select(a => a.GetProperty("username").GetString()), Does.Not.Contain(username));
        Expect.Problem(await Id.LoginAsync(username, "irrelevant-password"), HttpStatusCode.Unauthorized, "no such account");
    }

    [Test]
    public async Task An_admin_of_one_organisation_cannot_change_another_organisations_accounts()
    {
        var (_, adminA, _, userB, serviceB) = await TwoOrganisationsAsync();
        var before = (await Id.AccountAsync(userB.Id)).GetRawText();

        var put = await Id.PutJsonAsync("/admin/accounts/" + userB.Id, new
        {
            permissions = Perms.Of("thrillpots:instances:Write"), enabled = false, trusted = true,
        }, adminA);
        var disable = await Id.PostJsonAsync($"/admin/accounts/{userB.Id}/disable", null, adminA);
        var enable = await Id.PostJsonAsync($"/admin/accounts/{userB.Id}/enable", null, adminA);
        var password = await Id.PostJsonAsync($"/admin/accounts/{userB.Id}/password", new { password = Names.Password() }, adminA);
        var client = await Id.PostJsonAsync($"/admin/accounts/{serviceB.Id}/clients", null, adminA);
        var existingClient = await Id.NewClientAsync(serviceB);
        var deleteClient = await Id.DeleteAsync("/admin/clients/" + existingClient.Id, adminA);

        using (Assert.EnterMultipleScope())
        {
            Expect.Forbidden(put, "PUT");
            Expect.Forbidden(disable, "disable");
            Expect.Forbidden(enable, "enable");
            Expect.Forbidden(password, "password");
            Expect.Forbidden(client, "create client");
            Expect.Forbidden(deleteClient, "delete B's client");
        }
        Assert.That(StripVolatile(await Id.AccountAsync(userB.Id)), Is.EqualTo(StripVolatile(JsonDocument.Parse(before).RootElement)),
            "B's account is unchanged");
        Expect.Ok(await Id.LoginAsync(userB.Username, userB.Password!), "B's password is unchanged and B is enabled");
        var clients = (await Id.GetAsync($"/admin/accounts/{serviceB.Id}/clients", await Id.AdminTokenAsync())).Json;
        Assert.That(clients.EnumerateArray().Select(c => c.GetProperty("client_id").GetString()), Is.EqualTo(new[] { existingClient.Id }),
            "no client was added");
        Expect.Ok(await Id.ClientCredentialsAsync(existingClient), "B's client was not deleted");
    }

    /// <summary>The AccountDoc without last_logged_in, which the follow-up login itself may move.</summary>
    static string StripVolatile(JsonElement doc) =>
        JsonSerializer.Serialize(doc.EnumerateObject().Where(p => p.Name != "last_logged_in").ToDictionary(p => p.Name, p => p.Value));

    [Test]
    public async Task An_admin_of_one_organisation_cannot_read_or_change_another_organisation()
    {
        var (orgA, adminA, orgB, _, _) = await TwoOrganisationsAsync();

        var read = await Id.GetAsync("/admin/organisations/" + orgB, adminA);
        var put = await Id.PutJsonAsync("/admin/organisations/" + orgB, new { units = new[] { "stolen" }, enabled = false }, adminA);
        var putOwn = await Id.PutJsonAsync("/admin/organisations/" + orgA, new { units = new[] { "a1", "a2", "a3" } }, adminA);

        using (Assert.EnterMultipleScope())
        {
            Expect.Forbidden(read, "GET org B");
            Expect.Forbidden(put, "PUT org B");
            Expect.Forbidden(putOwn, "PUT its own org without thrillid:organisations:write");
        }
        var admin = await Id.AdminTokenAsync();
        var b = (await Id.GetAsync("/admin/organisations/" + orgB, admin)).Json;
        var a = (await Id.GetAsync("/admin/organisations/" + orgA, admin)).Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(b.GetProperty("units").EnumerateArray().Select(u => u.GetString()), Is.EqualTo(new[] { "b1" }));
            Assert.That(b.GetProperty("enabled").GetBoolean(), Is.True);
            Assert.That(a.GetProperty("units").EnumerateArray().Select(u => u.GetString()), Is.EqualTo(new[] { "a1", "a2" }));
        }
    }

    [Test]
    public async Task Only_platform_admins_create_organisations_even_with_the_permission()
    {
        var org = await Id.NewOrgAsync("u1");
        var orgAdmin = await Id.NewAccountAsync(org, permissions: ["thrillid:organisations:Write", "thrillid:accounts:Write"]);
        var token = await Id.TokenOfAsync(orgAdmin);
        var id = Names.Org();

        var reply = await Id.PostJsonAsync("/admin/organisations", new { id, units = new[] { "x" }, enabled = true }, token);

        Expect.Forbidden(reply);
        Expect.Problem(await Id.GetAsync("/admin/organisations/" + id, await Id.AdminTokenAsync()), HttpStatusCode.NotFound, "not created");
    }

    [TestCase("thrillpots:instances:Write", "thrillpots:instances:Read", TestName = "Granting_Write_when_holding_Read_is_403")]
    [TestCase("thrillgate:freebets:Read", "thrillpots:instances:Write", TestName = "Granting_another_systems_permission_is_403")]
    [TestCase("thrillid:keys:Write", "thrillpots:instances:Write", TestName = "Granting_thrillid_keys_is_403")]
    [TestCase("thrillid:organisations:Write", "thrillpots:instances:Write", TestName = "Granting_thrillid_organisations_is_403")]
    [TestCase("thrillpots:*:Write", "thrillpots:instances:Write", TestName = "Granting_a_resource_wildcard_is_403")]
    [TestCase("*:*:Write", "thrillpots:instances:Write", TestName = "Granting_the_global_wildcard_is_403")]
    public async Task Granting_a_permission_the_caller_lacks_is_403(string granted, string held)
    {
        var org = await Id.NewOrgAsync("u1");
        var admin = await Id.NewAccountAsync(org, permissions: ["thrillid:accounts:Write", held]);
        var token = await Id.TokenOfAsync(admin);
        var existing = await Id.NewAccountAsync(org, permissions: [held], token: token);
        var username = Names.User();

        var create = await Id.PostJsonAsync("/admin/accounts", new
        {
            username, password = Names.Password(), account_type = "User", org_id = org, permissions = Perms.Of(granted), enabled = true,
        }, token);
        var update = await Id.PutJsonAsync("/admin/accounts/" + existing.Id, new { permissions = Perms.Of(held, granted) }, token);
        var self = await Id.PutJsonAsync("/admin/accounts/" + admin.Id, new { permissions = Perms.Of("thrillid:accounts:Write", held, granted) }, token);

        using (Assert.EnterMultipleScope())
        {
            Expect.Forbidden(create, "create");
            Expect.Forbidden(update, "update another account");
            Expect.Forbidden(self, "update itself");
        }
        Assert.That((await Id.AccountsOfAsync(org)).Select(a => a.GetProperty("username").GetString()), Does.Not.Contain(username));
        Assert.That(Jwt.Parse(await Id.TokenOfAsync(existing)).Scopes, Is.EquivalentTo(ScopesOf(held)), "the existing account is unchanged");
        Assert.That(Jwt.Parse(await Id.TokenOfAsync(admin)).Scopes, Is.EquivalentTo(ScopesOf("thrillid:accounts:Write").Concat(ScopesOf(held))),
            "the admin did not escalate itself");
    }

    static string[] ScopesOf(string permission)
    {
        var p = permission.Split(':');
        var read = $"{p[0]}:{p[1]}:read";
        return p[2] == "Write" ? [read, $"{p[0]}:{p[1]}:write"] : [read];
    }

    [Test]
    public async Task Granting_a_permission_the_caller_holds_is_allowed()
    {
        var org = await Id.NewOrgAsync("u1");
        var admin = await Id.NewAccountAsync(org, permissions: ["thrillid:accounts:Write", "thrillpots:instances:Write"]);
        var token = await Id.TokenOfAsync(admin);

        var created = await Id.NewAccountAsync(org, unitId: "u1", permissions: ["thrillpots:instances:Read"], token: token);

        Expect.Ok(await Id.LoginAsync(created.Username, created.Password!));
    }

    [Test]
    public async Task A_unit_bound_admin_cannot_act_at_organisation_level_or_for_another_unit()
    {
        var org = await Id.NewOrgAsync("u1", "u2");
        var unitAdmin = await Id.NewAccountAsync(org, unitId: "u1", permissions: ["thrillid:accounts:Write", "thrillpots:instances:Write"]);
        var token = await Id.TokenOfAsync(unitAdmin);
        var orgLevel = await Id.NewAccountAsync(org);
        var otherUnit = await Id.NewAccountAsync(org, unitId: "u2");
        object NewBody(string username, string? unit) => new
        {
            username, password = Names.Password(), account_type = "User", org_id = org, unit_id = unit,
            permissions = Perms.Of("thrillpots:instances:Read"), enabled = true,
        };
        var (orgName, u2Name) = (Names.User(), Names.User());

        var createOrgLevel = await Id.PostJsonAsync("/admin/accounts", NewBody(orgName, null), token);
        var createOtherUnit = await Id.PostJsonAsync("/admin/accounts", NewBody(u2Name, "u2"), token);
        var readOrgLevel = await Id.GetAsync("/admin/accounts/" + orgLevel.Id, token);
        var readOtherUnit = await Id.GetAsync("/admin/accounts/" + otherUnit.Id, token);
        var updateOrgLevel = await Id.PutJsonAsync("/admin/accounts/" + orgLevel.Id, new { enabled = false }, token);
        var disableOtherUnit = await Id.PostJsonAsync($"/admin/accounts/{otherUnit.Id}/disable", null, token);
        var moveOwnUnitUp = await Id.PutJsonAsync("/admin/accounts/" + unitAdmin.Id, new { unit_id = (string?)null }, token);
        var moveIntoOtherUnit = await Id.PutJsonAsync("/admin/accounts/" + orgLevel.Id, new { unit_id = "u1" }, token);

        using (Assert.EnterMultipleScope())
        {
            Expect.Forbidden(createOrgLevel, "create an org-level account");
            Expect.Forbidden(createOtherUnit, "create an account of u2");
            Expect.Forbidden(readOrgLevel, "read an org-level account");
            Expect.Forbidden(readOtherUnit, "read an account of u2");
            Expect.Forbidden(updateOrgLevel, "update an org-level account");
            Expect.Forbidden(disableOtherUnit, "disable an account of u2");
            Expect.Forbidden(moveIntoOtherUnit, "pull an org-level account into its unit");
        }
        var accounts = await Id.AccountsOfAsync(org);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(accounts.Select(a => a.GetProperty("username").GetString()), Does.Not.Contain(orgName).And.Not.Contain(u2Name));
            Assert.That((await Id.AccountAsync(orgLevel.Id)).GetProperty("enabled").GetBoolean(), Is.True);
            Assert.That((await Id.AccountAsync(orgLevel.Id)).GetProperty("unit_id").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That((await Id.AccountAsync(otherUnit.Id)).GetProperty("enabled").GetBoolean(), Is.True);
            Assert.That((await Id.AccountAsync(unitAdmin.Id)).GetProperty("unit_id").GetString(), Is.EqualTo("u1"),
                "lifting itself to org level: " + moveOwnUnitUp);
        }
        var own = await Id.NewAccountAsync(org, unitId: "u1", permissions: ["thrillpots:instances:Read"], token: token);
        Expect.Ok(await Id.GetAsync("/admin/accounts/" + own.Id, token), "control: its own unit is fine");
    }

    [Test]
    public async Task A_valid_token_without_thrillid_permissions_is_403_never_401()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org, permissions: ["thrillpots:instances:Write"]);
        var token = await Id.TokenOfAsync(user);
        var id = Names.Org();

        var replies = new Dictionary<string, Reply>
        {
            ["GET /admin/accounts"] = await Id.GetAsync("/admin/accounts?org_id=" + org, token),
            ["GET /admin/accounts/{self}"] = await Id.GetAsync("/admin/accounts/" + user.Id, token),
            ["POST /admin/accounts"] = await Id.PostJsonAsync("/admin/accounts", new
            {
                username = Names.User(), password = Names.Password(), account_type = "User", org_id = org, permissions = Perms.Of(),
            }, token),
            ["PUT /admin/accounts/{self}"] = await Id.PutJsonAsync("/admin/accounts/" + user.Id,
                new { permissions = Perms.Of("thrillid:accounts:Write") }, token),
            ["POST /admin/organisations"] = await Id.PostJsonAsync("/admin/organisations", new { id, units = new[] { "x" }, enabled = true }, token),
            ["GET /admin/keys"] = await Id.GetAsync("/admin/keys", token),
            ["POST /admin/keys/rotate"] = await Id.PostJsonAsync("/admin/keys/rotate", null, token),
            ["DELETE /admin/clients/{x}"] = await Id.DeleteAsync("/admin/clients/some-client", token),
        };

        using (Assert.EnterMultipleScope())
        {
            foreach (var (what, reply) in replies) Expect.Forbidden(reply, what);
        }
        Assert.That(Jwt.Parse(await Id.TokenOfAsync(user)).Scopes, Does.Not.Contain("thrillid:accounts:write"));
        Expect.Problem(await Id.GetAsync("/admin/organisations/" + id, await Id.AdminTokenAsync()), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task Read_permission_reads_but_does_not_write()
    {
        var org = await Id.NewOrgAsync("u1");
        var reader = await Id.NewAccountAsync(org, permissions: ["thrillid:accounts:Read"]);
        var token = await Id.TokenOfAsync(reader);
        var other = await Id.NewAccountAsync(org);

        var list = await Id.GetAsync("/admin/accounts?org_id=" + org, token);
        var disable = await Id.PostJsonAsync($"/admin/accounts/{other.Id}/disable", null, token);

        Expect.Ok(list, "read");
        Expect.Forbidden(disable, "write");
        Assert.That((await Id.AccountAsync(other.Id)).GetProperty("enabled").GetBoolean(), Is.True);
    }

    [Test]
    public async Task Keys_need_the_keys_permission()
    {
        var org = await Id.NewOrgAsync("u1");
        var admin = await Id.NewAccountAsync(org, permissions: ["thrillid:accounts:Write"]);
        var token = await Id.TokenOfAsync(admin);
        var kids = await Id.JwksKidsAsync();

        using (Assert.EnterMultipleScope())
        {
            Expect.Forbidden(await Id.GetAsync("/admin/keys", token), "list");
            Expect.Forbidden(await Id.PostJsonAsync("/admin/keys/rotate", null, token), "rotate");
        }
        Assert.That(await Id.JwksKidsAsync(), Is.EqualTo(kids), "no rotation happened");
    }
}
