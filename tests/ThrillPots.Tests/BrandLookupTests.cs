using ThrillPots.Contributions;
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
    PlanDatabase db = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync() => db = await PlanDatabase.CreateAsync("tp_brand_lookup", typeof(ContributionEngine).Assembly, """
        insert into operators (id, name) select 'op' || g, 'Operator ' || g from generate_series(1, 50) g;
        insert into brands (operator_id, id, name) select 'op' || (g % 50 + 1), 'brand' || g, 'Brand ' || g from generate_series(1, 5000) g
        """);

    [OneTimeTearDown]
    public Task DropDatabaseAsync() => db.DisposeAsync().AsTask();

    [Test]
    public async Task The_writers_instance_read_finds_the_batchs_brands_through_their_names_index()
    {
        // The writer runs this statement with a generic plan (InstanceWriter.GenericPlans).
        var plan = await db.ExplainAsync(InstanceWriter.ReadInstance, "uuid, text[]", $"'{Guid.NewGuid()}', array['op2:brand1', 'op3:brand2']");
        Plans.AssertNoWholeRead(plan, "brands");
    }

    [Test]
    public async Task The_wallet_integration_lookup_is_an_index_probe()
    {
        var plan = await db.ExplainAsync(WalletDebits.WalletIntegrationSql.Replace("@brandId", "$1"), "text", "'op2:brand1'");
        Plans.AssertNoWholeRead(plan, "brands");
    }
}
