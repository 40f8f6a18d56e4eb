namespace ThrillId.IntegrationTests;

/// <summary>The ThrillTech-compatible endpoints: /accounts/auth, /accounts/refresh, /authenticate/service, /accounts/me, /accounts/password.</summary>
public class AccountsTests
{
    static IdClient Id => SharedThrillId.Client;

    static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Test]
    public async Task Auth_answers_the_AuthResponse_with_the_organisation_units()
    {
        var org = await Id.NewOrgAsync("casino", "sports");
        var account = await Id.NewAccountAsync(org, permissions: ["thrillpots:instances:Read"]);

        var reply = await Id.LoginAsync(account.Username, account.Password!);

        Expect.Ok(reply);
        var json = reply.Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.ContentType, Does.StartWith("application/json"));
            Assert.That(json.GetProperty("token").GetString(), Is.Not.Empty);
            Assert.That(json.GetProperty("refresh_token").GetString(), Is.Not.Empty);
            Assert.That(json.GetProperty("secret").ValueKind, Is.EqualTo(JsonValueKind.Null));
            var accessTo = json.GetProperty("access_to");
            Assert.That(accessTo.GetProperty("org_id").GetString(), Is.EqualTo(org));
            Assert.That(accessTo.GetProperty("unit_ids").EnumerateArray().Select(u => u.GetString()), Is.EquivalentTo(new[] { "casino", "sports" }));
            Assert.That(accessTo.GetProperty("brandpath_list").ValueKind, Is.EqualTo(JsonValueKind.Array));
            Assert.That(json.GetProperty("properties").ValueKind, Is.EqualTo(JsonValueKind.Object));
            Assert.That(json.GetProperty("services").ValueKind, Is.EqualTo(JsonValueKind.Object));
        }
    }

    [Test]
    public async Task A_user_token_carries_the_contract_claims_and_lives_1800_seconds()
    {
        var org = await Id.NewOrgAsync("casino", "sports");
        var account = await Id.NewAccountAsync(org, permissions: ["thrillpots:instances:Write", "thrillgate:freebets:Read"]);

        var before = Jwt.Now;
        var jwt = Jwt.Parse(await Id.TokenOfAsync(account));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(jwt.Header["alg"]!.GetValue<string>(), Is.EqualTo("ES256"));
            Assert.That(jwt.Kid, Is.Not.Empty);
            Assert.That(jwt.Str("iss"), Is.EqualTo(Id.Issuer));
            Assert.That(jwt.Payload["aud"], Is.InstanceOf<System.Text.Json.Nodes.JsonArray>(), "aud is an array");
            Assert.That(jwt.Strings("aud"), Does.Contain("thrillsuite"));
            Assert.That(jwt.Str("sub"), Is.EqualTo(account.Id));
            Assert.That(jwt.Long("iat"), Is.InRange(before - 5, Jwt.Now + 5));
            Assert.That(jwt.Long("nbf"), Is.LessThanOrEqualTo(jwt.Long("iat")));
            Assert.That(jwt.Long("exp") - jwt.Long("iat"), Is.EqualTo(1800), "user token lifetime default");
            Assert.That(jwt.Str("jti"), Is.Not.Empty);
            Assert.That(jwt.Str("org_id"), Is.EqualTo(org));
            Assert.That(jwt.Strings("unit_ids"), Is.EquivalentTo(new[] { "casino", "sports" }));
            Assert.That(jwt.Scopes, Is.EquivalentTo(new[]
            {
                "thrillpots:instances:read", "thrillpots:instances:write", "thrillgate:freebets:read",
            }));
            Assert.That(jwt.Str("username"), Is.EqualTo(account.Username));
            Assert.That(jwt.Str("account_type"), Is.EqualTo("User"));
            Assert.That(jwt.Payload.ContainsKey("client_id"), Is.False, "client_id only for client-credentials tokens");
        }
        var second = Jwt.Parse(await Id.TokenOfAsync(account));
        Assert.That(second.Str("jti"), Is.Not.EqualTo(jwt.Str("jti")), "each token has its own jti");
    }

    [Test]
    public async Task A_unit_bound_account_gets_only_its_unit()
    {
        var org = await Id.NewOrgAsync("casino", "sports");
        var account = await Id.NewAccountAsync(org, unitId: "sports");

        var auth = await Id.AuthAsync(account);

        var jwt = Jwt.Parse(auth.GetProperty("token").GetString()!);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(jwt.Strings("unit_ids"), Is.EqualTo(new[] { "sports" }));
            Assert.That(auth.GetProperty("access_to").GetProperty("unit_ids").EnumerateArray().Select(u => u.GetString()),
                Is.EqualTo(new[] { "sports" }));
        }
    }

    [Test]
    public async Task Access_is_fixed_when_a_token_is_issued_and_a_new_unit_appears_on_the_next_login()
    {
        var org = await Id.NewOrgAsync("casino");
        var account = await Id.NewAccountAsync(org);
        var before = Jwt.Parse(await Id.TokenOfAsync(account));

        var put = await Id.PutJsonAsync("/admin/organisations/" + org, new { units = new[] { "casino", "poker" } }, await Id.AdminTokenAsync());
        Expect.Ok(put, "add a unit");
        var after = await Id.AuthAsync(account);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(before.Strings("unit_ids"), Is.EqualTo(new[] { "casino" }));
            Assert.That(Jwt.Parse(after.GetProperty("token").GetString()!).Strings("unit_ids"), Is.EquivalentTo(new[] { "casino", "poker" }));
            Assert.That(after.GetProperty("access_to").GetProperty("unit_ids").EnumerateArray().Select(u => u.GetString()),
                Is.EquivalentTo(new[] { "casino", "poker" }));
        }
    }

    [Test]
    public async Task Unknown_user_and_wrong_password_get_the_same_401_problem()
    {
        var org = await Id.NewOrgAsync("u1");
        var account = await Id.NewAccountAsync(org);

        var wrongPassword = await Id.LoginAsync(account.Username, Names.Password());
        var unknownUser = await Id.LoginAsync(Names.User(), Names.Password());

        Expect.Problem(wrongPassword, HttpStatusCode.Unauthorized, "wrong password");
        Expect.Problem(unknownUser, HttpStatusCode.Unauthorized, "unknown user");
        Assert.That(Expect.ProblemText(unknownUser), Is.EqualTo(Expect.ProblemText(wrongPassword)), "an attacker cannot tell the two apart");
    }

    [Test]
    public async Task Me_answers_the_AccountDoc_of_the_caller()
    {
        var org = await Id.NewOrgAsync("casino", "sports");
        var created = NowMs;
        var account = await Id.NewAccountAsync(org, unitId: "casino", permissions: ["thrillpots:instances:Write"]);
        var token = await Id.TokenOfAsync(account);

        var reply = await Id.MeAsync(token);

        Expect.Ok(reply);
        var doc = reply.Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(doc.GetProperty("id").GetString(), Is.EqualTo(account.Id));
            Assert.That(doc.GetProperty("username").GetString(), Is.EqualTo(account.Username));
            Assert.That(doc.GetProperty("account_type").GetString(), Is.EqualTo("User"));
            Assert.That(doc.GetProperty("org_id").GetString(), Is.EqualTo(org));
            Assert.That(doc.GetProperty("unit_id").GetString(), Is.EqualTo("casino"));
            var system = doc.GetProperty("permissions").EnumerateArray().Single();
            Assert.That(system.GetProperty("system_id").GetString(), Is.EqualTo("thrillpots"));
            var permission = system.GetProperty("permissions").EnumerateArray().Single();
            Assert.That(permission.GetProperty("resource_id").GetString(), Is.EqualTo("instances"));
            Assert.That(permission.GetProperty("permission").GetString(), Is.EqualTo("Write"));
            Assert.That(doc.GetProperty("enabled").GetBoolean(), Is.True);
            Assert.That(doc.GetProperty("trusted").GetBoolean(), Is.False);
            // Epoch milliseconds, as the spec's examples.
            Assert.That(doc.GetProperty("created_on").GetInt64(), Is.InRange(created - 60_000, NowMs + 60_000));
            Assert.That(doc.GetProperty("last_logged_in").GetInt64(), Is.InRange(created - 60_000, NowMs + 60_000));
            Assert.That(doc.GetProperty("pending_password_reset").GetBoolean(), Is.False);
            var accessTo = doc.GetProperty("access_to");
            Assert.That(accessTo.GetProperty("org_id").GetString(), Is.EqualTo(org));
            Assert.That(accessTo.GetProperty("unit_ids").EnumerateArray().Select(u => u.GetString()), Is.EqualTo(new[] { "casino" }));
            Assert.That(accessTo.GetProperty("brandpath_list").ValueKind, Is.EqualTo(JsonValueKind.Array));
            foreach (var secret in new[] { "password", "password_hash", "secret", "client_secret", "failed_logins" })
                Assert.That(doc.TryGetProperty(secret, out _), Is.False, $"'{secret}' is exposed");
        }
    }

    [Test]
    public async Task Me_without_a_token_is_401_with_a_bearer_challenge()
    {
        Expect.Unauthorized(await Id.GetAsync("/accounts/me"), "no Authorization header");
        Expect.Unauthorized(await Id.SendAsync(HttpMethod.Get, "/accounts/me",
            authorization: new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "YWRtaW46YWRtaW4=")), "Basic instead of Bearer");
    }

    [Test]
    public async Task Refresh_rotates_the_refresh_token_and_answers_a_new_AuthResponse()
    {
        var org = await Id.NewOrgAsync("u1");
        var account = await Id.NewAccountAsync(org);
        var first = await Id.AuthAsync(account);
        var refresh1 = first.GetProperty("refresh_token").GetString()!;

        var reply = await Id.RefreshAsync(refresh1);

        Expect.Ok(reply);
        var refresh2 = reply.Str("refresh_token");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(refresh2, Is.Not.Empty.And.Not.EqualTo(refresh1), "rotated");
            Assert.That(reply.Str("token"), Is.Not.EqualTo(first.GetProperty("token").GetString()));
            Assert.That(Jwt.Parse(reply.Str("token")).Str("sub"), Is.EqualTo(account.Id));
            Assert.That(reply.Json.GetProperty("access_to").GetProperty("org_id").GetString(), Is.EqualTo(org));
            Assert.That(reply.Json.GetProperty("secret").ValueKind, Is.EqualTo(JsonValueKind.Null));
        }
        Expect.Ok(await Id.MeAsync(reply.Str("token")), "the refreshed token works");
        Expect.Ok(await Id.RefreshAsync(refresh2), "the rotated refresh token works once");
    }

    [Test]
    public async Task Reusing_a_rotated_refresh_token_is_401_and_revokes_the_whole_family()
    {
        var org = await Id.NewOrgAsync("u1");
        var account = await Id.NewAccountAsync(org);
        var refresh1 = (await Id.AuthAsync(account)).GetProperty("refresh_token").GetString()!;
        var rotated = await Id.RefreshAsync(refresh1);
        Expect.Ok(rotated);
        var refresh2 = rotated.Str("refresh_token");

        var reuse = await Id.RefreshAsync(refresh1);
        var newer = await Id.RefreshAsync(refresh2);

        Expect.Problem(reuse, HttpStatusCode.Unauthorized, "reuse of the rotated token");
        Expect.Problem(newer, HttpStatusCode.Unauthorized, "the family's newer token after the reuse");
        var other = await Id.AuthAsync(account);
        Expect.Ok(await Id.RefreshAsync(other.GetProperty("refresh_token").GetString()!), "another login's family is untouched");
    }

    [TestCase("not-a-refresh-token")]
    [TestCase("")]
    public async Task Refresh_with_an_unknown_token_is_refused(string token)
    {
        var reply = await Id.RefreshAsync(token);

        Assert.That(reply.Status, Is.AnyOf(HttpStatusCode.Unauthorized, HttpStatusCode.BadRequest), reply.ToString());
        Expect.Problem(reply, reply.Status);
    }

    [Test]
    public async Task An_access_token_is_not_a_refresh_token()
    {
        var org = await Id.NewOrgAsync("u1");
        var account = await Id.NewAccountAsync(org);
        var token = await Id.TokenOfAsync(account);

        var reply = await Id.RefreshAsync(token);

        Assert.That(reply.Status, Is.AnyOf(HttpStatusCode.Unauthorized, HttpStatusCode.BadRequest), reply.ToString());
        Expect.Problem(reply, reply.Status);
    }

    [Test]
    public async Task Changing_the_password_needs_the_current_one_and_takes_effect()
    {
        var org = await Id.NewOrgAsync("u1");
        var account = await Id.NewAccountAsync(org);
        var token = await Id.TokenOfAsync(account);
        var newPassword = Names.Password();

        var wrongCurrent = await Id.PostJsonAsync("/accounts/password", new { password = newPassword, current = Names.Password() }, token);
        var tooShort = await Id.PostJsonAsync("/accounts/password", new { password = "short-11chr", current = account.Password }, token);
        var missingCurrent = await Id.PostJsonAsync("/accounts/password", new { password = newPassword }, token);
        var unauthenticated = await Id.PostJsonAsync("/accounts/password", new { password = newPassword, current = account.Password });

        using (Assert.EnterMultipleScope())
        {
            Assert.That((int)wrongCurrent.Status, Is.InRange(400, 499), "wrong current password: " + wrongCurrent);
            Expect.BadField(tooShort, "password", "11 characters");
            Expect.BadField(missingCurrent, "current", "missing current");
            Expect.Unauthorized(unauthenticated);
            Expect.Ok(await Id.LoginAsync(account.Username, account.Password!), "nothing changed by the refused requests");
        }

        var changed = await Id.PostJsonAsync("/accounts/password", new { password = newPassword, current = account.Password }, token);

        Assert.That(changed.Status, Is.EqualTo(HttpStatusCode.NoContent), changed.ToString());
        using (Assert.EnterMultipleScope())
        {
            Expect.Problem(await Id.LoginAsync(account.Username, account.Password!), HttpStatusCode.Unauthorized, "old password");
            Expect.Ok(await Id.LoginAsync(account.Username, newPassword), "new password");
        }
    }

    [Test]
    public async Task Authenticate_service_answers_only_a_token_for_a_service_account()
    {
        var org = await Id.NewOrgAsync("u1");
        var service = await Id.NewAccountAsync(org, permissions: ["thrillconnect:events:Read"], type: "Service");

        var reply = await Id.PostJsonAsync("/authenticate/service", new { username = service.Username, password = service.Password });

        Expect.Ok(reply);
        Assert.That(reply.Json.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "token" }), "the shape is {token}");
        var jwt = Jwt.Parse(reply.Str("token"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(jwt.Str("account_type"), Is.EqualTo("Service"));
            Assert.That(jwt.Str("sub"), Is.EqualTo(service.Id));
            Assert.That(jwt.Scopes, Does.Contain("thrillconnect:events:read"));
            Assert.That(jwt.Long("exp") - jwt.Long("iat"), Is.EqualTo(1800), "service token lifetime default");
        }
        Expect.Ok(await Id.MeAsync(reply.Str("token")));
    }

    [Test]
    public async Task Authenticate_service_refuses_a_user_account_and_a_wrong_password()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var service = await Id.NewAccountAsync(org, type: "Service");

        var asUser = await Id.PostJsonAsync("/authenticate/service", new { username = user.Username, password = user.Password });
        var wrong = await Id.PostJsonAsync("/authenticate/service", new { username = service.Username, password = Names.Password() });

        using (Assert.EnterMultipleScope())
        {
            Expect.Problem(asUser, HttpStatusCode.Unauthorized, "a User account");
            Expect.Problem(wrong, HttpStatusCode.Unauthorized, "wrong password");
        }
    }

    [Test]
    public async Task An_expired_user_refresh_token_is_401()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var refresh = (await Id.AuthAsync(user)).GetProperty("refresh_token").GetString()!;
        await using var db = new Npgsql.NpgsqlConnection(Id.Instance.Config.ConnectionString);
        // Time travel: the family's lifetime (ThrillId:RefreshTokenLifetimeSeconds) has passed.
        await Dapper.SqlMapper.ExecuteAsync(db, "update refresh_tokens set expires_at = now() - interval '1 second' where account_id = @id",
            new { id = Guid.Parse(user.Id) });

        Expect.Problem(await Id.RefreshAsync(refresh), HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task A_service_account_without_a_password_cannot_log_in_with_any_password()
    {
        var org = await Id.NewOrgAsync("u1");
        var service = await Id.NewAccountAsync(org, type: "Service", withPassword: false);

        foreach (var password in new[] { Names.Password(), "", "null" })
        {
            var asService = await Id.PostJsonAsync("/authenticate/service", new { username = service.Username, password });
            var asAuth = await Id.LoginAsync(service.Username, password);
            Assert.That((int)asService.Status, Is.InRange(400, 401), $"/authenticate/service with '{password}': {asService}");
            Assert.That((int)asAuth.Status, Is.InRange(400, 401), $"/accounts/auth with '{password}': {asAuth}");
        }
    }

    [Test]
    public async Task A_trusted_service_account_is_never_handed_a_signing_secret()
    {
        var org = await Id.NewOrgAsync("u1");
        var service = await Id.NewAccountAsync(org, type: "Service", trusted: true);

        var auth = await Id.AuthAsync(service);

        // Tokens are signed asymmetrically; the public keys are in the JWKS, and no secret exists to hand out.
        Assert.That(auth.GetProperty("secret").ValueKind, Is.EqualTo(JsonValueKind.Null), auth.GetRawText());
    }
}
