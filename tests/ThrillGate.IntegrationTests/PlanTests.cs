namespace ThrillGate.IntegrationTests;

/// <summary>
/// Paid credits pile up for ever; what ThrillGate reads every few seconds must not read them. PostgreSQL's plans of its
/// statements (generic: Dapper prepares statements it runs often), on a database of their own with ThrillGate's migrations
/// and 100,000 credits, almost all paid.
/// </summary>
public class PlanTests
{
    PlanDatabase db = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync() => db = await PlanDatabase.CreateAsync("tg_plans", typeof(Credits.CreditSender).Assembly, """
        insert into credits (win_id, transaction_id, instance_id, pot_id, operator_id, brand_id, player_id, currency, amount, state)
        select gen_random_uuid(), 'win-' || g, gen_random_uuid(), 'pot', 'op', 'brand', 'p' || g, 'EUR', 1,
               case when g % 1000 = 1 then 'queued' when g % 1000 = 2 then 'pending' when g % 1000 = 3 then 'failed' else 'paid' end
        from generate_series(1, 100000) g
        """);

    [OneTimeTearDown]
    public Task DropDatabaseAsync() => db.DisposeAsync().AsTask();

    [Test]
    public async Task The_owed_credits_are_counted_without_reading_the_paid_ones() =>
        Plans.AssertNoWholeRead(await db.ExplainAsync(Credits.CreditSender.OwedCount, "", ""), "credits");
}
