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
        if (account is null)
        {
            // Unknown usernames lock out exactly like real ones, or the 429 would tell which usernames exist.
            Secrets.VerifyPassword(null, password);
            var unknownLock = unknown.Fail(username.ToLowerInvariant(), o.MaxFailures, TimeSpan.FromSeconds(o.LockoutSeconds));
            return (null, unknownLock is { } u ? Locked(u) : WrongCredentials);
        }
        if (account.LockedUntil is { } locked && locked > DateTime.UtcNow)
            return (null, Locked(locked));
        if (!Secrets.VerifyPassword(account.PasswordHash, password))
        {
            await store.RecordFailureAsync(account.Id, o.MaxFailures, TimeSpan.FromSeconds(o.LockoutSeconds), ct);
            var after = await store.FindAsync(account.Id, ct);
            return after?.LockedUntil is { } now && now > DateTime.UtcNow ? (null, Locked(now)) : (null, WrongCredentials);
        }
        var organisation = await store.FindOrganisationAsync(account!.OrgId, ct);
        if (!account.Enabled || organisation is not { Enabled: true })
            return (null, new LoginRefusal(StatusCodes.Status401Unauthorized, "Account disabled", "The account or its organisation is disabled."));
        await store.RecordLoginAsync(account.Id, ct);
        return (account, null);
    }

    static readonly LoginRefusal WrongCredentials =
        new(StatusCodes.Status401Unauthorized, "Invalid credentials", "The username or password is wrong.");

    readonly UnknownUsernames unknown = new();

    /// <summary>Failure counts of usernames that do not exist, bounded so random names cannot fill memory.</summary>
    sealed class UnknownUsernames
    {
        const int MaxEntries = 50_000;
        readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int Failures, DateTime? LockedUntil, DateTime Seen)> entries = new();

        /// <summary>Counts a failure; returns the lock's end while locked.</summary>
        public DateTime? Fail(string username, int maxFailures, TimeSpan lockout)
        {
            var now = DateTime.UtcNow;
            if (entries.Count > MaxEntries)
                foreach (var (key, value) in entries)
                    if (value.Seen < now - lockout - TimeSpan.FromMinutes(10)) entries.TryRemove(key, out _);
            var entry = entries.AddOrUpdate(username,
                _ => maxFailures <= 1 ? (0, now + lockout, now) : (1, null, now),
                (_, e) => e.LockedUntil > now ? e with { Seen = now }
                    : e.Failures + 1 >= maxFailures ? (0, now + lockout, now) : (e.Failures + 1, null, now));
            return entry.LockedUntil > now ? entry.LockedUntil : null;
        }
    }

    static LoginRefusal Locked(DateTime until) => new(StatusCodes.Status429TooManyRequests, "Account locked",
        "Too many failed logins: the account is locked for a while.", Math.Max(1, (int)Math.Ceiling((until - DateTime.UtcNow).TotalSeconds)));
}
