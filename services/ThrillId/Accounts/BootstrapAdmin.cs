using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillSuite.ServiceDefaults.Hosting;
using static ThrillSuite.ServiceDefaults.Settings.SettingsReader;

namespace ThrillId.Accounts;

/// <summary>
/// On the first start (no account exists) creates the platform organisation and its administrator from
/// Bootstrap:AdminUser/AdminPassword; there is no built-in password. Later starts leave both alone.
/// </summary>
public sealed class BootstrapAdmin(NpgsqlDataSource db, AccountStore store, IOptions<BootstrapOptions> options, ILogger<BootstrapAdmin> logger) : IStartupTask
{
    const long BootstrapLock = 0x7468_6964_626f_6f74;

    public async Task RunAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@BootstrapLock)", new { BootstrapLock }, cancellationToken: ct));
        try
        {
            if (await connection.ExecuteScalarAsync<bool>("select exists (select 1 from accounts)")) return;
            var o = options.Value;
            if (string.IsNullOrWhiteSpace(o.AdminUser))
                throw new StartupSettingException($"{Describe("Bootstrap:AdminUser")} is required on the first start: the first administrator's username.");
            if (AccountEndpoints.PasswordError(o.AdminPassword) is { } bad)
                throw new StartupSettingException($"{Describe("Bootstrap:AdminPassword")} is required on the first start: {bad}");
            await store.CreateOrganisationAsync(new Organisation(o.Organisation, [], true), ct);
            var permissions = System.Text.Json.JsonSerializer.Serialize(
                new[] { new SystemPermissions("thrillid", [new ResourcePermission("*", "Write")]), new SystemPermissions("*", [new ResourcePermission("*", "Write")]) }, ThrillSuite.ServiceDefaults.Http.JsonBody.Options);
            await store.CreateAsync(new Account(Guid.CreateVersion7(), o.AdminUser, Secrets.HashPassword(o.AdminPassword), Account.User,
                o.Organisation, null, permissions, true, false, DateTime.UtcNow, null, false, 0, null), ct);
            logger.LogInformation("Created the bootstrap administrator {AdminUser} in organisation {Organisation}", o.AdminUser, o.Organisation);
        }
        finally
        {
            await connection.ExecuteAsync("select pg_advisory_unlock(@BootstrapLock)", new { BootstrapLock });
        }
    }
}
