namespace ThrillSuite.OAuthInterop.Tests;

/// <summary>
/// ThrillId's OAuth 2.0 endpoints as clients outside ThrillSuite see them: each test runs one script of
/// tests/interop/oauth (exit 0 = every expectation in its header held) and checks the key facts of its JSON line.
/// </summary>
[TestFixture("ES256")]
[TestFixture("RS256")]
[NonParallelizable]
public class OAuthPeerTests(string algorithm)
{
    static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(90);
    ThrillIdServer server = null!;

    [OneTimeSetUp]
    public async Task StartThrillIdAsync()
    {
        if (await NodeScript.FindProblemAsync() is { } problem) Assert.Fail(problem);
        server = await ThrillIdServer.StartAsync(algorithm);
    }

    [OneTimeTearDown]
    public async Task StopThrillIdAsync()
    {
        if (server is not null) await server.DisposeAsync();
    }

    async Task<JsonElement> RunAsync(string script, params string[] args)
    {
        var result = await NodeScript.RunAsync(script, server.ScriptArgs(args), ScriptTimeout);
        var why = $"{result.Describe()}\n--- ThrillId output (tail) ---\n{server.OutputTail()}";
        Assert.That(result.ExitCode, Is.Zero, why);
        var observed = result.Observation;
        Assert.That(observed.GetProperty("ok").GetBoolean(), Is.True, why);
        TestContext.Out.WriteLine(result.LastStdoutLine);
        return observed;
    }

    [Test]
    public async Task Openid_client_discovers_gets_client_credentials_and_rotates_refresh_tokens_with_reuse_detection()
    {
        var o = await RunAsync("discovery-and-grant.mjs", "--scope", "thrillpots:instances:read offline_access");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(o.GetProperty("discovery").GetProperty("issuer").GetString(), Is.EqualTo(server.Issuer));
            Assert.That(o.GetProperty("discovery").GetProperty("jwks_uri").GetString(), Is.EqualTo(server.Issuer + "/.well-known/jwks.json"));
            Assert.That(o.GetProperty("client_credentials").GetProperty("has_refresh_token").GetBoolean(), Is.True);
            Assert.That(o.GetProperty("client_credentials").GetProperty("scope").GetString()!.Split(' '), Does.Contain("thrillpots:instances:read"));
            Assert.That(o.GetProperty("refresh").GetProperty("rotated").GetBoolean(), Is.True);
            Assert.That(o.GetProperty("reuse_old").GetProperty("error").GetString(), Is.EqualTo("invalid_grant"));
            Assert.That(o.GetProperty("reuse_old").GetProperty("status").GetInt32(), Is.EqualTo(400));
            Assert.That(o.GetProperty("reuse_new").GetProperty("error").GetString(), Is.EqualTo("invalid_grant"));
            Assert.That(o.GetProperty("wrong_secret").GetProperty("client_secret_post").GetProperty("error").GetString(), Is.EqualTo("invalid_client"));
            Assert.That(o.GetProperty("oauth4webapi").GetProperty("has_refresh_token").GetBoolean(), Is.False);
        }
    }

    [Test]
    public async Task Jose_verifies_an_access_token_against_the_published_jwks()
    {
        var o = await RunAsync("verify-jwks.mjs", "--scope", "thrillpots:instances:read thrillpots:instances:write");

        // The JWKS and the key registry as ThrillId itself reports them, to compare with what jose saw.
        var jwks = await server.SendAsync(HttpMethod.Get, "/.well-known/jwks.json", null, HttpStatusCode.OK);
        var keys = await server.SendAsync(HttpMethod.Get, "/admin/keys", null, HttpStatusCode.OK);
        var kid = o.GetProperty("header").GetProperty("kid").GetString();
        var claims = o.GetProperty("claims");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(o.GetProperty("header").GetProperty("alg").GetString(), Is.EqualTo(algorithm), "SigningKeys:Algorithm");
            Assert.That(o.GetProperty("jwks").GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("kid").GetString() == kid)
                .GetProperty("kty").GetString(), Is.EqualTo(algorithm == "ES256" ? "EC" : "RSA"));
            Assert.That(jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()), Does.Contain(kid));
            var active = keys.EnumerateArray().Where(k => k.GetProperty("retired_at").ValueKind == JsonValueKind.Null
                                                          && k.GetProperty("activated_at").ValueKind != JsonValueKind.Null)
                .Select(k => k.GetProperty("kid").GetString()).ToArray();
            Assert.That(active, Is.EqualTo(new[] { kid }), "the token is signed with the one active key");
            Assert.That(claims.GetProperty("iss").GetString(), Is.EqualTo(server.Issuer));
            Assert.That(claims.GetProperty("org_id").GetString(), Is.EqualTo(ThrillIdServer.Organisation));
            Assert.That(claims.GetProperty("client_id").GetString(), Is.EqualTo(server.ClientId));
            Assert.That(claims.GetProperty("sub").GetString(), Is.EqualTo(server.AccountId));
            Assert.That(claims.GetProperty("account_type").GetString(), Is.EqualTo("Service"));
            Assert.That(claims.GetProperty("scope").GetString()!.Split(' '),
                Is.SupersetOf(new[] { "thrillpots:instances:read", "thrillpots:instances:write" }));
            Assert.That(claims.GetProperty("unit_ids").EnumerateArray().Select(u => u.GetString()), Is.EquivalentTo(ThrillIdServer.Units),
                "an org-level account's token names every unit of the organisation");
            Assert.That(claims.GetProperty("lifetime_s").GetInt32(), Is.EqualTo(1800), "ThrillId:ServiceTokenLifetimeSeconds default");
            Assert.That(o.GetProperty("tampered").GetProperty("one_char").GetString(), Is.EqualTo("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"));
            Assert.That(o.GetProperty("wrong_audience").GetProperty("claim").GetString(), Is.EqualTo("aud"));
        }
    }

    [Test]
    public async Task A_plain_http_client_introspects_and_revokes_an_access_token()
    {
        var o = await RunAsync("introspect-revoke.mjs", "--scope", "thrillpots:instances:read");

        using (Assert.EnterMultipleScope())
        {
            var active = o.GetProperty("introspect_active");
            Assert.That(active.GetProperty("active").GetBoolean(), Is.True);
            Assert.That(active.GetProperty("scope").GetString()!.Split(' '), Does.Contain("thrillpots:instances:read"));
            Assert.That(active.GetProperty("client_id").GetString(), Is.EqualTo(server.ClientId));
            Assert.That(active.GetProperty("org_id").GetString(), Is.EqualTo(ThrillIdServer.Organisation));
            Assert.That(o.GetProperty("introspect_unauthenticated").GetProperty("status").GetInt32(), Is.EqualTo(401));
            Assert.That(o.GetProperty("revoke").GetProperty("status").GetInt32(), Is.EqualTo(200));
            Assert.That(o.GetProperty("introspect_revoked").GetProperty("body").GetRawText(), Is.EqualTo("""{"active":false}"""));
            Assert.That(o.GetProperty("revoke_refresh_token").GetProperty("refresh_error").GetString(), Is.EqualTo("invalid_grant"));
        }
    }
}
