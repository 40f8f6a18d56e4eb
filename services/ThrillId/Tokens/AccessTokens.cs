using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using ThrillId.Accounts;
using ThrillId.Keys;

namespace ThrillId.Tokens;

public sealed record IssuedToken(string Token, string Jti, DateTime ExpiresAt, int ExpiresIn);

/// <summary>Access tokens: JWTs signed by the active key with the claims of design.md §2.</summary>
public sealed class AccessTokens(SigningKeyStore keys, IOptions<ThrillIdOptions> options, NpgsqlDataSource db)
{
    readonly JsonWebTokenHandler handler = new() { SetDefaultTimesOnTokenCreation = false };

    public IssuedToken Issue(Account account, IReadOnlyList<string> orgUnits, IEnumerable<string> scopes, string? clientId)
    {
        var o = options.Value;
        var lifetime = account.AccountType == Account.User && clientId is null ? o.UserTokenLifetimeSeconds : o.ServiceTokenLifetimeSeconds;
        var now = DateTime.UtcNow;
        var expires = now.AddSeconds(lifetime);
        var jti = Secrets.Base64Url(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var access = AccessTo.For(account, orgUnits);
        var claims = new Dictionary<string, object>
        {
            ["sub"] = account.Id.ToString(),
            ["jti"] = jti,
            ["aud"] = o.AudienceList,
            ["org_id"] = account.OrgId,
            ["unit_ids"] = access.UnitIds.ToArray(),
            ["scope"] = string.Join(' ', scopes),
            ["username"] = account.Username,
            ["account_type"] = account.AccountType,
        };
        if (account.UnitId is { } unit) claims["unit_id"] = unit;
        if (clientId is not null) claims["client_id"] = clientId;
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = o.Issuer,
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            Claims = claims,
            SigningCredentials = keys.Active,
        });
        return new IssuedToken(token, jti, expires, lifetime);
    }

    /// <summary>Validates a token as a resource service would, plus Thrill-ID's own revocation list.</summary>
    public async Task<JsonWebToken?> ValidateAsync(string token, CancellationToken ct)
    {
        var o = options.Value;
        var result = await handler.ValidateTokenAsync(token, new ThrillSuite.ServiceDefaults.Auth.TokenValidationSettings(o.Issuer, o.AudienceList).Parameters(keys));
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt) return null;
        await using var c = await db.OpenConnectionAsync(ct);
        var revoked = await c.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from revoked_access_tokens where jti = @jti)", new { jti = jwt.Id }, cancellationToken: ct));
        return revoked ? null : jwt;
    }

    public async Task RevokeAsync(JsonWebToken jwt, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            delete from revoked_access_tokens where expires_at < now() - interval '1 day';
            insert into revoked_access_tokens (jti, expires_at) values (@jti, @exp) on conflict do nothing;
            """, new { jti = jwt.Id, exp = jwt.ValidTo }, cancellationToken: ct));
    }
}
