using ThrillId.Tokens;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillId.Accounts;

/// <summary>The ThrillTech-compatible account endpoints (spec §1.2, §1.3).</summary>
public static class AccountEndpoints
{
    public sealed record Credentials(string? Username, string? Password);
    public sealed record RefreshRequest(string? Token);
    public sealed record PasswordChange(string? Password, string? Current);
    public sealed record ForgotPassword(string? Username);
    public sealed record PasswordReset(string? Username, string? Otp, string? Password);
    public sealed record AuthResponse(string Token, string RefreshToken, string? Secret, AccessTo AccessTo,
        IReadOnlyDictionary<string, string> Properties, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Services);
    public sealed record ServiceToken(string Token);

    public const int MinPassword = 12;
    public const int MaxPassword = 256;

    public static void MapAccountEndpoints(this WebApplication app)
    {
        var accounts = app.MapGroup("/accounts").WithTags("Accounts");
        accounts.MapPost("/auth", AuthenticateAsync).RequireRateLimiting(LoginRateLimit.Policy);
        accounts.MapPost("/refresh", RefreshAsync).RequireRateLimiting(LoginRateLimit.Policy);
        accounts.MapGet("/me", MeAsync).RequireToken();
        accounts.MapPost("/password", ChangePasswordAsync).RequireToken().RequireRateLimiting(LoginRateLimit.Policy);
        accounts.MapPost("/password/forgot", ForgotPasswordAsync).RequireRateLimiting(LoginRateLimit.Policy);
        accounts.MapPost("/password/reset", ResetPasswordAsync).RequireRateLimiting(LoginRateLimit.Policy);
        app.MapPost("/authenticate/service", AuthenticateServiceAsync).WithTags("Accounts").RequireRateLimiting(LoginRateLimit.Policy);
    }

    static async Task<IResult> AuthenticateAsync(HttpContext http, Logins logins, Issuer issuer, CancellationToken ct)
    {
        var (credentials, error) = await ReadCredentialsAsync(http.Request);
        if (error is not null) return error;
        var (account, refusal) = await logins.VerifyAsync(credentials!.Username!, credentials.Password!, ct);
        if (refusal is not null) return refusal.ToResult(http);
        return Results.Ok(await issuer.AuthResponseAsync(account!, ct));
    }

    static async Task<IResult> AuthenticateServiceAsync(HttpContext http, Logins logins, Issuer issuer, CancellationToken ct)
    {
        var (credentials, error) = await ReadCredentialsAsync(http.Request);
        if (error is not null) return error;
        var (account, refusal) = await logins.VerifyAsync(credentials!.Username!, credentials.Password!, ct);
        if (refusal is not null) return refusal.ToResult(http);
        if (account!.AccountType != Account.Service)
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Not a service account",
                detail: "POST /authenticate/service authenticates Service accounts; use POST /accounts/auth for users.");
        var token = await issuer.AccessTokenAsync(account, ct);
        return Results.Ok(new ServiceToken(token.Token));
    }

    static async Task<IResult> RefreshAsync(HttpContext http, RefreshTokens refreshTokens, AccountStore store, Issuer issuer, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<RefreshRequest>(http.Request);
        if (error is not null) return error;
        if (string.IsNullOrWhiteSpace(body!.Token) || body.Token.Length > 512) return Problems.BadRequest("token", "Required: the refresh_token of a previous AuthResponse.");
        var (redeemed, failure) = await refreshTokens.RedeemAsync(body.Token, clientId: null, ct);
        var account = redeemed is null ? null : await store.FindAsync(redeemed.AccountId, ct);
        if (redeemed is null || account is not { Enabled: true })
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Invalid refresh token",
                detail: failure == RedeemFailure.Reused
                    ? "This refresh token was already used; every token of its login is now revoked. Authenticate again."
                    : "The refresh token is unknown, expired, revoked or its account is disabled.");
        return Results.Ok(await issuer.AuthResponseAsync(account, ct, redeemed.NewToken));
    }

    static async Task<IResult> MeAsync(HttpContext http, AccountStore store, CancellationToken ct)
    {
        var account = Guid.TryParse(http.User.Subject(), out var id) ? await store.FindAsync(id, ct) : null;
        if (account is null) return Problems.NotFound("The token's account no longer exists.");
        var org = await store.FindOrganisationAsync(account.OrgId, ct);
        return Results.Ok(AccountDoc.From(account, org?.Units ?? []));
    }

    static async Task<IResult> ChangePasswordAsync(HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<PasswordChange>(http.Request);
        if (error is not null) return error;
        if (PasswordError(body!.Password) is { } bad) return Problems.BadRequest("password", bad);
        var account = Guid.TryParse(http.User.Subject(), out var id) ? await store.FindAsync(id, ct) : null;
        if (account is null) return Problems.NotFound("The token's account no longer exists.");
        if (string.IsNullOrEmpty(body.Current) || !Secrets.VerifyPassword(account.PasswordHash, body.Current))
            return Problems.BadRequest("current", "Required: the account's current password (spec 0.1.26).");
        await store.SetPasswordAsync(account.Id, body.Password!, ct);
        return Results.NoContent();
    }

    /// <summary>Spec §1.2 row 4: the same 204 whether or not the account exists, so it reveals no usernames.</summary>
    static async Task<IResult> ForgotPasswordAsync(HttpContext http, PasswordResets resets, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<ForgotPassword>(http.Request);
        if (error is not null) return error;
        if (UsernameError(body!.Username) is { } bad) return Problems.BadRequest("username", bad);
        await resets.StartAsync(body.Username!, ct);
        return Results.NoContent();
    }

    /// <summary>Spec §1.2 row 5: 204 when the one-time password is right; one generic 400 for every wrong, expired or used one.</summary>
    static async Task<IResult> ResetPasswordAsync(HttpContext http, PasswordResets resets, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<PasswordReset>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (UsernameError(body!.Username) is { } badUser) errors["username"] = [badUser];
        if (string.IsNullOrWhiteSpace(body.Otp) || body.Otp.Length > 32) errors["otp"] = ["Required: the one-time password of the forgot-password email."];
        if (PasswordError(body.Password) is { } badPassword) errors["password"] = [badPassword];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (await resets.CompleteAsync(body.Username!, body.Otp!.Trim(), body.Password!, ct) == ResetOutcome.Done) return Results.NoContent();
        return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid or expired one-time password",
            detail: "The one-time password is wrong, expired, already used or void after too many attempts; start again with POST /accounts/password/forgot.");
    }

    static string? UsernameError(string? username) =>
        string.IsNullOrWhiteSpace(username) || username.Length > 200 ? "Required, at most 200 characters." : null;

    static async Task<(Credentials? Value, IResult? Error)> ReadCredentialsAsync(HttpRequest request)
    {
        var (body, error) = await JsonBody.ReadAsync<Credentials>(request);
        if (error is not null) return (null, error);
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body!.Username) || body.Username.Length > 200) errors["username"] = ["Required, at most 200 characters."];
        if (string.IsNullOrEmpty(body.Password) || body.Password.Length > MaxPassword) errors["password"] = [$"Required, at most {MaxPassword} characters."];
        return errors.Count > 0 ? (null, Problems.BadRequest(errors)) : (body, null);
    }

    public static string? PasswordError(string? password) =>
        password is null || password.Length < MinPassword || password.Length > MaxPassword
            ? $"Required: {MinPassword}-{MaxPassword} characters."
            : null;
}
