using System.Globalization;
using Microsoft.Extensions.Options;

namespace ThrillId.Accounts;

public sealed record LoginRefusal(int Status, string Title, string Detail, int? RetryAfterSeconds = null)
{
    public IResult ToResult(HttpContext context)
    {
        if (RetryAfterSeconds is { } s) context.Response.Headers.RetryAfter = s.ToString(CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: Status, title: Title, detail: Detail);
    }
}

/// <summary>
/// Username/password verification with per-account lockout: after Login:MaxFailures consecutive failures the account
/// is locked for Login:LockoutSeconds, during which even the right password is refused. Unknown usernames and wrong
/// passwords get the same answer in the same time (a dummy hash is verified).
/// </summary>
public sealed class Logins(AccountStore store, IOptions<LoginOptions> options)
{
    public async Task<(Account? Account, LoginRefusal? Refusal)> VerifyAsync(string username, string password, CancellationToken ct)
    {
        var o = options.Value;
        var account = await store.FindByUsernameAsync(username, ct);
        if (account?.LockedUntil is { } locked && locked > DateTime.UtcNow)
            return (null, Locked(locked));
        if (!Secrets.VerifyPassword(account?.PasswordHash, password))
        {
            if (account is not null) await store.RecordFailureAsync(account.Id, o.MaxFailures, TimeSpan.FromSeconds(o.LockoutSeconds), ct);
            var after = account is null ? null : await store.FindAsync(account.Id, ct);
            return after?.LockedUntil is { } now && now > DateTime.UtcNow
                ? (null, Locked(now))
                : (null, new LoginRefusal(StatusCodes.Status401Unauthorized, "Invalid credentials", "The username or password is wrong."));
        }
        var organisation = await store.FindOrganisationAsync(account!.OrgId, ct);
        if (!account.Enabled || organisation is not { Enabled: true })
            return (null, new LoginRefusal(StatusCodes.Status401Unauthorized, "Account disabled", "The account or its organisation is disabled."));
        await store.RecordLoginAsync(account.Id, ct);
        return (account, null);
    }

    static LoginRefusal Locked(DateTime until) => new(StatusCodes.Status429TooManyRequests, "Account locked",
        "Too many failed logins: the account is locked for a while.", Math.Max(1, (int)Math.Ceiling((until - DateTime.UtcNow).TotalSeconds)));
}
