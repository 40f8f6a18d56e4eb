using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ThrillPots.Contributions;
using ThrillSuite.Data.Migrations;
using ThrillSuite.Testing;

namespace ThrillPots.Tests;

/// <summary>
/// The contribution path names brands "operator:brand" and looks them up by that name: every writer batch reads its brands'
/// flags, and wallet integration is read per brand. On a platform with thousands of brands each lookup must be an index
/// probe, not a read of the whole table (which cost ≈ 1 ms per batch with 5,000 brands). The plans are PostgreSQL's own, for
/// the statements as ThrillPots runs them, on a real database with ThrillPots' migrations.
/// </summary>
public class BrandLookupTests
{
    const int Brands = 5000;
    string database = null!;
    NpgsqlDataSource db = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync()
    {
        var connectionString = TestEnvironment.UniqueDatabase("tp_brand_lookup", out database);
        await MigrationRunner.MigrateAsync(connectionString, MigrationRunner.Load(typeof(ContributionEngine).Assembly), NullLogger.Instance,
            CancellationToken.None);
        db = NpgsqlDataSource.Create(connectionString);
        await using var c = await db.OpenConnectionAsync();
        await using var setUp = new NpgsqlCommand($"""
            insert into operators (id, name) select 'op' || g, 'Operator ' || g from generate_series(1, 50) g;
            insert into brands (operator_id, id, name) select 'op' || (g % 50 + 1), 'brand' || g, 'Brand ' || g from generate_series(1, {Brands}) g;
            analyze operators;
            analyze brands;
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
    public async Task The_writers_instance_read_finds_the_batchs_brands_through_their_names_index()
    {
        // The writer runs this statement with a generic plan (InstanceWriter.GenericPlans).
        var plan = await Plans.GenericAsync(db, InstanceWriter.ReadInstance, "uuid, text[]", $"'{Guid.NewGuid()}', array['op2:brand1', 'op3:brand2']");
        Assert.That(Plans.Scans(plan, "brands"), Is.Not.Empty, "the statement reads brands");
        Assert.That(Plans.Scans(plan, "brands"), Has.None.EqualTo("Seq Scan"), plan.ToString());
    }

    [Test]
    public async Task The_wallet_integration_lookup_is_an_index_probe()
    {
        var plan = await Plans.GenericAsync(db, WalletDebits.WalletIntegrationSql.Replace("@brandId", "$1"), "text", "'op2:brand1'");
        Assert.That(Plans.Scans(plan, "brands"), Is.Not.Empty, "the statement reads brands");
        Assert.That(Plans.Scans(plan, "brands"), Has.None.EqualTo("Seq Scan"), plan.ToString());
    }
}
