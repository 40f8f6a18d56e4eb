using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace ThrillId.IntegrationTests;

/// <summary>
/// Forged bearer tokens presented to Thrill-ID's own protected endpoints. Each forgery starts from the bootstrap
/// admin's genuine token, so a token that slipped through would answer 200: every refusal must be 401 with
/// <c>WWW-Authenticate: Bearer</c> and an RFC 7807 body, and nothing may change.
/// </summary>
public class TokenForgeryTests
{
    static IdClient Id => SharedThrillId.Client;

    public enum Forgery
    {
        AlgNone,
        AlgNoneCapitalised,
        AlgNoneKeepingTheSignature,
        SignatureStripped,
        Hs256KeyedWithThePublishedJwk,
        Hs256KeyedWithTheRawPublicPoint,
        Hs256KeyedWithTheUncompressedPublicPoint,
        Hs256KeyedWithTheSubjectPublicKeyInfo,
        Hs256KeyedWithThePublicKeyPem,
        UnknownKeyWithAnUnknownKid,
        UnknownKeyReusingTheRealKid,
        UnknownKeyWithoutKid,
        UnknownKeyEmbeddedAsJwkHeader,
        Expired,
        NotYetValid,
        WrongIssuer,
        WrongAudience,
        WithoutExpiry,
        TamperedOrgId,
        TamperedScope,
        TamperedSubject,
        Garbage,
    }

    /// <summary>Builds the forged token from the genuine <paramref name="genuine"/> (a token of <see cref="SharedThrillId"/>).</summary>
    public static async Task<string> ForgeAsync(Forgery forgery, string genuine, ThrillIdInstance instance)
    {
        var jwt = Jwt.Parse(genuine);
        var kid = jwt.Kid!;
        var jwks = await instance.Client.JwksAsync();
        var jwk = jwks.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("kid").GetString() == kid);
        var claims = Jwt.Claims(jwt);
        JsonObject Header(string alg) => new() { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = kid };
        string Hs256(byte[] secret) => Jwt.SignHs256(Header("HS256"), claims, secret);
        using var own = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string Own(string? ownKid) => Jwt.SignWithOwnKey(claims, new ECDsaSecurityKey(own) { KeyId = ownKid }, SecurityAlgorithms.EcdsaSha256);
        Task<string> Real(Action<JsonObject> change) => Insider.SignAsync(instance, Jwt.Copy(claims).Also(change));

        return forgery switch
        {
            Forgery.AlgNone => Jwt.Assemble(Header("none"), claims),
            Forgery.AlgNoneCapitalised => Jwt.Assemble(Header("None"), claims),
            Forgery.AlgNoneKeepingTheSignature => Jwt.Assemble(Header("none"), jwt.Payload, jwt.Signature),
            Forgery.SignatureStripped => jwt.SignedInput + ".",
            Forgery.Hs256KeyedWithThePublishedJwk => Hs256(Encoding.UTF8.GetBytes(jwk.GetRawText())),
            Forgery.Hs256KeyedWithTheRawPublicPoint => Hs256([.. PublicPoint(jwk).Q.X!, .. PublicPoint(jwk).Q.Y!]),
            Forgery.Hs256KeyedWithTheUncompressedPublicPoint => Hs256([0x04, .. PublicPoint(jwk).Q.X!, .. PublicPoint(jwk).Q.Y!]),
            Forgery.Hs256KeyedWithTheSubjectPublicKeyInfo => Hs256(PublicKey(jwk).ExportSubjectPublicKeyInfo()),
            Forgery.Hs256KeyedWithThePublicKeyPem => Hs256(Encoding.ASCII.GetBytes(PublicKey(jwk).ExportSubjectPublicKeyInfoPem())),
            Forgery.UnknownKeyWithAnUnknownKid => Own("attacker-" + Guid.NewGuid().ToString("N")),
            Forgery.UnknownKeyReusingTheRealKid => Own(kid),
            Forgery.UnknownKeyWithoutKid => Own(null),
            Forgery.UnknownKeyEmbeddedAsJwkHeader => Jwt.Sign(Header("ES256").Also(h => h["jwk"] = OwnJwk(own)), claims, own),
            Forgery.Expired => await Real(p =>
            {
                p["iat"] = Jwt.Now - 7200;
                p["nbf"] = Jwt.Now - 7200;
                p["exp"] = Jwt.Now - 3600;
            }),
            // Well beyond any clock skew.
            Forgery.NotYetValid => await Real(p =>
            {
                p["nbf"] = Jwt.Now + 3600;
                p["exp"] = Jwt.Now + 7200;
            }),
            Forgery.WrongIssuer => await Real(p => p["iss"] = "http://thrillid.attacker.example"),
            Forgery.WrongAudience => await Real(p => p["aud"] = new JsonArray("someone-else")),
            Forgery.WithoutExpiry => await Real(p => p.Remove("exp")),
            Forgery.TamperedOrgId => Jwt.Assemble(jwt.Header, Jwt.Copy(jwt.Payload).Also(p => p["org_id"] = "other-" + Names.Org()), jwt.Signature),
            Forgery.TamperedScope => Jwt.Assemble(jwt.Header, Jwt.Copy(jwt.Payload).Also(p => p["scope"] = p["scope"] + " extra:thing:write"), jwt.Signature),
            Forgery.TamperedSubject => Jwt.Assemble(jwt.Header, Jwt.Copy(jwt.Payload).Also(p => p["sub"] = Guid.NewGuid().ToString()), jwt.Signature),
            Forgery.Garbage => "this-is-not-a-jwt",
            _ => throw new ArgumentOutOfRangeException(nameof(forgery)),
        };
    }

    static ECParameters PublicPoint(JsonElement jwk) => new()
    {
        Curve = ECCurve.NamedCurves.nistP256,
        Q = new ECPoint
        {
            X = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("x").GetString()),
            Y = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("y").GetString()),
        },
    };

    static ECDsa PublicKey(JsonElement jwk) => ECDsa.Create(PublicPoint(jwk));

    static JsonObject OwnJwk(ECDsa key)
    {
        var p = key.ExportParameters(false);
        return new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Jwt.B64(p.Q.X!), ["y"] = Jwt.B64(p.Q.Y!) };
    }

    [Test]
    public async Task Control_a_token_signed_by_the_real_key_with_valid_claims_is_accepted()
    {
        // Shows that the insider-signed forgeries below differ from an accepted token only in the claim under test.
        var genuine = await Id.AdminTokenAsync();
        var token = await Insider.SignAsync(Id.Instance, Jwt.Claims(Jwt.Parse(genuine)));

        using (Assert.EnterMultipleScope())
        {
            Expect.Ok(await Id.MeAsync(genuine), "the genuine token");
            Expect.Ok(await Id.MeAsync(token), "the insider-signed control");
            Expect.Ok(await Id.GetAsync("/admin/organisations", token), "the control at an admin endpoint");
        }
    }

    [Test]
    public async Task A_forged_token_is_401_everywhere_and_changes_nothing([Values] Forgery forgery)
    {
        var token = await ForgeAsync(forgery, await Id.AdminTokenAsync(), Id.Instance);
        var org = Names.Org();

        var me = await Id.MeAsync(token);
        var list = await Id.GetAsync("/admin/organisations", token);
        var keys = await Id.GetAsync("/admin/keys", token);
        var create = await Id.PostJsonAsync("/admin/organisations", new { id = org, units = new[] { "u1" }, enabled = true }, token);
        var rotate = await Id.PostJsonAsync("/admin/keys/rotate", null, token);

        using (Assert.EnterMultipleScope())
        {
            Expect.Unauthorized(me, "GET /accounts/me");
            Expect.Unauthorized(list, "GET /admin/organisations");
            Expect.Unauthorized(keys, "GET /admin/keys");
            Expect.Unauthorized(create, "POST /admin/organisations");
            Expect.Unauthorized(rotate, "POST /admin/keys/rotate");
        }
        var admin = await Id.AdminTokenAsync();
        Assert.That((await Id.GetAsync("/admin/organisations/" + org, admin)).Status, Is.EqualTo(HttpStatusCode.NotFound), "not created");
        Assert.That(await Id.JwksKidsAsync(), Does.Contain(Jwt.Parse(admin).Kid), "no rotation happened");
    }

    [Test]
    public async Task A_tampered_org_id_aimed_at_another_organisation_is_401_not_403()
    {
        var orgA = await Id.NewOrgAsync("u1");
        var orgB = await Id.NewOrgAsync("u1");
        var adminA = await Id.NewAccountAsync(orgA, permissions: ["thrillid:accounts:Write"]);
        var victim = await Id.NewAccountAsync(orgB);
        var genuine = Jwt.Parse(await Id.TokenOfAsync(adminA));
        var forged = Jwt.Assemble(genuine.Header, Jwt.Copy(genuine.Payload).Also(p => p["org_id"] = orgB), genuine.Signature);

        var read = await Id.GetAsync("/admin/accounts/" + victim.Id, forged);
        var disable = await Id.PostJsonAsync($"/admin/accounts/{victim.Id}/disable", null, forged);

        using (Assert.EnterMultipleScope())
        {
            Expect.Unauthorized(read);
            Expect.Unauthorized(disable);
        }
        Assert.That((await Id.AccountAsync(victim.Id)).GetProperty("enabled").GetBoolean(), Is.True, "the victim is untouched");
    }

    [TestCase("Bearer")]
    [TestCase("Bearer ")]
    [TestCase("Bearer a.b")]
    [TestCase("Bearer ....")]
    [TestCase("bearer-but-not-really xyz")]
    public async Task A_malformed_authorization_header_is_401(string header)
    {
        var reply = await Id.SendAsync(HttpMethod.Get, "/accounts/me", rawAuthorization: header);

        Expect.Unauthorized(reply, header);
    }
}
