using ThrillId.Accounts;

namespace ThrillId.Tokens;

/// <summary>Issues what a successful authentication returns: the access token and, for logins, a refresh token.</summary>
public sealed class Issuer(AccessTokens accessTokens, RefreshTokens refreshTokens, AccountStore store)
{
    public IssuedToken AccessToken(Account account, Organisation organisation, IEnumerable<string> scopes, string? clientId) =>
        accessTokens.Issue(account, organisation.Units, scopes, clientId);

    public async Task<IssuedToken> AccessTokenAsync(Account account, CancellationToken ct, IEnumerable<string>? scopes = null, string? clientId = null)
    {
        var organisation = await store.FindOrganisationAsync(account.OrgId, ct);
        return accessTokens.Issue(account, organisation?.Units ?? [], scopes ?? account.Scopes, clientId);
    }

    /// <summary>The spec's AuthResponse; <paramref name="refreshToken"/> is the rotated one when this answers a refresh.</summary>
    public async Task<AccountEndpoints.AuthResponse> AuthResponseAsync(Account account, CancellationToken ct, string? refreshToken = null)
    {
        var organisation = await store.FindOrganisationAsync(account.OrgId, ct);
        var access = accessTokens.Issue(account, organisation?.Units ?? [], account.Scopes, clientId: null);
        refreshToken ??= await refreshTokens.IssueAsync(account.Id, clientId: null, string.Join(' ', account.Scopes), ct);
        // `secret` was ThrillTech's shared HS256 key for trusted services; our tokens are asymmetric, so services
        // validate them against the JWKS and no secret is ever handed out.
        return new AccountEndpoints.AuthResponse(access.Token, refreshToken, null, AccessTo.For(account, organisation?.Units ?? []),
            new Dictionary<string, string>(), new Dictionary<string, IReadOnlyDictionary<string, string>>());
    }
}
