namespace ThrillId.IntegrationTests;

/// <summary>The admin API as the bootstrap (platform) administrator uses it: organisations, accounts, clients, keys.</summary>
public class AdminTests
{
    static IdClient Id => SharedThrillId.Client;

    static string[] Units(JsonElement org) => [.. org.GetProperty("units").EnumerateArray().Select(u => u.GetString()!)];

    [Test]
    public async Task An_organisation_is_created_once_and_read_back()
    {
        var admin = await Id.AdminTokenAsync();
        var id = Names.Org();

        var created = await Id.PostJsonAsync("/admin/organisations", new { id, units = new[] { "casino", "sports" }, enabled = true }, admin);
        var duplicate = await Id.PostJsonAsync("/admin/organisations", new { id, units = new[] { "other" }, enabled = false }, admin);
        var read = await Id.GetAsync("/admin/organisations/" + id, admin);
        var list = await Id.GetAsync("/admin/organisations", admin);

        Expect.Ok(created, "create");
        Expect.Problem(duplicate, HttpStatusCode.Conflict, "duplicate");
        Expect.Ok(read, "read");
        Expect.Ok(list, "list");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(created.Str("id"), Is.EqualTo(id));
            Assert.That(Units(created.Json), Is.EqualTo(new[] { "casino", "sports" }));
            Assert.That(created.Json.GetProperty("enabled").GetBoolean(), Is.True);
            Assert.That(Units(read.Json), Is.EqualTo(new[] { "casino", "sports" }), "the duplicate changed nothing");
            Assert.That(read.Json.GetProperty("enabled").GetBoolean(), Is.True, "the duplicate changed nothing");
            Assert.That(list.Json.EnumerateArray().Select(o => o.GetProperty("id").GetString()), Does.Contain(id).And.Contain("thrilltech"));
        }
    }

    [Test]
    public async Task Put_replaces_the_units_and_keeps_enabled_when_it_is_omitted()
    {
        var admin = await Id.AdminTokenAsync();
        var id = await Id.NewOrgAsync("casino");

        var put = await Id.PutJsonAsync("/admin/organisations/" + id, new { units = new[] { "casino", "poker" } }, admin);
        var read = await Id.GetAsync("/admin/organisations/" + id, admin);

        Expect.Ok(put);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Units(put.Json), Is.EqualTo(new[] { "casino", "poker" }));
            Assert.That(Units(read.Json), Is.EqualTo(new[] { "casino", "poker" }));
            Assert.That(read.Json.GetProperty("enabled").GetBoolean(), Is.True);
        }
        var disabled = await Id.PutJsonAsync("/admin/organisations/" + id, new { units = new[] { "casino" }, enabled = false }, admin);
        Expect.Ok(disabled);
        Assert.That(disabled.Json.GetProperty("enabled").GetBoolean(), Is.False);
    }

    [Test]
    public async Task Unknown_organisations_and_accounts_are_404()
    {
        var admin = await Id.AdminTokenAsync();

        using (Assert.EnterMultipleScope())
        {
            Expect.Problem(await Id.GetAsync("/admin/organisations/" + Names.Org(), admin), HttpStatusCode.NotFound, "GET org");
            Expect.Problem(await Id.PutJsonAsync("/admin/organisations/" + Names.Org(), new { units = new[] { "x" } }, admin),
                HttpStatusCode.NotFound, "PUT org");
            Expect.Problem(await Id.GetAsync("/admin/accounts/" + Guid.NewGuid(), admin), HttpStatusCode.NotFound, "GET account");
            Expect.Problem(await Id.PutJsonAsync("/admin/accounts/" + Guid.NewGuid(), new { enabled = false }, admin),
                HttpStatusCode.NotFound, "PUT account");
            Expect.Problem(await Id.PostJsonAsync($"/admin/accounts/{Guid.NewGuid()}/disable", null, admin), HttpStatusCode.NotFound, "disable");
        }
    }

    [Test]
    public async Task An_account_is_created_as_an_AccountDoc_and_a_duplicate_username_is_409()
    {
        var admin = await Id.AdminTokenAsync();
        var org = await Id.NewOrgAsync("casino", "sports");
        var username = Names.User();
        var body = new
        {
            username, password = Names.Password(), account_type = "Service", org_id = org, unit_id = "sports",
            permissions = Perms.Of("thrillpots:instances:Read", "thrillpots:sources:Write"), enabled = true, trusted = true,
        };

        var created = await Id.PostJsonAsync("/admin/accounts", body, admin);
        var duplicate = await Id.PostJsonAsync("/admin/accounts", body with { }, admin);

        Assert.That(created.Status, Is.EqualTo(HttpStatusCode.Created), created.ToString());
        Expect.Problem(duplicate, HttpStatusCode.Conflict, "duplicate username");
        var doc = created.Json;
        using (Assert.EnterMultipleScope())
        {
            foreach (var field in new[] { "id", "username", "account_type", "org_id", "unit_id", "permissions", "enabled", "trusted",
                         "created_on", "last_logged_in", "pending_password_reset", "access_to" })
                Assert.That(doc.TryGetProperty(field, out _), Is.True, $"AccountDoc field '{field}'");
            Assert.That(doc.GetProperty("username").GetString(), Is.EqualTo(username));
            Assert.That(doc.GetProperty("account_type").GetString(), Is.EqualTo("Service"));
            Assert.That(doc.GetProperty("org_id").GetString(), Is.EqualTo(org));
            Assert.That(doc.GetProperty("unit_id").GetString(), Is.EqualTo("sports"));
            Assert.That(doc.GetProperty("trusted").GetBoolean(), Is.True);
            Assert.That(doc.GetProperty("last_logged_in").ValueKind, Is.EqualTo(JsonValueKind.Null), "never logged in");
            Assert.That(doc.TryGetProperty("password", out _) || doc.TryGetProperty("password_hash", out _), Is.False);
            var perms = doc.GetProperty("permissions").EnumerateArray().Single();
            Assert.That(perms.GetProperty("system_id").GetString(), Is.EqualTo("thrillpots"));
            Assert.That(perms.GetProperty("permissions").EnumerateArray()
                    .Select(p => p.GetProperty("resource_id").GetString() + ":" + p.GetProperty("permission").GetString()),
                Is.EquivalentTo(new[] { "instances:Read", "sources:Write" }));
        }
        Assert.That((await Id.AccountsOfAsync(org)).Count(a => a.GetProperty("username").GetString() == username), Is.EqualTo(1));
    }

    [Test]
    public async Task Accounts_are_listed_by_organisation_and_read_by_id()
    {
        var orgA = await Id.NewOrgAsync("u1");
        var orgB = await Id.NewOrgAsync("u1");
        var a1 = await Id.NewAccountAsync(orgA);
        var a2 = await Id.NewAccountAsync(orgA, unitId: "u1");
        var b1 = await Id.NewAccountAsync(orgB);

        var listA = await Id.AccountsOfAsync(orgA);
        var read = await Id.AccountAsync(a2.Id);
        var all = await Id.GetAsync("/admin/accounts", await Id.AdminTokenAsync());

        Expect.Ok(all);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(listA.Select(a => a.GetProperty("id").GetString()), Is.EquivalentTo(new[] { a1.Id, a2.Id }));
            Assert.That(read.GetProperty("username").GetString(), Is.EqualTo(a2.Username));
            Assert.That(read.GetProperty("unit_id").GetString(), Is.EqualTo("u1"));
            Assert.That(all.Json.EnumerateArray().Select(a => a.GetProperty("id").GetString()), Does.Contain(b1.Id).And.Contain(a1.Id),
                "a platform admin lists every organisation's accounts");
        }
    }

    [Test]
    public async Task An_account_of_an_unknown_organisation_or_unit_is_refused_and_not_created()
    {
        var admin = await Id.AdminTokenAsync();
        var org = await Id.NewOrgAsync("casino");
        var (inUnknownUnit, inUnknownOrg) = (Names.User(), Names.User());

        var unknownUnit = await Id.PostJsonAsync("/admin/accounts", new
        {
            username = inUnknownUnit, password = Names.Password(), account_type = "User", org_id = org, unit_id = "no-such-unit", permissions = Perms.Of(),
        }, admin);
        var unknownOrg = await Id.PostJsonAsync("/admin/accounts", new
        {
            username = inUnknownOrg, password = Names.Password(), account_type = "User", org_id = Names.Org(), permissions = Perms.Of(),
        }, admin);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((int)unknownUnit.Status, Is.InRange(400, 404), "unknown unit: " + unknownUnit);
            Assert.That((int)unknownOrg.Status, Is.InRange(400, 404), "unknown organisation: " + unknownOrg);
            Expect.Problem(await Id.LoginAsync(inUnknownUnit, "whatever-password"), HttpStatusCode.Unauthorized, "not created");
            Expect.Problem(await Id.LoginAsync(inUnknownOrg, "whatever-password"), HttpStatusCode.Unauthorized, "not created");
        }
        Assert.That(await Id.AccountsOfAsync(org), Is.Empty);
    }

    [Test]
    public async Task Put_updates_permissions_unit_enabled_and_trusted()
    {
        var admin = await Id.AdminTokenAsync();
        var org = await Id.NewOrgAsync("casino", "sports");
        var account = await Id.NewAccountAsync(org, permissions: ["thrillpots:instances:Read"]);

        var put = await Id.PutJsonAsync("/admin/accounts/" + account.Id, new
        {
            unit_id = "sports", permissions = Perms.Of("thrillgate:freebets:Write"), trusted = true,
        }, admin);

        Expect.Ok(put);
        var read = await Id.AccountAsync(account.Id);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.GetProperty("unit_id").GetString(), Is.EqualTo("sports"));
            Assert.That(read.GetProperty("trusted").GetBoolean(), Is.True);
            Assert.That(read.GetProperty("enabled").GetBoolean(), Is.True, "omitted, so unchanged");
            Assert.That(read.GetProperty("permissions").EnumerateArray().Single().GetProperty("system_id").GetString(), Is.EqualTo("thrillgate"));
        }
        var jwt = Jwt.Parse(await Id.TokenOfAsync(account));
        Assert.That(jwt.Scopes, Is.EquivalentTo(new[] { "thrillgate:freebets:read", "thrillgate:freebets:write" }), "the next token has the new grant");
        Assert.That(jwt.Strings("unit_ids"), Is.EqualTo(new[] { "sports" }));
    }

    [Test]
    public async Task Disable_and_enable_switch_an_account_off_and_on()
    {
        var admin = await Id.AdminTokenAsync();
        var org = await Id.NewOrgAsync("u1");
        var account = await Id.NewAccountAsync(org);

        Expect.Success(await Id.PostJsonAsync($"/admin/accounts/{account.Id}/disable", null, admin), "disable");
        Assert.That((await Id.AccountAsync(account.Id)).GetProperty("enabled").GetBoolean(), Is.False);
        Expect.Problem(await Id.LoginAsync(account.Username, account.Password!), HttpStatusCode.Unauthorized, "disabled login");

        Expect.Success(await Id.PostJsonAsync($"/admin/accounts/{account.Id}/enable", null, admin), "enable");
        Assert.That((await Id.AccountAsync(account.Id)).GetProperty("enabled").GetBoolean(), Is.True);
        Expect.Ok(await Id.LoginAsync(account.Username, account.Password!), "enabled login");
    }

    [Test]
    public async Task An_admin_sets_a_password_which_replaces_the_old_one()
    {
        var admin = await Id.AdminTokenAsync();
        var org = await Id.NewOrgAsync("u1");
        var account = await Id.NewAccountAsync(org);
        var newPassword = Names.Password();

        var tooShort = await Id.PostJsonAsync($"/admin/accounts/{account.Id}/password", new { password = "elevenchars" }, admin);
        var tooLong = await Id.PostJsonAsync($"/admin/accounts/{account.Id}/password", new { password = new string('p', 257) }, admin);
        var set = await Id.PostJsonAsync($"/admin/accounts/{account.Id}/password", new { password = newPassword }, admin);

        Expect.BadField(tooShort, "password", "11 characters");
        Expect.BadField(tooLong, "password", "257 characters");
        Assert.That(set.Status, Is.EqualTo(HttpStatusCode.NoContent), set.ToString());
        using (Assert.EnterMultipleScope())
        {
            Expect.Problem(await Id.LoginAsync(account.Username, account.Password!), HttpStatusCode.Unauthorized, "old password");
            Expect.Ok(await Id.LoginAsync(account.Username, newPassword), "new password");
        }
    }

    [Test]
    public async Task Passwords_of_12_and_256_characters_are_accepted()
    {
        var org = await Id.NewOrgAsync("u1");
        var admin = await Id.AdminTokenAsync();
        foreach (var password in new[] { "twelve-chars", new string('p', 256) })
        {
            var username = Names.User();
            var created = await Id.PostJsonAsync("/admin/accounts", new
            {
                username, password, account_type = "User", org_id = org, permissions = Perms.Of(),
            }, admin);
            Assert.That(created.Status, Is.EqualTo(HttpStatusCode.Created), $"{password.Length} characters: {created}");
            Expect.Ok(await Id.LoginAsync(username, password), $"{password.Length} characters");
        }
    }

    [Test]
    public async Task Clients_are_created_for_service_accounts_listed_without_secrets_and_deleted()
    {
        var admin = await Id.AdminTokenAsync();
        var org = await Id.NewOrgAsync("u1");
        var service = await Id.NewAccountAsync(org, type: "Service", withPassword: false, permissions: ["thrillpots:instances:Read"]);

        var created = await Id.PostJsonAsync($"/admin/accounts/{service.Id}/clients", null, admin);
        Assert.That(created.Status, Is.EqualTo(HttpStatusCode.Created), created.ToString());
        var client = new OAuthClient(created.Str("client_id"), created.Str("client_secret"));
        var list = await Id.GetAsync($"/admin/accounts/{service.Id}/clients", admin);

        Expect.Ok(list);
        var listed = list.Json.EnumerateArray().ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.Secret, Has.Length.GreaterThanOrEqualTo(16));
            Assert.That(listed.Select(c => c.GetProperty("client_id").GetString()), Is.EqualTo(new[] { client.Id }));
            Assert.That(list.Body, Does.Not.Contain(client.Secret), "the secret is shown once");
            Assert.That(listed.Single().TryGetProperty("client_secret", out _), Is.False);
        }
        Expect.Ok(await Id.ClientCredentialsAsync(client), "the new client authenticates");
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        Expect.Success(await Id.DeleteAsync("/admin/clients/" + client.Id, admin), "delete");

        using (Assert.EnterMultipleScope())
        {
            Expect.OAuthError(await Id.ClientCredentialsAsync(client), HttpStatusCode.Unauthorized, "invalid_client", "deleted client");
            Assert.That((await Id.RefreshGrantAsync(refresh, client)).Status, Is.Not.EqualTo(HttpStatusCode.OK), "its refresh token died with it");
            var after = await Id.GetAsync($"/admin/accounts/{service.Id}/clients", admin);
            Expect.Ok(after);
            // Gone from the list, or kept as a disabled record.
            Assert.That(after.Json.EnumerateArray().Where(c => c.GetProperty("client_id").GetString() == client.Id)
                .All(c => c.TryGetProperty("enabled", out var e) && e.ValueKind == JsonValueKind.False), Is.True, "deleted client listed as usable: " + after);
        }
    }

    [Test]
    public async Task A_user_account_gets_no_client()
    {
        var admin = await Id.AdminTokenAsync();
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);

        var created = await Id.PostJsonAsync($"/admin/accounts/{user.Id}/clients", null, admin);

        Assert.That((int)created.Status, Is.InRange(400, 499), created.ToString());
        Expect.Problem(created, created.Status);
        var list = await Id.GetAsync($"/admin/accounts/{user.Id}/clients", admin);
        Assert.That(list.Status != HttpStatusCode.OK || list.Json.GetArrayLength() == 0, Is.True, "no client exists: " + list);
    }

    [Test]
    public async Task Keys_are_listed_with_their_lifecycle_and_match_the_jwks()
    {
        var reply = await Id.GetAsync("/admin/keys", await Id.AdminTokenAsync());

        Expect.Ok(reply);
        var keys = reply.Json.EnumerateArray().ToList();
        foreach (var key in keys)
            foreach (var field in new[] { "kid", "alg", "created_at", "activated_at", "retired_at", "published_until" })
                Assert.That(key.TryGetProperty(field, out _), Is.True, $"'{field}' in {key.GetRawText()}");
        var active = keys.Where(k => k.GetProperty("activated_at").ValueKind != JsonValueKind.Null
                                     && k.GetProperty("retired_at").ValueKind == JsonValueKind.Null).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(active, Has.Count.EqualTo(1), "exactly one active key");
            Assert.That(active.Single().GetProperty("alg").GetString(), Is.EqualTo("ES256"));
            Assert.That(await Id.JwksKidsAsync(), Is.SubsetOf(keys.Select(k => k.GetProperty("kid").GetString())));
            Assert.That(reply.Body, Does.Not.Contain("private"), "no private material");
        }
    }
}
