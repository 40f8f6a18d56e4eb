using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ThrillSuite.Data.Migrations;

namespace ThrillGate.IntegrationTests;

/// <summary>
/// Paid credits pile up for ever; what ThrillGate reads every few seconds must not read them. PostgreSQL's plans of its
/// statements (generic: Dapper prepares statements it runs often), on a database of their own with ThrillGate's migrations
/// and 100,000 credits, almost all paid.
/// </summary>
public class PlanTests
{
    string database = null!;
    NpgsqlDataSource db = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync()
    {
        var connectionString = TestEnvironment.UniqueDatabase("tg_plans", out database);
        await MigrationRunner.MigrateAsync(connectionString, MigrationRunner.Load(typeof(Credits.CreditSender).Assembly), NullLogger.Instance,
            CancellationToken.None);
        db = NpgsqlDataSource.Create(connectionString);
        await using var c = await db.OpenConnectionAsync();
        await using var setUp = new NpgsqlCommand("""
            insert into credits (win_id, transaction_id, instance_id, pot_id, operator_id, brand_id, player_id, currency, amount, state)
            select gen_random_uuid(), 'win-' || g, gen_random_uuid(), 'pot', 'op', 'brand', 'p' || g, 'EUR', 1,
                   case when g % 1000 = 1 then 'queued' when g % 1000 = 2 then 'pending' when g % 1000 = 3 then 'failed' else 'paid' end
            from generate_series(1, 100000) g;
            analyze credits;
            """, c);
        await setUp.ExecuteNonQueryAsync();
    }

    [OneTimeTearDown]
    public async Task DropDatabaseAsync()
    {
        await db.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
    }

    [Test]
    public async Task The_owed_credits_are_counted_without_reading_the_paid_ones()
    {
        var plan = await Plans.GenericAsync(db, Credits.CreditSender.OwedCount, "", "");
        Assert.That(Plans.Scans(plan, "credits"), Is.Not.Empty, "the statement reads credits");
        Assert.That(Plans.Scans(plan, "credits"), Has.None.EqualTo("Seq Scan").And.None.EqualTo("Parallel Seq Scan"), plan.ToString());
    }
}
