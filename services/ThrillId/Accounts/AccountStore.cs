using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillId.Accounts;

public sealed record Organisation(string Id, string[] Units, bool Enabled);

/// <summary>The registry's SQL: organisations, accounts and OAuth clients.</summary>
public sealed class AccountStore(NpgsqlDataSource db)
{
    const string AccountColumns = """
        select id as Id, username as Username, password_hash as PasswordHash, account_type as AccountType, org_id as OrgId,
               unit_id as UnitId, permissions::text as PermissionsJson, enabled as Enabled, trusted as Trusted,
               created_on as CreatedOn, last_logged_in as LastLoggedIn, pending_password_reset as PendingPasswordReset,
               failed_logins as FailedLogins, locked_until as LockedUntil
        from accounts
        """;

    public async Task<Account?> FindByUsernameAsync(string username, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(
            AccountColumns + " where lower(username) = lower(@username)", new { username }, cancellationToken: ct));
    }

    public async Task<Account?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountColumns + " where id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<Account>> ListAsync(string? orgId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. await c.QueryAsync<Account>(new CommandDefinition(
            AccountColumns + " where (@orgId::text is null or org_id = @orgId) order by org_id, lower(username)", new { orgId }, cancellationToken: ct))];
    }

    /// <summary>Inserts the account; false when the username is taken.</summary>
    public async Task<bool> CreateAsync(Account a, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        const string sql = """
            insert into accounts (id, username, password_hash, account_type, org_id, unit_id, permissions, enabled, trusted)
            values (@Id, @Username, @PasswordHash, @AccountType, @OrgId, @UnitId, cast(@PermissionsJson as jsonb), @Enabled, @Trusted)
            on conflict do nothing
            """;
        return await c.ExecuteAsync(new CommandDefinition(sql, a, cancellationToken: ct)) == 1;
    }

    public async Task UpdateAsync(Guid id, string? unitId, IReadOnlyList<SystemPermissions> permissions, bool enabled, bool trusted, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        const string sql = """
            update accounts set unit_id = @unitId, permissions = cast(@permissions as jsonb), enabled = @enabled, trusted = @trusted
            where id = @id
            """;
        await c.ExecuteAsync(new CommandDefinition(sql,
            new { id, unitId, permissions = JsonSerializer.Serialize(permissions, JsonBody.Options), enabled, trusted }, tx, cancellationToken: ct));
        // A disabled account's outstanding refresh tokens die with it; its access tokens expire on their own.
        if (!enabled)
            await c.ExecuteAsync(new CommandDefinition(
                "update refresh_tokens set revoked_at = now() where account_id = @id and revoked_at is null", new { id }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    public async Task SetPasswordAsync(Guid id, string password, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update accounts set password_hash = @hash, pending_password_reset = false, failed_logins = 0, locked_until = null where id = @id",
            new { id, hash = Secrets.HashPassword(password) }, cancellationToken: ct));
    }

    /// <summary>Records a failed login; locks the account for <paramref name="lockout"/> at the <paramref name="maxFailures"/>th in a row.</summary>
    public async Task RecordFailureAsync(Guid id, int maxFailures, TimeSpan lockout, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        const string sql = """
            update accounts set
                failed_logins = case when failed_logins + 1 >= @maxFailures then 0 else failed_logins + 1 end,
                locked_until  = case when failed_logins + 1 >= @maxFailures then now() + @lockout else locked_until end
            where id = @id
            """;
        await c.ExecuteAsync(new CommandDefinition(sql, new { id, maxFailures, lockout }, cancellationToken: ct));
    }

    public async Task RecordLoginAsync(Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update accounts set failed_logins = 0, locked_until = null, last_logged_in = now() where id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<Organisation?> FindOrganisationAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<Organisation>(new CommandDefinition(
            "select id as Id, units as Units, enabled as Enabled from organisations where id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<Organisation>> ListOrganisationsAsync(string? only, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. await c.QueryAsync<Organisation>(new CommandDefinition(
            "select id as Id, units as Units, enabled as Enabled from organisations where (@only::text is null or id = @only) order by id",
            new { only }, cancellationToken: ct))];
    }

    public async Task<bool> CreateOrganisationAsync(Organisation o, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            "insert into organisations (id, units, enabled) values (@Id, @Units, @Enabled) on conflict do nothing", o, cancellationToken: ct)) == 1;
    }

    public async Task UpdateOrganisationAsync(Organisation o, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update organisations set units = @Units, enabled = @Enabled, updated_at = now() where id = @Id", o, cancellationToken: ct));
    }

    public async Task<string> CreateClientAsync(Guid accountId, string clientId, string secret, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "insert into oauth_clients (client_id, account_id, secret_hash) values (@clientId, @accountId, @hash)",
            new { clientId, accountId, hash = Secrets.HashSecret(secret) }, cancellationToken: ct));
        return clientId;
    }

    public sealed record Client(string ClientId, Guid AccountId, string SecretHash, bool Enabled, DateTime CreatedAt);

    public async Task<Client?> FindClientAsync(string clientId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<Client>(new CommandDefinition("""
            select client_id as ClientId, account_id as AccountId, secret_hash as SecretHash, enabled as Enabled, created_at as CreatedAt
            from oauth_clients where client_id = @clientId
            """, new { clientId }, cancellationToken: ct));
    }

    public sealed record ClientLogin(Client Client, Account Account, Organisation Organisation);

    /// <summary>A client with its account and organisation in one round trip (the token endpoint's hot path).</summary>
    public async Task<ClientLogin?> FindClientLoginAsync(string clientId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        const string sql = """
            select c.client_id as ClientId, c.secret_hash as SecretHash, c.enabled as ClientEnabled, c.created_at as ClientCreatedAt,
                   a.id as Id, a.username as Username, a.password_hash as PasswordHash, a.account_type as AccountType, a.org_id as OrgId,
                   a.unit_id as UnitId, a.permissions::text as PermissionsJson, a.enabled as Enabled, a.trusted as Trusted,
                   a.created_on as CreatedOn, a.last_logged_in as LastLoggedIn, a.pending_password_reset as PendingPasswordReset,
                   a.failed_logins as FailedLogins, a.locked_until as LockedUntil, o.units as OrgUnits, o.enabled as OrgEnabled
            from oauth_clients c
            join accounts a on a.id = c.account_id
            join organisations o on o.id = a.org_id
            where c.client_id = @clientId
            """;
        var r = await c.QuerySingleOrDefaultAsync<ClientLoginRow>(new CommandDefinition(sql, new { clientId }, cancellationToken: ct));
        return r is null ? null : new ClientLogin(
            new Client(r.ClientId, r.Id, r.SecretHash, r.ClientEnabled, r.ClientCreatedAt),
            new Account(r.Id, r.Username, r.PasswordHash, r.AccountType, r.OrgId, r.UnitId, r.PermissionsJson, r.Enabled, r.Trusted,
                r.CreatedOn, r.LastLoggedIn, r.PendingPasswordReset, r.FailedLogins, r.LockedUntil),
            new Organisation(r.OrgId, r.OrgUnits, r.OrgEnabled));
    }

    sealed record ClientLoginRow(string ClientId, string SecretHash, bool ClientEnabled, DateTime ClientCreatedAt, Guid Id, string Username,
        string? PasswordHash, string AccountType, string OrgId, string? UnitId, string PermissionsJson, bool Enabled, bool Trusted,
        DateTime CreatedOn, DateTime? LastLoggedIn, bool PendingPasswordReset, int FailedLogins, DateTime? LockedUntil, string[] OrgUnits, bool OrgEnabled);

    public async Task<IReadOnlyList<Client>> ListClientsAsync(Guid accountId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. await c.QueryAsync<Client>(new CommandDefinition("""
            select client_id as ClientId, account_id as AccountId, secret_hash as SecretHash, enabled as Enabled, created_at as CreatedAt
            from oauth_clients where account_id = @accountId order by created_at
            """, new { accountId }, cancellationToken: ct))];
    }

    public async Task DisableClientAsync(string clientId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("update oauth_clients set enabled = false where client_id = @clientId", new { clientId }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition(
            "update refresh_tokens set revoked_at = now() where client_id = @clientId and revoked_at is null", new { clientId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }
}
