using System.Text.Json.Nodes;

namespace ThrillId.IntegrationTests;

/// <summary>Signing-key rotation on a process of its own, so the shared process keeps one key.</summary>
[NonParallelizable]
public class KeyRotationTests
{
    ThrillIdInstance id = null!;
    IdClient Id => id.Client;

    [OneTimeSetUp]
    public async Task StartAsync() => id = await ThrillIdInstance.StartAsync(ThrillIdConfig.New());

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (id is not null) await id.StopAndDropAsync();
    }

    [Test]
    public async Task Rotation_publishes_a_new_key_signs_with_it_and_keeps_the_old_one_valid()
    {
        var admin = await Id.AdminTokenAsync();
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var oldToken = await Id.TokenOfAsync(user);
        var oldKid = Jwt.Parse(oldToken).Kid;

        var rotate = await Id.PostJsonAsync("/admin/keys/rotate", null, admin);

        Expect.Ok(rotate);
        var newKid = rotate.Str("kid");
        var jwks = await Id.JwksAsync();
        var newToken = await Id.TokenOfAsync(user);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(newKid, Is.Not.EqualTo(oldKid));
            Assert.That(rotate.Str("alg"), Is.EqualTo("ES256"));
            Assert.That(rotate.Json.GetProperty("activated_at").ValueKind, Is.Not.EqualTo(JsonValueKind.Null));
            Assert.That(rotate.Json.GetProperty("retired_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()),
                Does.Contain(oldKid).And.Contain(newKid), "both keys are published");
            Assert.That(Jwt.Parse(newToken).Kid, Is.EqualTo(newKid), "new tokens carry the new kid");
            Assert.That((await Jwt.ValidateAgainstJwksAsync(oldToken, jwks, Id.Issuer)).IsValid, Is.True, "old token against the JWKS");
            Assert.That((await Jwt.ValidateAgainstJwksAsync(newToken, jwks, Id.Issuer)).IsValid, Is.True, "new token against the JWKS");
            Expect.Ok(await Id.MeAsync(oldToken), "old token at /accounts/me");
            Expect.Ok(await Id.MeAsync(newToken), "new token at /accounts/me");
            Expect.Ok(await Id.GetAsync("/admin/keys", admin), "the admin's pre-rotation token still works");
        }

        var keys = (await Id.GetAsync("/admin/keys", admin)).Json.EnumerateArray().ToDictionary(k => k.GetProperty("kid").GetString()!);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(keys[oldKid!].GetProperty("retired_at").ValueKind, Is.Not.EqualTo(JsonValueKind.Null), "the old key is retired");
            Assert.That(keys[oldKid!].GetProperty("published_until").ValueKind, Is.Not.EqualTo(JsonValueKind.Null));
            Assert.That(keys[newKid].GetProperty("retired_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        }
    }

    [Test]
    public async Task A_token_signed_by_the_retired_key_stays_introspectable_and_forged_ones_under_its_kid_do_not()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var oldToken = (await Id.ClientCredentialsAsync(client)).Str("access_token");
        var oldKid = Jwt.Parse(oldToken).Kid;
        Expect.Ok(await Id.PostJsonAsync("/admin/keys/rotate", null, await Id.AdminTokenAsync()));

        var introspected = await Id.IntrospectAsync(oldToken, client);
        var forged = await TokenForgeryTests.ForgeAsync(TokenForgeryTests.Forgery.UnknownKeyReusingTheRealKid, oldToken, id);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(introspected.Json.GetProperty("active").GetBoolean(), Is.True, introspected.ToString());
            Assert.That(Jwt.Parse(forged).Kid, Is.EqualTo(oldKid));
            Expect.Unauthorized(await Id.MeAsync(forged), "own key under the retired kid");
        }
    }

    [Test]
    public async Task A_retired_key_leaves_the_jwks_once_its_tokens_have_expired()
    {
        // A process whose tokens live 2 s: the retired key is due to go 2 s + clock skew after the rotation.
        var shortLived = await ThrillIdInstance.StartAsync(ThrillIdConfig.New(new Dictionary<string, string?>
        {
            ["ThrillId__UserTokenLifetimeSeconds"] = "2",
            ["ThrillId__ServiceTokenLifetimeSeconds"] = "2",
            ["SigningKeys__RefreshSeconds"] = "1",
        }));
        try
        {
            var client = shortLived.Client;
            var admin = await client.AdminTokenAsync();
            var jwt = Jwt.Parse(admin);
            Assert.That(jwt.Long("exp") - jwt.Long("iat"), Is.EqualTo(2), "the lifetime setting is honoured");
            var oldKid = jwt.Kid;

            var rotate = await client.PostJsonAsync("/admin/keys/rotate", null, admin);
            Expect.Ok(rotate);
            var newKid = rotate.Str("kid");
            Assert.That(await client.JwksKidsAsync(), Does.Contain(oldKid), "published right after the rotation");

            await Eventually.TrueAsync(async () => !(await client.JwksKidsAsync()).Contains(oldKid!),
                TimeSpan.FromMinutes(3), "the retired key to leave the JWKS");

            Assert.That(await client.JwksKidsAsync(), Does.Contain(newKid), "the active key stays");
            Expect.Unauthorized(await client.MeAsync(admin), "a token of the removed key");
        }
        finally
        {
            await shortLived.StopAndDropAsync();
        }
    }

    [Test]
    public async Task Rs256_keys_are_published_as_rsa_jwks_and_sign_tokens()
    {
        var rsa = await ThrillIdInstance.StartAsync(ThrillIdConfig.New(new Dictionary<string, string?> { ["SigningKeys__Algorithm"] = "RS256" }));
        try
        {
            var client = rsa.Client;
            var token = await client.AdminTokenAsync();
            var jwks = await client.JwksAsync();
            var key = jwks.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("kid").GetString() == Jwt.Parse(token).Kid);

            using (Assert.EnterMultipleScope())
            {
                Assert.That(Jwt.Parse(token).Header["alg"]!.GetValue<string>(), Is.EqualTo("RS256"));
                Assert.That(key.GetProperty("kty").GetString(), Is.EqualTo("RSA"));
                Assert.That(key.GetProperty("alg").GetString(), Is.EqualTo("RS256"));
                Assert.That(key.GetProperty("use").GetString(), Is.EqualTo("sig"));
                Assert.That(key.GetProperty("n").GetString(), Is.Not.Empty);
                Assert.That(key.GetProperty("e").GetString(), Is.Not.Empty);
                foreach (var secret in new[] { "d", "p", "q", "dp", "dq", "qi" })
                    Assert.That(key.TryGetProperty(secret, out _), Is.False, $"'{secret}' is published");
                Assert.That((await Jwt.ValidateAgainstJwksAsync(token, jwks, client.Issuer)).IsValid, Is.True);
                Expect.Ok(await client.MeAsync(token));
            }

            // The classic RS256 → HS256 confusion: HMAC keyed with the published public key in its usual encodings.
            var parts = Jwt.Parse(token);
            var claims = Jwt.Claims(parts);
            var header = new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = parts.Kid };
            using var publicKey = System.Security.Cryptography.RSA.Create(new System.Security.Cryptography.RSAParameters
            {
                Modulus = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(key.GetProperty("n").GetString()),
                Exponent = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(key.GetProperty("e").GetString()),
            });
            var secrets = new Dictionary<string, byte[]>
            {
                ["jwk"] = System.Text.Encoding.UTF8.GetBytes(key.GetRawText()),
                ["modulus"] = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(key.GetProperty("n").GetString()),
                ["spki"] = publicKey.ExportSubjectPublicKeyInfo(),
                ["spki pem"] = System.Text.Encoding.ASCII.GetBytes(publicKey.ExportSubjectPublicKeyInfoPem()),
                ["pkcs1 pem"] = System.Text.Encoding.ASCII.GetBytes(publicKey.ExportRSAPublicKeyPem()),
            };
            using (Assert.EnterMultipleScope())
            {
                foreach (var (what, secret) in secrets)
                    Expect.Unauthorized(await client.MeAsync(Jwt.SignHs256(header, claims, secret)), "HS256 keyed with the " + what);
                Expect.Unauthorized(await client.MeAsync(Jwt.Assemble(new JsonObject { ["alg"] = "none", ["kid"] = parts.Kid }, claims)), "alg none");
            }
        }
        finally
        {
            await rsa.StopAndDropAsync();
        }
    }
}
