using System.Text;
using Dapper;
using Npgsql;

namespace ThrillId.IntegrationTests;

/// <summary>The bootstrap administrator, secrets at rest and start-up settings, each on processes and databases of their own.</summary>
[NonParallelizable]
public class BootstrapTests
{
    readonly List<ThrillIdConfig> configs = [];

    ThrillIdConfig NewConfig(Dictionary<string, string?>? extra = null)
    {
        var config = ThrillIdConfig.New(extra);
        configs.Add(config);
        return config;
    }

    [TearDown]
    public async Task DropDatabases()
    {
        foreach (var config in configs) await TestEnvironment.DropDatabaseAsync(config.Database);
        configs.Clear();
    }

    [Test]
    public async Task The_bootstrap_admin_is_created_once_from_configuration()
    {
        var config = NewConfig();
        string adminId;
        await using (var first = await ThrillIdInstance.StartAsync(config))
        {
            var token = await first.Client.AdminTokenAsync();
            var me = await first.Client.MeAsync(token);
            Expect.Ok(me);
            adminId = me.Str("id");
            var jwt = Jwt.Parse(token);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(me.Str("username"), Is.EqualTo("admin@thrilltech.io"));
                Assert.That(me.Str("org_id"), Is.EqualTo("thrilltech"));
                Assert.That(me.Json.GetProperty("unit_id").ValueKind, Is.EqualTo(JsonValueKind.Null));
                Assert.That(jwt.Scopes, Is.SupersetOf(new[] { "thrillid:*:write", "*:*:write" }));
                var org = await first.Client.GetAsync("/admin/organisations/thrilltech", token);
                Expect.Ok(org, "the platform organisation exists");
            }
        }

        var otherPassword = Names.Password();
        await using (var second = await ThrillIdInstance.StartAsync(config with { AdminPassword = otherPassword }))
        {
            var original = await second.Client.LoginAsync("admin@thrilltech.io", config.AdminPassword!);
            var changed = await second.Client.LoginAsync("admin@thrilltech.io", otherPassword);
            using (Assert.EnterMultipleScope())
            {
                Expect.Ok(original, "the first password still works");
                Expect.Problem(changed, HttpStatusCode.Unauthorized, "a new Bootstrap:AdminPassword does not change the admin");
            }
        }

        var otherUser = "root-" + Names.User();
        await using (var third = await ThrillIdInstance.StartAsync(config with { AdminUser = otherUser, AdminPassword = otherPassword }))
        {
            Expect.Problem(await third.Client.LoginAsync(otherUser, otherPassword), HttpStatusCode.Unauthorized,
                "no second admin once an account exists");
            // Listed as the original administrator: the configured one was never created.
            var login = await third.Client.LoginAsync("admin@thrilltech.io", config.AdminPassword!);
            Expect.Ok(login, "the original administrator still logs in");
            var accounts = await third.Client.GetAsync("/admin/accounts?org_id=thrilltech", login.Str("token"));
            Expect.Ok(accounts);
            Assert.That(accounts.Json.EnumerateArray().Select(a => a.GetProperty("id").GetString()), Is.EqualTo(new[] { adminId }), "exactly one platform account");
        }
    }

    [Test]
    public async Task Passwords_client_secrets_and_refresh_tokens_are_stored_only_as_hashes()
    {
        var config = NewConfig();
        var secrets = new Dictionary<string, string> { ["bootstrap admin password"] = config.AdminPassword! };
        await using (var instance = await ThrillIdInstance.StartAsync(config))
        {
            var id = instance.Client;
            var org = await id.NewOrgAsync("u1");
            var user = await id.NewAccountAsync(org);
            var service = await id.NewAccountAsync(org, type: "Service", permissions: ["thrillpots:instances:Read"]);
            var client = await id.NewClientAsync(service);
            var auth = await id.AuthAsync(user);
            var changedPassword = Names.Password();
            Assert.That((await id.PostJsonAsync("/accounts/password", new { password = changedPassword, current = user.Password },
                auth.GetProperty("token").GetString())).Status, Is.EqualTo(HttpStatusCode.NoContent));
            var adminSetPassword = Names.Password();
            Assert.That((await id.PostJsonAsync($"/admin/accounts/{service.Id}/password", new { password = adminSetPassword },
                await id.AdminTokenAsync())).Status, Is.EqualTo(HttpStatusCode.NoContent));
            var offline = await id.ClientCredentialsAsync(client, "offline_access");
            Expect.Ok(offline);

            secrets["user password"] = user.Password!;
            secrets["changed password"] = changedPassword;
            secrets["service password"] = service.Password!;
            secrets["admin-set password"] = adminSetPassword;
            secrets["client secret"] = client.Secret;
            secrets["user refresh token"] = auth.GetProperty("refresh_token").GetString()!;
            secrets["client refresh token"] = offline.Str("refresh_token");
            secrets["signing-key encryption key"] = config.EncryptionKey;
        }

        var rows = await EveryRowAsTextAsync(config.ConnectionString);

        Assert.That(rows, Is.Not.Empty);
        using (Assert.EnterMultipleScope())
        {
            foreach (var (what, secret) in secrets)
            {
                var hex = Convert.ToHexStringLower(Encoding.UTF8.GetBytes(secret));
                Assert.That(rows.Where(r => r.Text.Contains(secret, StringComparison.Ordinal) || r.Text.Contains(hex, StringComparison.Ordinal))
                    .Select(r => r.Table), Is.Empty, $"the {what} appears in plaintext");
            }
        }
    }

    /// <summary>Every row of every table of the service's database, as PostgreSQL's text form (bytea as hex).</summary>
    static async Task<List<(string Table, string Text)>> EveryRowAsTextAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var tables = await connection.QueryAsync<(string Schema, string Name)>("""
            select table_schema, table_name from information_schema.tables
            where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
            """);
        var rows = new List<(string, string)>();
        foreach (var (schema, name) in tables)
        {
            var sql = $"select t::text from \"{schema.Replace("\"", "\"\"")}\".\"{name.Replace("\"", "\"\"")}\" t";
            rows.AddRange((await connection.QueryAsync<string>(sql)).Select(text => ($"{schema}.{name}", text)));
        }
        return rows;
    }

    [Test]
    public async Task Without_any_account_the_bootstrap_admin_settings_are_required()
    {
        var config = NewConfig() with { AdminPassword = null };

        await using var process = ThrillIdInstance.Launch(config, out _);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.That(exit, Is.EqualTo(2), process.Output);
        Assert.That(process.Output, Does.Contain("Bootstrap:AdminPassword"));
    }

    [Test]
    public async Task Once_an_account_exists_the_bootstrap_settings_may_go()
    {
        var config = NewConfig();
        await using (var first = await ThrillIdInstance.StartAsync(config)) await first.Client.AdminTokenAsync();

        await using var second = await ThrillIdInstance.StartAsync(config with
        {
            AdminPassword = null,
            Extra = new Dictionary<string, string?>(config.Extra) { ["Bootstrap__AdminUser"] = null },
        });

        Expect.Ok(await second.Client.LoginAsync("admin@thrilltech.io", config.AdminPassword!));
    }

    [Test]
    public async Task Missing_thrillid_settings_stop_start_up_naming_each()
    {
        var config = NewConfig(new Dictionary<string, string?> { ["ThrillId__Issuer"] = null, ["SigningKeys__EncryptionKey"] = null });

        await using var process = ThrillIdInstance.Launch(config, out _);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.That(exit, Is.EqualTo(2), process.Output);
        Assert.That(process.Output, Does.Contain("ThrillId:Issuer").And.Contain("SigningKeys:EncryptionKey"));
    }

    [TestCase("SigningKeys__EncryptionKey", "c2hvcnQta2V5", "SigningKeys:EncryptionKey", TestName = "An_encryption_key_of_9_bytes_is_refused")]
    [TestCase("SigningKeys__EncryptionKey", "not base64 at all!", "SigningKeys:EncryptionKey", TestName = "An_encryption_key_not_in_base64_is_refused")]
    [TestCase("ThrillId__Issuer", "not-an-absolute-uri", "ThrillId:Issuer", TestName = "A_relative_issuer_is_refused")]
    [TestCase("SigningKeys__Algorithm", "HS256", "SigningKeys:Algorithm", TestName = "A_symmetric_signing_algorithm_is_refused")]
    [TestCase("SigningKeys__Algorithm", "none", "SigningKeys:Algorithm", TestName = "Algorithm_none_is_refused")]
    [TestCase("Login__MaxFailures", "zero", "Login:MaxFailures", TestName = "A_non_numeric_MaxFailures_is_refused")]
    [TestCase("ThrillId__UserTokenLifetimeSeconds", "1800s", "ThrillId:UserTokenLifetimeSeconds", TestName = "A_non_numeric_token_lifetime_is_refused")]
    [TestCase("ThrillId__UserTokenLifetimeSeconds", "0", "ThrillId:UserTokenLifetimeSeconds", TestName = "A_zero_token_lifetime_is_refused")]
    public async Task A_malformed_thrillid_setting_stops_start_up_naming_it(string variable, string value, string setting)
    {
        var config = NewConfig(new Dictionary<string, string?> { [variable] = value });

        await using var process = ThrillIdInstance.Launch(config, out _);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.That(exit, Is.EqualTo(2), process.Output);
        Assert.That(process.Output, Does.Contain(setting));
        if (variable == "SigningKeys__EncryptionKey") Assert.That(process.Output, Does.Not.Contain(value), "the secret is not echoed");
    }
}
