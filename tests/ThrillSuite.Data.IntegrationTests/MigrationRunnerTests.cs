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

    [Test]
    public async Task The_outbox_archive_migration_keeps_every_message_and_leaves_only_pending_ones_in_the_queue()
    {
        var all = MigrationRunner.Load();
        var before = all.Where(m => m.Version < 5).ToList();
        Assert.That(before, Has.Count.EqualTo(all.Count - 1), "0005_outbox_published.sql is the last of the platform's migrations");
        await MigrationRunner.MigrateAsync(connectionString, before, NullLogger.Instance, CancellationToken.None);
        await using var connection = new NpgsqlConnection(connectionString);
        // Three published (one secret, blanked), two pending (one with a failed attempt).
        await connection.ExecuteAsync("""
            insert into outbox_messages (id, message_type, body, created_at, published_at, attempts, last_error, destination, secret) values
                ('00000000-0000-0000-0000-000000000001', 'T', '{"n": 1}', '2026-01-01Z', '2026-01-01 00:00:01Z', 1, null, null, false),
                ('00000000-0000-0000-0000-000000000002', 'T', '{}', '2026-01-01Z', '2026-01-01 00:00:02Z', 1, null, null, true),
                ('00000000-0000-0000-0000-000000000003', 'C', '{"n": 3}', '2026-01-02Z', '2026-01-02 00:00:01Z', 2, null, 'queue', false),
                ('00000000-0000-0000-0000-000000000004', 'T', '{"n": 4}', '2026-01-03Z', null, 3, 'broker away', null, false),
                ('00000000-0000-0000-0000-000000000005', 'C', '{"n": 5}', '2026-01-04Z', null, 0, null, 'queue', true)
            """);
        const string rows = """
            select id::text, message_type, body::text, created_at, published_at, attempts, last_error, destination, secret from {0} order by id
            """;
        var everything = (await connection.QueryAsync(string.Format(rows, "outbox_messages"))).Select(r => (string)r.ToString()).ToList();

        await MigrationRunner.MigrateAsync(connectionString, all, NullLogger.Instance, CancellationToken.None);

        var queue = (await connection.QueryAsync<string>("select id::text from outbox_messages order by id")).ToList();
        var archive = (await connection.QueryAsync<string>("select id::text from outbox_published order by id")).ToList();
        Assert.That(queue, Is.EqualTo(new[] { "00000000-0000-0000-0000-000000000004", "00000000-0000-0000-0000-000000000005" }));
        Assert.That(archive, Is.EqualTo(new[] { "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002",
            "00000000-0000-0000-0000-000000000003" }));
        Assert.That((await connection.QueryAsync(string.Format(rows, "outbox_all"))).Select(r => (string)r.ToString()), Is.EqualTo(everything),
            "every message as it was, field by field");
        // The queue takes new messages as before.
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await Outbox.Outbox.EnqueueAsync(tx, new ThrillSuite.Contracts.DiagnosticProbeCompleted(Guid.NewGuid(), "t", "t", "", DateTimeOffset.UtcNow));
        await tx.CommitAsync();
        Assert.That(await connection.ExecuteScalarAsync<long>("select count(*) from outbox_messages where published_at is null"), Is.EqualTo(3));
    }
}
