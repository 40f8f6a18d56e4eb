using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ThrillSuite.ServiceDefaults.Auth;

/// <summary>
/// Full validation the first time a token is seen (signature, issuer, audience, lifetime, algorithm), then the result is
/// reused for that exact token string until it expires: an event processor sends thousands of calls per second with the
/// same token, and an ES256 verification per call would cost a core. A cached token is still refused the moment its
/// lifetime ends. Each hit gets its own copy of the identity, so no request can change another's.
/// </summary>
public sealed class CachingTokenHandler : JsonWebTokenHandler
{
    const int MaxEntries = 10_000;
    readonly ConcurrentDictionary<string, TokenValidationResult> cache = new(StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (cache.TryGetValue(token, out var cached))
        {
            var now = DateTime.UtcNow;
            var jwt = (JsonWebToken)cached.SecurityToken;
            if (now <= jwt.ValidTo + validationParameters.ClockSkew && now >= jwt.ValidFrom - validationParameters.ClockSkew)
                return new TokenValidationResult
                {
                    IsValid = true,
                    ClaimsIdentity = cached.ClaimsIdentity.Clone(),
                    SecurityToken = cached.SecurityToken,
                    Issuer = cached.Issuer,
                    TokenType = cached.TokenType,
                };
            cache.TryRemove(token, out _);
        }
        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is JsonWebToken && result.ClaimsIdentity is ClaimsIdentity)
        {
            if (cache.Count >= MaxEntries) cache.Clear();
            cache[token] = result;
        }
        return result;
    }
}
