using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using ThrillId.Accounts;
using ThrillId.Keys;

namespace ThrillId.Tokens;

/// <summary>RFC 6749 token endpoint, RFC 7662 introspection, RFC 7009 revocation, RFC 8414 / OIDC discovery, JWKS.</summary>
public static class OAuthEndpoints
{
    public const string OfflineAccess = "offline_access";

    public static void MapOAuthEndpoints(this WebApplication app)
    {
        var oauth = app.MapGroup("/oauth").WithTags("OAuth 2.0");
        oauth.MapPost("/token", TokenAsync).RequireRateLimiting(LoginRateLimit.Policy).DisableAntiforgery();
        oauth.MapPost("/introspect", IntrospectAsync).DisableAntiforgery();
        oauth.MapPost("/revoke", RevokeAsync).DisableAntiforgery();
        app.MapGet("/.well-known/openid-configuration", Discovery).WithTags("OAuth 2.0");
        app.MapGet("/.well-known/oauth-authorization-server", Discovery).WithTags("OAuth 2.0");
        app.MapGet("/.well-known/jwks.json", (SigningKeyStore keys, HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=300";
            return Results.Json(keys.Jwks());
        }).WithTags("OAuth 2.0");
    }

    static IResult Discovery(IOptions<ThrillIdOptions> options, IOptions<SigningKeyOptions> keys)
    {
        var issuer = options.Value.Issuer.TrimEnd('/');
        return Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = options.Value.Issuer,
            ["token_endpoint"] = $"{issuer}/oauth/token",
            ["jwks_uri"] = $"{issuer}/.well-known/jwks.json",
            ["introspection_endpoint"] = $"{issuer}/oauth/introspect",
            ["revocation_endpoint"] = $"{issuer}/oauth/revoke",
            ["grant_types_supported"] = new[] { "client_credentials", "refresh_token" },
            ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_basic", "client_secret_post" },
            ["introspection_endpoint_auth_methods_supported"] = new[] { "client_secret_basic", "client_secret_post" },
            ["revocation_endpoint_auth_methods_supported"] = new[] { "client_secret_basic", "client_secret_post" },
            ["response_types_supported"] = new[] { "token" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { keys.Value.Algorithm },
            ["scopes_supported"] = new[] { OfflineAccess },
            ["claims_supported"] = new[] { "iss", "aud", "sub", "exp", "iat", "nbf", "jti", "org_id", "unit_ids", "unit_id", "scope", "username", "account_type", "client_id" },
        });
    }

    static async Task<IResult> TokenAsync(HttpContext http, ClientAuthentication clients, RefreshTokens refreshTokens, AccountStore store, Issuer issuer, CancellationToken ct)
    {
        NoStore(http);
        if (!http.Request.HasFormContentType) return OAuthError.InvalidRequest("The token request must be application/x-www-form-urlencoded.");
        var form = await http.Request.ReadFormAsync(ct);
        if (RepeatedParameter(form) is { } repeated) return repeated;
        var grant = form["grant_type"].ToString();
        var (client, clientError) = await clients.AuthenticateAsync(http, form, required: grant == "client_credentials", ct);
        if (clientError is not null) return clientError;
        if (client is { Enabled: false })
            return grant == "refresh_token"
                ? OAuthError.InvalidGrant("The account behind the refresh token is disabled.")
                : OAuthError.InvalidClient("The client or its account is disabled.");

        switch (grant)
        {
            case "client_credentials":
            {
                var account = client!.Account;
                var (scopes, scopeError) = NarrowScopes(form["scope"].ToString(), account.Scopes);
                if (scopeError is not null) return scopeError;
                var token = issuer.AccessToken(account, client.Organisation, scopes.Where(s => s != OfflineAccess), client.ClientId);
                var refresh = scopes.Contains(OfflineAccess)
                    ? await refreshTokens.IssueAsync(account.Id, client.ClientId, string.Join(' ', scopes.Where(s => s != OfflineAccess)), ct)
                    : null;
                return TokenResponse(token, scopes, refresh);
            }
            case "refresh_token":
            {
                var presented = form["refresh_token"].ToString();
                if (presented.Length is 0 or > 512) return OAuthError.InvalidRequest("refresh_token is required.");
                var (redeemed, failure) = await refreshTokens.RedeemAsync(presented, client?.ClientId, ct);
                if (failure == RedeemFailure.ClientAuthenticationRequired)
                    return OAuthError.InvalidClient("This refresh token was issued to a client: authenticate as that client.");
                if (redeemed is null)
                    return OAuthError.InvalidGrant(failure switch
                    {
                        RedeemFailure.Reused => "The refresh token was already used; its whole family is now revoked.",
                        RedeemFailure.Revoked => "The refresh token is revoked.",
                        RedeemFailure.Expired => "The refresh token is expired.",
                        RedeemFailure.WrongClient => "The refresh token was not issued to this client.",
                        _ => "The refresh token is unknown.",
                    });
                var account = await store.FindAsync(redeemed.AccountId, ct);
                var organisation = account is null ? null : await store.FindOrganisationAsync(account.OrgId, ct);
                if (account is not { Enabled: true } || organisation is not { Enabled: true })
                    return OAuthError.InvalidGrant("The account behind the refresh token is disabled.");
                // Permissions removed since the login do not survive a refresh.
                var scopes = redeemed.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Intersect(account.Scopes).ToList();
                var token = await issuer.AccessTokenAsync(account, ct, scopes, redeemed.ClientId);
                return TokenResponse(token, redeemed.ClientId is null ? scopes : [.. scopes, OfflineAccess], redeemed.NewToken);
            }
            case "":
                return OAuthError.InvalidRequest("grant_type is required.");
            default:
                return OAuthError.UnsupportedGrantType(grant);
        }
    }

    static async Task<IResult> IntrospectAsync(HttpContext http, ClientAuthentication clients, AccessTokens accessTokens, RefreshTokens refreshTokens, CancellationToken ct)
    {
        NoStore(http);
        if (!http.Request.HasFormContentType) return OAuthError.InvalidRequest("The introspection request must be application/x-www-form-urlencoded.");
        var form = await http.Request.ReadFormAsync(ct);
        if (RepeatedParameter(form) is { } repeated) return repeated;
        var (introspector, clientError) = await clients.AuthenticateAsync(http, form, required: true, ct);
        if (clientError is not null) return clientError;
        if (introspector is { Enabled: false }) return OAuthError.InvalidClient("The client or its account is disabled.");
        var token = form["token"].ToString();
        if (token.Length == 0) return OAuthError.InvalidRequest("token is required.");
        if (token.Length > 8192) return Results.Json(new { active = false });

        if (token.Count(c => c == '.') == 2 && await accessTokens.ValidateAsync(token, ct) is { } jwt)
            return Results.Json(new Dictionary<string, object?>
            {
                ["active"] = true,
                ["token_type"] = "Bearer",
                ["scope"] = jwt.TryGetPayloadValue<string>("scope", out var scope) ? scope : "",
                ["client_id"] = jwt.TryGetPayloadValue<string>("client_id", out var clientId) ? clientId : null,
                ["username"] = jwt.TryGetPayloadValue<string>("username", out var username) ? username : null,
                ["sub"] = jwt.Subject,
                ["aud"] = jwt.Audiences.ToArray(),
                ["iss"] = jwt.Issuer,
                ["jti"] = jwt.Id,
                ["exp"] = new DateTimeOffset(jwt.ValidTo).ToUnixTimeSeconds(),
                ["iat"] = new DateTimeOffset(jwt.IssuedAt).ToUnixTimeSeconds(),
                ["nbf"] = new DateTimeOffset(jwt.ValidFrom).ToUnixTimeSeconds(),
                ["org_id"] = jwt.TryGetPayloadValue<string>("org_id", out var org) ? org : null,
                ["unit_ids"] = jwt.TryGetPayloadValue<string[]>("unit_ids", out var units) ? units : Array.Empty<string>(),
            });
        return Results.Json(await refreshTokens.DescribeAsync(token, ct) ?? new Dictionary<string, object?> { ["active"] = false });
    }

    static async Task<IResult> RevokeAsync(HttpContext http, ClientAuthentication clients, RefreshTokens refreshTokens, AccessTokens accessTokens, CancellationToken ct)
    {
        NoStore(http);
        if (!http.Request.HasFormContentType) return OAuthError.InvalidRequest("The revocation request must be application/x-www-form-urlencoded.");
        var form = await http.Request.ReadFormAsync(ct);
        if (RepeatedParameter(form) is { } repeated) return repeated;
        var (client, clientError) = await clients.AuthenticateAsync(http, form, required: false, ct);
        if (clientError is not null) return clientError;
        if (client is { Enabled: false }) return OAuthError.InvalidClient("The client or its account is disabled.");
        var token = form["token"].ToString();
        if (token.Length == 0) return OAuthError.InvalidRequest("token is required.");
        // RFC 7009: 200 whether or not the token was valid or known (§2.2); a token issued to a client may only be
        // revoked by that client, authenticated (§2.1).
        if (token.Length > 8192) return Results.Ok();
        var revocation = await refreshTokens.RevokeAsync(token, client?.ClientId, ct);
        string? owner = null;
        if (revocation == RefreshTokens.Revocation.NotARefreshToken && token.Count(ch => ch == '.') == 2
            && await accessTokens.ValidateAsync(token, ct) is { } jwt)
        {
            owner = jwt.TryGetPayloadValue<string>("client_id", out var o) ? o : null;
            if (owner is null || owner == client?.ClientId) await accessTokens.RevokeAsync(jwt, ct);
            else revocation = RefreshTokens.Revocation.NotThisClients;
        }
        if (revocation == RefreshTokens.Revocation.NotThisClients)
            return client is null
                ? OAuthError.InvalidClient("This token was issued to a client: that client must authenticate to revoke it.")
                : OAuthError.UnauthorizedClient("This token was issued to another client.");
        return Results.Ok();
    }

    /// <summary>The requested scopes, or all of the account's when none are asked for; asking for one it lacks is invalid_scope.</summary>
    static (IReadOnlyList<string> Scopes, IResult? Error) NarrowScopes(string requested, IReadOnlyList<string> held)
    {
        var asked = requested.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct().ToList();
        if (asked.Count == 0) return (held, null);
        // offline_access alone: the account's scopes, plus a refresh token.
        if (asked is [OfflineAccess]) return ([.. held, OfflineAccess], null);
        var missing = asked.Where(s => s != OfflineAccess && !held.Contains(s)).ToList();
        return missing.Count > 0
            ? ([], OAuthError.InvalidScope($"The client may not ask for: {string.Join(' ', missing)}."))
            : (asked, null);
    }

    static IResult TokenResponse(IssuedToken token, IReadOnlyList<string> scopes, string? refreshToken)
    {
        var body = new Dictionary<string, object>
        {
            ["access_token"] = token.Token,
            ["token_type"] = "Bearer",
            ["expires_in"] = token.ExpiresIn,
            ["scope"] = string.Join(' ', scopes),
        };
        if (refreshToken is not null) body["refresh_token"] = refreshToken;
        return Results.Json(body);
    }

    /// <summary>RFC 6749 §3.1/§3.2: request parameters must not be included more than once.</summary>
    static IResult? RepeatedParameter(IFormCollection form) =>
        form.FirstOrDefault(p => p.Value.Count > 1) is { Key: { } key } ? OAuthError.InvalidRequest($"The parameter '{key}' is repeated.") : null;

    static void NoStore(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
    }
}

/// <summary>RFC 6749 §5.2 error responses.</summary>
public static class OAuthError
{
    public static IResult InvalidRequest(string description) => Error(400, "invalid_request", description);
    public static IResult InvalidGrant(string description) => Error(400, "invalid_grant", description);
    public static IResult InvalidScope(string description) => Error(400, "invalid_scope", description);
    public static IResult UnsupportedGrantType(string grant) =>
        Error(400, "unsupported_grant_type", $"grant_type '{grant}' is not supported; use client_credentials or refresh_token.");
    public static IResult InvalidClient(string description) => Error(401, "invalid_client", description);
    public static IResult UnauthorizedClient(string description) => Error(400, "unauthorized_client", description);

    static IResult Error(int status, string error, string description) =>
        Results.Json(new { error, error_description = description }, statusCode: status);
}

/// <summary>Client authentication: client_secret_basic or client_secret_post, never both.</summary>
public sealed class ClientAuthentication(AccountStore store)
{
    public sealed record AuthenticatedClient(string ClientId, Account Account, Organisation Organisation, bool Enabled);

    public async Task<(AuthenticatedClient? Client, IResult? Error)> AuthenticateAsync(HttpContext http, IFormCollection form, bool required, CancellationToken ct)
    {
        string? id = null, secret = null;
        var basic = http.Request.Headers.Authorization.ToString();
        var usedBasic = basic.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase);
        if (usedBasic)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(basic[6..].Trim()));
                var colon = decoded.IndexOf(':');
                if (colon > 0)
                {
                    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
                    id = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
                    secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
                }
            }
            catch (FormatException) { }
            if (id is null) return (null, Challenge(http, "The Basic credentials are malformed."));
            if (form.ContainsKey("client_secret")) return (null, OAuthError.InvalidRequest("Use one client authentication method, not both."));
        }
        else if (form.ContainsKey("client_id"))
        {
            id = form["client_id"].ToString();
            secret = form["client_secret"].ToString();
        }
        if (id is null) return required ? (null, OAuthError.InvalidClient("Client authentication is required.")) : (null, null);

        var login = id.Length <= 200 ? await store.FindClientLoginAsync(id, ct) : null;
        var ok = Secrets.VerifySecret(login?.Client.SecretHash, secret ?? "");
        if (!ok || login is null)
            return (null, usedBasic ? Challenge(http, "Client authentication failed.") : OAuthError.InvalidClient("Client authentication failed."));
        // Authenticated, but perhaps disabled: each endpoint answers that in its own terms (RFC 6749 §5.2).
        var enabled = login is { Client.Enabled: true, Account.Enabled: true, Organisation.Enabled: true };
        return (new AuthenticatedClient(login.Client.ClientId, login.Account, login.Organisation, enabled), null);
    }

    static IResult Challenge(HttpContext http, string description)
    {
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"thrill-id\"";
        return OAuthError.InvalidClient(description);
    }
}
