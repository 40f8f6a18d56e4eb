using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillId.Accounts;

namespace ThrillId.Tokens;

public sealed record Redeemed(Guid AccountId, string? ClientId, string Scope, string NewToken);

public enum RedeemFailure { Unknown, Expired, Revoked, Reused, WrongClient, ClientAuthenticationRequired }

/// <summary>
/// Refresh tokens rotate on every use within a family (one login). Presenting a token that was already used means
/// it leaked: the whole family is revoked, so neither the thief nor the owner can continue (RFC 6819 §5.2.2.3).
/// </summary>
public sealed class RefreshTokens(NpgsqlDataSource db, IOptions<ThrillIdOptions> options)
{
    public async Task<string> IssueAsync(Guid accountId, string? clientId, string scope, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var token = Secrets.NewSecret();
        await c.ExecuteAsync(new CommandDefinition("""
            insert into refresh_tokens (token_hash, family_id, account_id, client_id, scope, expires_at)
            values (@hash, @family, @accountId, @clientId, @scope, now() + @lifetime)
            """, new
        {
            hash = Secrets.LookupHash(token), family = Guid.CreateVersion7(), accountId, clientId, scope,
            lifetime = TimeSpan.FromSeconds(options.Value.RefreshTokenLifetimeSeconds),
        }, cancellationToken: ct));
        return token;
    }

    /// <summary>Uses up <paramref name="token"/> and returns its successor, or why it cannot be used.</summary>
    public async Task<(Redeemed? Value, RedeemFailure Failure)> RedeemAsync(string token, string? clientId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            SelectRow + " for update", new { hash = Secrets.LookupHash(token) }, tx, cancellationToken: ct));
        if (row is null) return (null, RedeemFailure.Unknown);
        if (row.RevokedAt is not null) return (null, RedeemFailure.Revoked);
        if (row.ClientId is not null && clientId is null) return (null, RedeemFailure.ClientAuthenticationRequired);
        if (row.ClientId != clientId) return (null, RedeemFailure.WrongClient);
        if (row.UsedAt is not null)
        {
            await RevokeFamilyAsync(c, tx, row.FamilyId, ct);
            await tx.CommitAsync(ct);
            return (null, RedeemFailure.Reused);
        }
        if (row.ExpiresAt <= DateTime.UtcNow) return (null, RedeemFailure.Expired);

        var next = Secrets.NewSecret();
        await c.ExecuteAsync(new CommandDefinition("""
            update refresh_tokens set used_at = now() where token_hash = @hash;
            insert into refresh_tokens (token_hash, family_id, account_id, client_id, scope, expires_at)
            values (@next, @FamilyId, @AccountId, @ClientId, @Scope, @ExpiresAt);
            """, new { hash = Secrets.LookupHash(token), next = Secrets.LookupHash(next), row.FamilyId, row.AccountId, row.ClientId, row.Scope, row.ExpiresAt },
            tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (new Redeemed(row.AccountId, row.ClientId, row.Scope, next), default);
    }

    public enum Revocation { NotARefreshToken, Revoked, NotThisClients }

    /// <summary>Revokes the family of <paramref name="token"/> if it is the calling client's (RFC 7009 §2.1).</summary>
    public async Task<Revocation> RevokeAsync(string token, string? clientId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<(Guid FamilyId, string? ClientId)?>(new CommandDefinition(
            "select family_id, client_id from refresh_tokens where token_hash = @hash",
            new { hash = Secrets.LookupHash(token) }, tx, cancellationToken: ct));
        if (row is not { } r) return Revocation.NotARefreshToken;
        // A client's token only by that client; a token issued without a client (a login), by whoever holds it.
        if (r.ClientId is not null && r.ClientId != clientId) return Revocation.NotThisClients;
        await RevokeFamilyAsync(c, tx, r.FamilyId, ct);
        await tx.CommitAsync(ct);
        return Revocation.Revoked;
    }

    /// <summary>RFC 7662 view of a refresh token: active while unused, unrevoked and unexpired; null if unknown.</summary>
    public async Task<Dictionary<string, object?>?> DescribeAsync(string token, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(SelectRow, new { hash = Secrets.LookupHash(token) }, cancellationToken: ct));
        if (row is null || row.UsedAt is not null || row.RevokedAt is not null || row.ExpiresAt <= DateTime.UtcNow) return null;
        return new Dictionary<string, object?>
        {
            ["active"] = true,
            ["token_type"] = "refresh_token",
            ["scope"] = row.Scope,
            ["client_id"] = row.ClientId,
            ["sub"] = row.AccountId.ToString(),
            ["exp"] = new DateTimeOffset(DateTime.SpecifyKind(row.ExpiresAt, DateTimeKind.Utc)).ToUnixTimeSeconds(),
        };
    }

    const string SelectRow = """
        select family_id as FamilyId, account_id as AccountId, client_id as ClientId, scope as Scope, expires_at as ExpiresAt,
               used_at as UsedAt, revoked_at as RevokedAt
        from refresh_tokens where token_hash = @hash
        """;

    static Task RevokeFamilyAsync(NpgsqlConnection c, NpgsqlTransaction tx, Guid familyId, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition(
            "update refresh_tokens set revoked_at = now() where family_id = @familyId and revoked_at is null", new { familyId }, tx, cancellationToken: ct));

    sealed record Row(Guid FamilyId, Guid AccountId, string? ClientId, string Scope, DateTime ExpiresAt, DateTime? UsedAt, DateTime? RevokedAt);
}
