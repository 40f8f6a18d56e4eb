using Microsoft.IdentityModel.Tokens;

namespace ThrillId.IntegrationTests;

/// <summary>Discovery (OpenID Connect Discovery and RFC 8414) and the JWKS.</summary>
public class DiscoveryTests
{
    static IdClient Id => SharedThrillId.Client;

    static string[] Strings(JsonElement doc, string property)
    {
        Assert.That(doc.TryGetProperty(property, out var value), Is.True, $"'{property}' is present");
        Assert.That(value.ValueKind, Is.EqualTo(JsonValueKind.Array), property);
        return [.. value.EnumerateArray().Select(v => v.GetString()!)];
    }

    [TestCase("/.well-known/openid-configuration")]
    [TestCase("/.well-known/oauth-authorization-server")]
    public async Task The_discovery_document_names_the_issuer_its_endpoints_and_capabilities(string path)
    {
        var reply = await Id.GetAsync(path);

        Expect.Ok(reply);
        Assert.That(reply.ContentType, Does.StartWith("application/json"));
        var doc = reply.Json;
        var issuer = Id.Issuer;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(doc.GetProperty("issuer").GetString(), Is.EqualTo(issuer));
            Assert.That(doc.GetProperty("token_endpoint").GetString(), Is.EqualTo(issuer + "/oauth/token"));
            Assert.That(doc.GetProperty("jwks_uri").GetString(), Is.EqualTo(issuer + "/.well-known/jwks.json"));
            Assert.That(doc.GetProperty("introspection_endpoint").GetString(), Is.EqualTo(issuer + "/oauth/introspect"));
            Assert.That(doc.GetProperty("revocation_endpoint").GetString(), Is.EqualTo(issuer + "/oauth/revoke"));
            Assert.That(Strings(doc, "grant_types_supported"), Is.EquivalentTo(new[] { "client_credentials", "refresh_token" }));
            Assert.That(Strings(doc, "token_endpoint_auth_methods_supported"),
                Is.EquivalentTo(new[] { "client_secret_basic", "client_secret_post" }));
            Assert.That(Strings(doc, "response_types_supported"), Is.EqualTo(new[] { "token" }));
            Assert.That(Strings(doc, "subject_types_supported"), Is.EqualTo(new[] { "public" }));
            Assert.That(Strings(doc, "id_token_signing_alg_values_supported"), Does.Contain("ES256").And.Not.Contain("none"));
            // RFC 8414 §2: "none" MUST NOT be used here (the field itself is optional: no JWT client authentication).
            if (doc.TryGetProperty("token_endpoint_auth_signing_alg_values_supported", out _))
                Assert.That(Strings(doc, "token_endpoint_auth_signing_alg_values_supported"), Does.Not.Contain("none"));
            Assert.That(Strings(doc, "scopes_supported"), Is.Not.Null);
        }
    }

    [Test]
    public async Task The_jwks_publishes_public_signing_keys_only()
    {
        var jwks = await Id.JwksAsync();

        var keys = jwks.GetProperty("keys").EnumerateArray().ToList();
        Assert.That(keys, Is.Not.Empty);
        Assert.That(keys.Select(k => k.GetProperty("kid").GetString()), Is.Unique);
        foreach (var key in keys)
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(key.GetProperty("kty").GetString(), Is.EqualTo("EC"), key.GetRawText());
                Assert.That(key.GetProperty("kid").GetString(), Is.Not.Empty);
                Assert.That(key.GetProperty("use").GetString(), Is.EqualTo("sig"));
                Assert.That(key.GetProperty("alg").GetString(), Is.EqualTo("ES256"));
                Assert.That(key.GetProperty("crv").GetString(), Is.EqualTo("P-256"));
                Assert.That(Base64UrlEncoder.DecodeBytes(key.GetProperty("x").GetString()), Has.Length.EqualTo(32));
                Assert.That(Base64UrlEncoder.DecodeBytes(key.GetProperty("y").GetString()), Has.Length.EqualTo(32));
                // Private (EC "d", RSA "p", "q", ...) and symmetric ("k") members never leave the server.
                foreach (var secret in new[] { "d", "p", "q", "dp", "dq", "qi", "oth", "k" })
                    Assert.That(key.TryGetProperty(secret, out _), Is.False, $"'{secret}' is published: {key.GetRawText()}");
            }
        }
    }

    [Test]
    public async Task A_fresh_token_names_a_published_kid_and_verifies_against_the_jwks_alone()
    {
        var token = await Id.AdminTokenAsync();

        var jwt = Jwt.Parse(token);
        var jwks = await Id.JwksAsync();
        var result = await Jwt.ValidateAgainstJwksAsync(token, jwks, Id.Issuer);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(jwt.Header["alg"]!.GetValue<string>(), Is.EqualTo("ES256"));
            Assert.That(await Id.JwksKidsAsync(), Does.Contain(jwt.Kid));
            Assert.That(result.IsValid, Is.True, result.Exception?.Message);
        }
    }
}
