using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillSuite.Contracts.Id;
using ThrillSuite.Data.Outbox;

namespace ThrillId.Accounts;

public enum ResetOutcome { Done, Invalid }

/// <summary>
/// The forgot-password flow (spec §1.2 rows 4-5, §1.6): a start stores an HMAC of a fresh one-time password and writes
/// <see cref="ForgotPasswordStarted"/> to the outbox in the same transaction (BitBridge mails it); a completion with that
/// password sets the new password once. The one-time password is never logged.
/// </summary>
public sealed class PasswordResets(NpgsqlDataSource db, IOptions<PasswordResetOptions> options, IOptions<SigningKeyOptions> keys)
{
    readonly byte[] otpKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, keys.Value.EncryptionKeyBytes, 32,
        info: Encoding.UTF8.GetBytes("thrillid/password-reset-otp"));

    sealed record Target(Guid Id, string Username, string OrgId, string? UnitId);
    sealed record Pending(string? OtpHash, DateTime? ExpiresAt, int Attempts, DateTime WindowStartedAt, int StartsInWindow, DateTime Now);

    const string LockAccount = """
        select id as Id, username as Username, org_id as OrgId, unit_id as UnitId
        from accounts where lower(username) = lower(@username) and enabled and account_type = 'User'
        for update
        """;
    const string LockPending = """
        select otp_hash as OtpHash, expires_at as ExpiresAt, attempts as Attempts, window_started_at as WindowStartedAt,
               starts_in_window as StartsInWindow, now() as Now
        from password_resets where account_id = @id for update
        """;

    /// <summary>Starts a reset when <paramref name="username"/> names an enabled User account and its start limit allows;
    /// otherwise does nothing. The caller answers the same either way.</summary>
    public async Task StartAsync(string username, CancellationToken ct)
    {
        var o = options.Value;
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var account = await c.QuerySingleOrDefaultAsync<Target>(new CommandDefinition(LockAccount, new { username }, tx, cancellationToken: ct));
        if (account is null) return;
        var pending = await c.QuerySingleOrDefaultAsync<Pending>(new CommandDefinition(LockPending, new { id = account.Id }, tx, cancellationToken: ct));
        var now = await c.ExecuteScalarAsync<DateTime>(new CommandDefinition("select now()", transaction: tx, cancellationToken: ct));
        var window = TimeSpan.FromSeconds(o.StartWindowSeconds);
        var (windowStart, starts) = pending is null || pending.WindowStartedAt <= now - window
            ? (now, 1)
            : (pending.WindowStartedAt, pending.StartsInWindow + 1);
        if (starts > o.MaxStarts) return;

        var otp = RandomNumberGenerator.GetInt32(0, (int)Math.Pow(10, o.OtpDigits)).ToString("D" + o.OtpDigits);
        var expiresAt = now.AddSeconds(o.OtpLifetimeSeconds);
        const string upsert = """
            insert into password_resets (account_id, otp_hash, expires_at, attempts, window_started_at, starts_in_window)
            values (@id, @hash, @expiresAt, 0, @windowStart, @starts)
            on conflict (account_id) do update set otp_hash = excluded.otp_hash, expires_at = excluded.expires_at, attempts = 0,
                window_started_at = excluded.window_started_at, starts_in_window = excluded.starts_in_window;
            update accounts set pending_password_reset = true where id = @id;
            """;
        await c.ExecuteAsync(new CommandDefinition(upsert, new { id = account.Id, hash = HashOtp(otp), expiresAt, windowStart, starts }, tx, cancellationToken: ct));
        await Outbox.EnqueueSecretAsync(tx, new ForgotPasswordStarted(account.Username, otp, account.OrgId, account.UnitId,
            new DateTimeOffset(expiresAt, TimeSpan.Zero).ToUnixTimeMilliseconds(), new DateTimeOffset(now, TimeSpan.Zero).ToUnixTimeMilliseconds()), ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Sets <paramref name="password"/> when <paramref name="otp"/> is the account's pending, unexpired one-time password.
    /// A wrong one counts an attempt; at the last allowed attempt the pending one is void. Success revokes the account's refresh tokens.</summary>
    public async Task<ResetOutcome> CompleteAsync(string username, string otp, string password, CancellationToken ct)
    {
        var o = options.Value;
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var account = await c.QuerySingleOrDefaultAsync<Target>(new CommandDefinition(LockAccount, new { username }, tx, cancellationToken: ct));
        var pending = account is null ? null
            : await c.QuerySingleOrDefaultAsync<Pending>(new CommandDefinition(LockPending, new { id = account.Id }, tx, cancellationToken: ct));
        // Verified even without a pending password, so every refusal costs the same.
        var matches = VerifyOtp(pending?.OtpHash, otp);
        if (account is null || pending is not { OtpHash: not null, ExpiresAt: { } expiresAt } || expiresAt <= pending.Now || pending.Attempts >= o.MaxAttempts)
            return ResetOutcome.Invalid;
        if (!matches)
        {
            await c.ExecuteAsync(new CommandDefinition("""
                update password_resets set attempts = attempts + 1,
                    otp_hash = case when attempts + 1 >= @max then null else otp_hash end
                where account_id = @id
                """, new { id = account.Id, max = o.MaxAttempts }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            return ResetOutcome.Invalid;
        }
        const string reset = """
            update accounts set password_hash = @hash, pending_password_reset = false, failed_logins = 0, locked_until = null where id = @id;
            update password_resets set otp_hash = null, expires_at = null, attempts = 0 where account_id = @id;
            update refresh_tokens set revoked_at = now() where account_id = @id and revoked_at is null;
            """;
        await c.ExecuteAsync(new CommandDefinition(reset, new { id = account.Id, hash = Secrets.HashPassword(password) }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return ResetOutcome.Done;
    }

    string HashOtp(string otp)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return $"hmac-sha256${Convert.ToBase64String(salt)}${Convert.ToBase64String(Mac(salt, otp))}";
    }

    bool VerifyOtp(string? stored, string otp)
    {
        var parts = stored?.Split('$');
        byte[] salt = parts is ["hmac-sha256", var s, _] ? Convert.FromBase64String(s) : new byte[16];
        byte[] expected = parts is ["hmac-sha256", _, var h] ? Convert.FromBase64String(h) : new byte[32];
        return CryptographicOperations.FixedTimeEquals(Mac(salt, otp), expected) && parts is not null;
    }

    byte[] Mac(byte[] salt, string otp) => HMACSHA256.HashData(otpKey, (byte[])[.. salt, .. Encoding.UTF8.GetBytes(otp)]);
}
