using System.Text.Json.Nodes;
using static ThrillId.IntegrationTests.IdClient;

namespace ThrillId.IntegrationTests;

/// <summary>POST /oauth/introspect (RFC 7662) and POST /oauth/revoke (RFC 7009).</summary>
public class IntrospectionRevocationTests
{
    static IdClient Id => SharedThrillId.Client;

    static void Inactive(Reply reply, string what)
    {
        Expect.Ok(reply, what);
        var json = reply.Json;
        Assert.That(json.GetProperty("active").GetBoolean(), Is.False, what + ": " + reply);
        // RFC 7662 §2.2: an inactive token's answer should say nothing more about it.
        foreach (var leak in new[] { "sub", "username", "scope", "org_id", "client_id" })
            Assert.That(json.TryGetProperty(leak, out _), Is.False, $"{what}: '{leak}' disclosed: {reply}");
    }

    [Test]
    public async Task Introspection_requires_client_authentication()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var token = (await Id.ClientCredentialsAsync(client)).Str("access_token");

        var none = await Id.IntrospectAsync(token, null);
        var wrong = await Id.IntrospectAsync(token, client with { Secret = client.Secret + "x" });
        var bearer = await Id.SendAsync(HttpMethod.Post, "/oauth/introspect", new FormUrlEncodedContent([F("token", token)]), bearer: token);

        using (Assert.EnterMultipleScope())
        {
            Expect.OAuthError(none, HttpStatusCode.Unauthorized, "invalid_client", "no client authentication");
            Expect.OAuthError(wrong, HttpStatusCode.Unauthorized, "invalid_client", "wrong secret");
            Expect.OAuthError(bearer, HttpStatusCode.Unauthorized, "invalid_client", "a bearer token is not client authentication");
            Assert.That(none.Body + wrong.Body + bearer.Body, Does.Not.Contain("\"active\""));
        }
    }

    [Test]
    public async Task An_active_access_token_is_described_by_its_claims()
    {
        var org = await Id.NewOrgAsync("casino", "sports");
        var user = await Id.NewAccountAsync(org, permissions: ["thrillpots:instances:Write"]);
        var token = await Id.TokenOfAsync(user);
        var (_, client) = await Id.NewServiceClientAsync();
        var jwt = Jwt.Parse(token);

        var reply = await Id.IntrospectAsync(token, client);

        Expect.Ok(reply);
        Expect.NoStore(reply);
        var json = reply.Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(json.GetProperty("active").GetBoolean(), Is.True);
            Assert.That(json.GetProperty("scope").GetString()!.Split(' '), Is.EquivalentTo(jwt.Scopes));
            Assert.That(json.GetProperty("username").GetString(), Is.EqualTo(user.Username));
            Assert.That(json.GetProperty("token_type").GetString(), Is.Not.Empty);
            Assert.That(json.GetProperty("exp").GetInt64(), Is.EqualTo(jwt.Long("exp")));
            Assert.That(json.GetProperty("iat").GetInt64(), Is.EqualTo(jwt.Long("iat")));
            Assert.That(json.GetProperty("nbf").GetInt64(), Is.EqualTo(jwt.Long("nbf")));
            Assert.That(json.GetProperty("sub").GetString(), Is.EqualTo(user.Id));
            var aud = json.GetProperty("aud");
            Assert.That(aud.ValueKind == JsonValueKind.Array ? aud.EnumerateArray().Select(a => a.GetString()) : [aud.GetString()],
                Does.Contain("thrillsuite"));
            Assert.That(json.GetProperty("iss").GetString(), Is.EqualTo(Id.Issuer));
            Assert.That(json.GetProperty("jti").GetString(), Is.EqualTo(jwt.Str("jti")));
            Assert.That(json.GetProperty("org_id").GetString(), Is.EqualTo(org));
            Assert.That(json.GetProperty("unit_ids").EnumerateArray().Select(u => u.GetString()), Is.EquivalentTo(new[] { "casino", "sports" }));
        }
    }

    [Test]
    public async Task A_client_credentials_token_is_introspected_with_its_client_id()
    {
        var (account, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var token = (await Id.ClientCredentialsAsync(client)).Str("access_token");

        var reply = await Id.IntrospectAsync(token, client);

        Expect.Ok(reply);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Json.GetProperty("active").GetBoolean(), Is.True);
            Assert.That(reply.Str("client_id"), Is.EqualTo(client.Id));
            Assert.That(reply.Str("sub"), Is.EqualTo(account.Id));
        }
    }

    [Test]
    public async Task Garbage_forged_and_expired_tokens_are_inactive()
    {
        var (_, client) = await Id.NewServiceClientAsync();
        var genuine = Jwt.Parse(await Id.AdminTokenAsync());
        var noneHeader = new JsonObject { ["alg"] = "none", ["typ"] = "JWT", ["kid"] = genuine.Kid };
        var expired = Jwt.Claims(genuine);
        expired["iat"] = Jwt.Now - 7200;
        expired["nbf"] = Jwt.Now - 7200;
        expired["exp"] = Jwt.Now - 3600;
        var control = await Insider.SignAsync(Id.Instance, Jwt.Claims(genuine));

        var tokens = new Dictionary<string, string>
        {
            ["garbage"] = "garbage",
            ["empty-ish"] = "a.b.c",
            ["alg none"] = Jwt.Assemble(noneHeader, genuine.Payload),
            ["tampered"] = Jwt.Assemble(genuine.Header, Jwt.Copy(genuine.Payload).Also(p => p["org_id"] = "someone-else"), genuine.Signature),
            ["expired (real key)"] = await Insider.SignAsync(Id.Instance, expired),
        };

        Assert.That((await Id.IntrospectAsync(control, client)).Json.GetProperty("active").GetBoolean(), Is.True,
            "control: the insider-signed token with valid claims is active, so only the claim under test differs");
        foreach (var (what, token) in tokens) Inactive(await Id.IntrospectAsync(token, client), what);
    }

    [Test]
    public async Task A_revoked_access_token_is_inactive()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var token = (await Id.ClientCredentialsAsync(client)).Str("access_token");
        Assert.That((await Id.IntrospectAsync(token, client)).Json.GetProperty("active").GetBoolean(), Is.True);

        var revoke = await Id.RevokeAsync(token, client, "access_token");

        Expect.Ok(revoke);
        Inactive(await Id.IntrospectAsync(token, client), "revoked access token");
    }

    [Test]
    public async Task Revocation_answers_200_for_unknown_garbage_and_already_revoked_tokens()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        using (Assert.EnterMultipleScope())
        {
            Expect.Ok(await Id.RevokeAsync("garbage", client), "garbage");
            Expect.Ok(await Id.RevokeAsync("garbage", client, "refresh_token"), "garbage with a hint");
            Expect.Ok(await Id.RevokeAsync(refresh, client), "first revocation");
            Expect.Ok(await Id.RevokeAsync(refresh, client), "second revocation");
        }
    }

    [Test]
    public async Task A_revoked_refresh_token_is_invalid_grant()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        Expect.Ok(await Id.RevokeAsync(refresh, client, "refresh_token"));

        Expect.OAuthError(await Id.RefreshGrantAsync(refresh, client), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Test]
    public async Task Revoking_an_older_member_kills_the_whole_refresh_family()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh1 = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");
        var rotated = await Id.RefreshGrantAsync(refresh1, client);
        Expect.Ok(rotated);
        var other = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        Expect.Ok(await Id.RevokeAsync(refresh1, client));

        Expect.OAuthError(await Id.RefreshGrantAsync(rotated.Str("refresh_token"), client), HttpStatusCode.BadRequest, "invalid_grant",
            "the family's current token");
        Expect.Ok(await Id.RefreshGrantAsync(other, client), "another family is untouched");
    }

    [Test]
    public async Task A_wrong_token_type_hint_still_revokes()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        // RFC 7009 §2.1: a wrong hint only widens the search.
        Expect.Ok(await Id.RevokeAsync(refresh, client, "access_token"));

        Expect.OAuthError(await Id.RefreshGrantAsync(refresh, client), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Test]
    public async Task Revoking_a_users_refresh_token_stops_accounts_refresh()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var refresh = (await Id.AuthAsync(user)).GetProperty("refresh_token").GetString()!;

        Expect.Ok(await Id.RevokeAsync(refresh));

        Expect.Problem(await Id.RefreshAsync(refresh), HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task Only_the_owning_client_revokes_a_clients_refresh_token()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var (_, other) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        // RFC 7009 §2.1: the server verifies that the token was issued to the client making the request.
        var byOther = await Id.RevokeAsync(refresh, other);
        var anonymous = await Id.RevokeAsync(refresh);
        var wrongSecret = await Id.RevokeAsync(refresh, client with { Secret = client.Secret + "x" });

        using (Assert.EnterMultipleScope())
        {
            Expect.OAuthError(byOther, HttpStatusCode.BadRequest, "unauthorized_client", "another client");
            Expect.OAuthError(anonymous, HttpStatusCode.Unauthorized, "invalid_client", "unauthenticated");
            Expect.OAuthError(wrongSecret, HttpStatusCode.Unauthorized, "invalid_client", "the owner with a wrong secret");
        }
        Expect.Ok(await Id.RefreshGrantAsync(refresh, client), "the token survives revocation requests of other parties");
    }

    [Test]
    public async Task Only_the_owning_client_revokes_a_clients_access_token()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var (_, other) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var token = (await Id.ClientCredentialsAsync(client)).Str("access_token");

        var byOther = await Id.RevokeAsync(token, other, "access_token");
        var anonymous = await Id.RevokeAsync(token);

        using (Assert.EnterMultipleScope())
        {
            Expect.OAuthError(byOther, HttpStatusCode.BadRequest, "unauthorized_client", "another client");
            Expect.OAuthError(anonymous, HttpStatusCode.Unauthorized, "invalid_client", "unauthenticated");
        }
        Assert.That((await Id.IntrospectAsync(token, client)).Json.GetProperty("active").GetBoolean(), Is.True, "still active");
    }

    [Test]
    public async Task A_login_token_is_revoked_by_whoever_presents_it()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var token = await Id.TokenOfAsync(user);
        var (_, client) = await Id.NewServiceClientAsync();

        Expect.Ok(await Id.RevokeAsync(token));

        Inactive(await Id.IntrospectAsync(token, client), "revoked login access token");
    }
}
