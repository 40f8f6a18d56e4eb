using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ThrillSuite.ServiceDefaults.Auth;

namespace ThrillSuite.ServiceHosts.IntegrationTests;

/// <summary>The validated-token cache resource services use: it saves the signature check, never a lifetime check.</summary>
public class CachingTokenHandlerTests
{
    static readonly ECDsaSecurityKey Key = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "k1" };
    static readonly TokenValidationParameters Parameters = new()
    {
        ValidIssuer = "https://id.test", ValidAudience = "thrillsuite", IssuerSigningKey = Key, ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        ClockSkew = TimeSpan.Zero, RequireExpirationTime = true,
    };

    static string Token(DateTime expires, SecurityKey? key = null) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "https://id.test", Audience = "thrillsuite", Expires = expires, NotBefore = DateTime.UtcNow.AddMinutes(-1),
        IssuedAt = DateTime.UtcNow.AddMinutes(-1), Claims = new Dictionary<string, object> { ["sub"] = "svc", ["scope"] = "thrillpots:*:write" },
        SigningCredentials = new SigningCredentials(key ?? Key, SecurityAlgorithms.EcdsaSha256),
    });

    [Test]
    public async Task A_cached_token_is_refused_once_it_expires()
    {
        var handler = new CachingTokenHandler { MapInboundClaims = false };
        var token = Token(DateTime.UtcNow.AddSeconds(2));
        var first = await handler.ValidateTokenAsync(token, Parameters);
        var second = await handler.ValidateTokenAsync(token, Parameters);
        Assert.That(first.IsValid && second.IsValid, Is.True);
        Assert.That(second.ClaimsIdentity, Is.Not.SameAs(first.ClaimsIdentity), "each caller gets its own identity");
        Assert.That(second.ClaimsIdentity.FindFirst("scope")?.Value, Is.EqualTo("thrillpots:*:write"));

        await Eventually.TrueAsync(async () => !(await handler.ValidateTokenAsync(token, Parameters)).IsValid,
            TimeSpan.FromSeconds(10), "the cached token to expire");
    }

    [Test]
    public async Task A_token_that_fails_validation_is_never_cached()
    {
        var handler = new CachingTokenHandler { MapInboundClaims = false };
        var forged = Token(DateTime.UtcNow.AddHours(1), new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "k1" });
        Assert.That((await handler.ValidateTokenAsync(forged, Parameters)).IsValid, Is.False);
        Assert.That((await handler.ValidateTokenAsync(forged, Parameters)).IsValid, Is.False);
        var expired = Token(DateTime.UtcNow.AddSeconds(-5));
        Assert.That((await handler.ValidateTokenAsync(expired, Parameters)).IsValid, Is.False);
    }
}
