using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ThrillSuite.Data.Migrations;

namespace ThrillSuite.Data.IntegrationTests;

public class MigrationRunnerTests
{
    string connectionString = null!;
    string database = null!;

    [SetUp]
    public void NewDatabase() => connectionString = TestEnvironment.UniqueDatabase("migrations", out database);

    [TearDown]
    public Task Drop() => TestEnvironment.DropDatabaseAsync(database);

    static List<Migration> Set(params string[] extra) =>
        [.. MigrationRunner.Load(), .. extra.Select((sql, i) => new Migration("Tests", i + 1, $"step_{i + 1}", sql))];

    [Test]
    public async Task Creates_the_database_and_applies_each_migration_once()
    {
        var migrations = Set("create table widgets (id int primary key)", "alter table widgets add column name text");

        var first = await MigrationRunner.MigrateAsync(connectionString, migrations, NullLogger.Instance, CancellationToken.None);
        var second = await MigrationRunner.MigrateAsync(connectionString, migrations, NullLogger.Instance, CancellationToken.None);

        Assert.That(first, Is.EqualTo(migrations.Count));
        Assert.That(second, Is.Zero);
        await using var connection = new NpgsqlConnection(connectionString);
        var ids = (await connection.QueryAsync<string>("select id from schema_migrations order by applied_at, id")).ToList();
        Assert.That(ids, Is.EquivalentTo(migrations.Select(m => m.Id)));
        Assert.That(await connection.ExecuteScalarAsync<int>("select count(*) from information_schema.columns where table_name = 'widgets'"), Is.EqualTo(2));
    }

    [Test]
    public async Task Replicas_migrating_at_once_apply_everything_exactly_once()
    {
        var migrations = Set("create table gadgets (id int primary key)", "insert into gadgets values (1)");

        var applied = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            Task.Run(() => MigrationRunner.MigrateAsync(connectionString, migrations, NullLogger.Instance, CancellationToken.None))));

        Assert.That(applied.Sum(), Is.EqualTo(migrations.Count), "each migration applied by exactly one replica");
        await using var connection = new NpgsqlConnection(connectionString);
        Assert.That(await connection.ExecuteScalarAsync<int>("select count(*) from gadgets"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_migration_edited_after_it_was_applied_stops_start_up()
    {
        await MigrationRunner.MigrateAsync(connectionString, Set("create table things (id int)"), NullLogger.Instance, CancellationToken.None);

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() =>
            MigrationRunner.MigrateAsync(connectionString, Set("create table things (id bigint)"), NullLogger.Instance, CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("Tests:0001"));
    }

    [Test]
    public async Task A_failing_migration_leaves_nothing_half_applied()
    {
        var migrations = Set("create table partial (id int)", "insert into partial values (1); select 1/0");

        Assert.ThrowsAsync<PostgresException>(() => MigrationRunner.MigrateAsync(connectionString, migrations, NullLogger.Instance, CancellationToken.None));

        await using var connection = new NpgsqlConnection(connectionString);
        Assert.That(await connection.ExecuteScalarAsync<int>("select count(*) from partial"), Is.Zero);
        Assert.That(await connection.ExecuteScalarAsync<bool>("select exists (select 1 from schema_migrations where id = 'Tests:0002')"), Is.False);
    }
}
