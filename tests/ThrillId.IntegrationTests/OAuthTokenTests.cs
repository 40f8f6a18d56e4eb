using static ThrillId.IntegrationTests.IdClient;

namespace ThrillId.IntegrationTests;

/// <summary>POST /oauth/token (RFC 6749): client_credentials with both client authentication methods, scopes, refresh rotation, errors.</summary>
public class OAuthTokenTests
{
    static IdClient Id => SharedThrillId.Client;

    [TestCase(true, TestName = "Client_credentials_with_client_secret_basic")]
    [TestCase(false, TestName = "Client_credentials_with_client_secret_post")]
    public async Task Client_credentials_issue_a_bearer_token_for_the_service_account(bool basic)
    {
        var (account, client) = await Id.NewServiceClientAsync("thrillpots:instances:Write");

        var reply = await Id.ClientCredentialsAsync(client, basic: basic);

        Expect.Ok(reply);
        Expect.NoStore(reply);
        var json = reply.Json;
        var jwt = Jwt.Parse(json.GetProperty("access_token").GetString()!);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.ContentType, Does.StartWith("application/json"));
            Assert.That(json.GetProperty("token_type").GetString(), Is.EqualTo("Bearer"));
            Assert.That(json.GetProperty("expires_in").GetInt64(), Is.EqualTo(1800));
            Assert.That(json.GetProperty("scope").GetString()!.Split(' '),
                Is.EquivalentTo(new[] { "thrillpots:instances:read", "thrillpots:instances:write" }));
            Assert.That(json.TryGetProperty("refresh_token", out _), Is.False, "no refresh token without offline_access");
            Assert.That(jwt.Str("client_id"), Is.EqualTo(client.Id));
            Assert.That(jwt.Str("sub"), Is.EqualTo(account.Id));
            Assert.That(jwt.Str("account_type"), Is.EqualTo("Service"));
            Assert.That(jwt.Str("org_id"), Is.EqualTo(account.OrgId));
            Assert.That(jwt.Str("iss"), Is.EqualTo(Id.Issuer));
            Assert.That(jwt.Strings("aud"), Does.Contain("thrillsuite"));
            Assert.That(jwt.Long("exp") - jwt.Long("iat"), Is.EqualTo(1800));
        }
        Expect.Ok(await Id.MeAsync(json.GetProperty("access_token").GetString()!), "the token works at Thrill-ID");
    }

    [Test]
    public async Task A_requested_scope_narrows_the_token()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Write", "thrillgate:freebets:Read");

        var reply = await Id.ClientCredentialsAsync(client, "thrillpots:instances:read");

        Expect.Ok(reply);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Str("scope"), Is.EqualTo("thrillpots:instances:read"));
            Assert.That(Jwt.Parse(reply.Str("access_token")).Scopes, Is.EqualTo(new[] { "thrillpots:instances:read" }));
        }
    }

    [TestCase("thrillpots:instances:write", TestName = "Write_scope_for_a_Read_permission_is_invalid_scope")]
    [TestCase("thrillid:accounts:write", TestName = "Another_systems_scope_is_invalid_scope")]
    [TestCase("thrillpots:instances:read thrillid:keys:write", TestName = "One_lacking_scope_among_granted_ones_is_invalid_scope")]
    public async Task A_scope_the_account_lacks_is_invalid_scope(string scope)
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        var reply = await Id.ClientCredentialsAsync(client, scope);

        Expect.OAuthError(reply, HttpStatusCode.BadRequest, "invalid_scope");
    }

    [Test]
    public async Task A_wrong_secret_by_basic_is_invalid_client_with_a_basic_challenge()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        var reply = await Id.ClientCredentialsAsync(client with { Secret = client.Secret + "x" });

        Expect.OAuthError(reply, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.That(reply.Header("WWW-Authenticate"), Does.StartWith("Basic"), reply.ToString());
    }

    [Test]
    public async Task A_wrong_secret_by_post_an_unknown_client_or_no_client_is_invalid_client()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        var wrongSecret = await Id.ClientCredentialsAsync(client with { Secret = "wrong" + client.Secret }, basic: false);
        var unknown = await Id.ClientCredentialsAsync(new OAuthClient("no-such-client-" + Guid.NewGuid(), client.Secret), basic: false);
        var unknownBasic = await Id.ClientCredentialsAsync(new OAuthClient("no-such-client-" + Guid.NewGuid(), client.Secret));
        var none = await Id.TokenAsync([F("grant_type", "client_credentials")]);
        var idOnly = await Id.TokenAsync([F("grant_type", "client_credentials"), F("client_id", client.Id)]);

        using (Assert.EnterMultipleScope())
        {
            Expect.OAuthError(wrongSecret, HttpStatusCode.Unauthorized, "invalid_client", "wrong secret");
            Expect.OAuthError(unknown, HttpStatusCode.Unauthorized, "invalid_client", "unknown client (post)");
            Expect.OAuthError(unknownBasic, HttpStatusCode.Unauthorized, "invalid_client", "unknown client (basic)");
            Expect.OAuthError(none, HttpStatusCode.Unauthorized, "invalid_client", "no client authentication");
            Expect.OAuthError(idOnly, HttpStatusCode.Unauthorized, "invalid_client", "client_id without a secret");
        }
    }

    [TestCase("password")]
    [TestCase("authorization_code")]
    [TestCase("implicit")]
    [TestCase("urn:ietf:params:oauth:grant-type:jwt-bearer")]
    [TestCase("urn:ietf:params:oauth:grant-type:device_code")]
    public async Task Other_grant_types_are_unsupported(string grantType)
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        var reply = await Id.TokenAsync([F("grant_type", grantType), F("username", user.Username), F("password", user.Password!),
            F("code", "x"), F("assertion", "x"), F("device_code", "x")], client);

        Expect.OAuthError(reply, HttpStatusCode.BadRequest, "unsupported_grant_type");
        Assert.That(reply.Body, Does.Not.Contain("access_token"));
    }

    [Test]
    public async Task A_missing_grant_type_is_invalid_request()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        Expect.OAuthError(await Id.TokenAsync([F("scope", "thrillpots:instances:read")], client), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Test]
    public async Task Offline_access_adds_a_refresh_token_which_rotates()
    {
        var (account, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var first = await Id.ClientCredentialsAsync(client, "thrillpots:instances:read offline_access");
        Expect.Ok(first);
        var refresh1 = first.Str("refresh_token");

        var second = await Id.RefreshGrantAsync(refresh1, client);

        Expect.Ok(second);
        Expect.NoStore(second);
        var refresh2 = second.Str("refresh_token");
        var jwt = Jwt.Parse(second.Str("access_token"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(refresh2, Is.Not.Empty.And.Not.EqualTo(refresh1));
            Assert.That(second.Str("token_type"), Is.EqualTo("Bearer"));
            Assert.That(second.Json.GetProperty("expires_in").GetInt64(), Is.EqualTo(1800));
            Assert.That(jwt.Str("sub"), Is.EqualTo(account.Id));
            Assert.That(jwt.Str("client_id"), Is.EqualTo(client.Id));
            Assert.That(jwt.Scopes, Does.Contain("thrillpots:instances:read").And.Not.Contain("thrillpots:instances:write"));
        }
        Expect.Ok(await Id.RefreshGrantAsync(refresh2, client), "the rotated token works once");
    }

    [Test]
    public async Task Offline_access_alone_means_every_scope_of_the_account_plus_a_refresh_token()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Write", "thrillgate:freebets:Read");

        var reply = await Id.ClientCredentialsAsync(client, "offline_access");

        Expect.Ok(reply);
        var expected = new[] { "thrillpots:instances:read", "thrillpots:instances:write", "thrillgate:freebets:read" };
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Str("refresh_token"), Is.Not.Empty);
            Assert.That(Jwt.Parse(reply.Str("access_token")).Scopes, Is.EquivalentTo(expected));
            Assert.That(reply.Str("scope").Split(' ').Where(s => s != "offline_access"), Is.EquivalentTo(expected));
        }
    }

    [Test]
    public async Task Reusing_a_rotated_refresh_token_is_invalid_grant_and_the_newer_one_dies_too()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh1 = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");
        var rotated = await Id.RefreshGrantAsync(refresh1, client);
        Expect.Ok(rotated);

        var reuse = await Id.RefreshGrantAsync(refresh1, client);
        var newer = await Id.RefreshGrantAsync(rotated.Str("refresh_token"), client);

        Expect.OAuthError(reuse, HttpStatusCode.BadRequest, "invalid_grant", "reuse");
        Expect.OAuthError(newer, HttpStatusCode.BadRequest, "invalid_grant", "the family's newer token");
        Expect.Ok(await Id.ClientCredentialsAsync(client), "the client itself still authenticates");
    }

    [Test]
    public async Task An_expired_refresh_family_is_invalid_grant_and_rotation_does_not_extend_it()
    {
        var (account, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh1 = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");
        var rotated = await Id.RefreshGrantAsync(refresh1, client);
        Expect.Ok(rotated);
        await using var db = new Npgsql.NpgsqlConnection(Id.Instance.Config.ConnectionString);
        var expiries = (await Dapper.SqlMapper.QueryAsync<DateTime>(db,
            "select expires_at from refresh_tokens where account_id = @id", new { id = Guid.Parse(account.Id) })).ToList();
        Assert.That(expiries, Has.Count.EqualTo(2));
        Assert.That(expiries.Max() - expiries.Min(), Is.LessThan(TimeSpan.FromSeconds(1)), "an absolute family lifetime: rotation keeps the expiry");

        // Time travel: the family's lifetime (ThrillId:RefreshTokenLifetimeSeconds) has passed.
        await Dapper.SqlMapper.ExecuteAsync(db, "update refresh_tokens set expires_at = now() - interval '1 second' where account_id = @id",
            new { id = Guid.Parse(account.Id) });

        Expect.OAuthError(await Id.RefreshGrantAsync(rotated.Str("refresh_token"), client), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Test]
    public async Task Concurrent_redemptions_of_one_refresh_token_yield_at_most_one_successor()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Id.RefreshGrantAsync(refresh, client)));

        var winners = replies.Where(r => r.Status == HttpStatusCode.OK).ToList();
        Assert.That(winners, Has.Count.LessThanOrEqualTo(1), string.Join("\n", replies.Select(r => r.ToString())));
        Assert.That(replies.Where(r => r.Status != HttpStatusCode.OK).Select(r => r.Error), Is.All.EqualTo("invalid_grant"));
        if (winners is [var winner])
            // The losers were reuses of a used token: the family, the winner's successor included, is revoked.
            Expect.OAuthError(await Id.RefreshGrantAsync(winner.Str("refresh_token"), client), HttpStatusCode.BadRequest, "invalid_grant",
                "the successor after a concurrent reuse");
    }

    [Test]
    public async Task A_clients_refresh_token_needs_that_clients_authentication()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var (_, other) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        var anonymous = await Id.RefreshGrantAsync(refresh, null);
        var byOther = await Id.RefreshGrantAsync(refresh, other);

        using (Assert.EnterMultipleScope())
        {
            Expect.OAuthError(anonymous, HttpStatusCode.Unauthorized, "invalid_client", "no client authentication");
            // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
            Expect.OAuthError(byOther, HttpStatusCode.BadRequest, "invalid_grant", "another client");
        }
        Expect.Ok(await Id.RefreshGrantAsync(refresh, client), "the refused attempts changed nothing");
    }

    [Test]
    public async Task A_users_refresh_token_works_at_the_token_endpoint_without_client_authentication()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var refresh = (await Id.AuthAsync(user)).GetProperty("refresh_token").GetString()!;

        var reply = await Id.RefreshGrantAsync(refresh, null);

        Expect.Ok(reply);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Jwt.Parse(reply.Str("access_token")).Str("sub"), Is.EqualTo(user.Id));
            Assert.That(reply.Str("refresh_token"), Is.Not.EqualTo(refresh));
        }
    }

    [TestCase("garbage")]
    [TestCase("")]
    public async Task An_unknown_refresh_token_is_invalid_grant_or_invalid_request(string token)
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        var reply = await Id.RefreshGrantAsync(token, client);

        Expect.OAuthError(reply, HttpStatusCode.BadRequest, token.Length == 0 ? reply.Error! : "invalid_grant");
        Assert.That(reply.Error, Is.AnyOf("invalid_grant", "invalid_request"));
    }

    [Test]
    public async Task A_refresh_grant_without_the_refresh_token_parameter_is_invalid_request()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        Expect.OAuthError(await Id.TokenAsync([F("grant_type", "refresh_token")], client), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Test]
    public async Task An_access_token_is_not_accepted_as_a_refresh_token()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var access = (await Id.ClientCredentialsAsync(client)).Str("access_token");

        var reply = await Id.RefreshGrantAsync(access, client);

        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.BadRequest), reply.ToString());
        Assert.That(reply.Error, Is.AnyOf("invalid_grant", "invalid_request"), reply.ToString());
    }
}
