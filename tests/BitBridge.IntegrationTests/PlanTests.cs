using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ThrillSuite.Data.Migrations;

namespace BitBridge.IntegrationTests;

/// <summary>
/// BitBridge takes in every event ThrillPots publishes (a JackpotUpdated per live instance and second among them) and chooses
/// a template for each delivery. On a platform with thousands of dispatchers and templates each choice must be an index
/// probe: PostgreSQL's plans of the statements as BitBridge runs them (generic and custom: Dapper prepares statements it runs
/// often), on a database of their own with BitBridge's migrations and 5,000 of each.
/// </summary>
public class PlanTests
{
    string database = null!;
    NpgsqlDataSource db = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync()
    {
        var connectionString = TestEnvironment.UniqueDatabase("bb_plans", out database);
        await MigrationRunner.MigrateAsync(connectionString, MigrationRunner.Load(typeof(Events.EventIntake).Assembly), NullLogger.Instance,
            CancellationToken.None);
        db = NpgsqlDataSource.Create(connectionString);
        await using var c = await db.OpenConnectionAsync();
        // 50 operators' dispatchers bound to a brand, to the operator or to nothing; a template per brand, per operator and a global one.
        await using var setUp = new NpgsqlCommand("""
            insert into dispatchers (id, dispatcher_type, operator_id, brand_id, owner_id, event_types, config)
            select 'd' || g, 'Webhook', case when g % 100 = 0 then null else 'op' || (g % 50) end,
                   case when g % 10 = 0 then null else 'brand' || g end, 'op' || (g % 50), array['JackpotWon', 'JackpotUpdated'], '{}'
            from generate_series(1, 5000) g;
            insert into templates (id, owner_id, operator_id, brand_id, dispatcher_type, event_type, body)
            select 't' || g, 'op' || (g % 50), 'op' || (g % 50), 'brand' || g, 'Webhook', 'JackpotWon', '{}' from generate_series(1, 5000) g
            union all select 'to' || g, 'op' || g, 'op' || g, null, 'Webhook', 'JackpotWon', '{}' from generate_series(0, 49) g
            union all select 'tg', 'platform', null, null, 'Webhook', 'JackpotWon', '{}';
            analyze dispatchers;
            analyze templates;
            """, c);
        await setUp.ExecuteNonQueryAsync();
    }

    [OneTimeTearDown]
    public async Task DropDatabaseAsync()
    {
        await db.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task An_events_dispatchers_are_found_through_their_scope(bool generic)
    {
        var sql = Events.EventIntake.Store.Replace("@eventId", "$1").Replace("@type", "$2").Replace("@operatorId", "$3")
            .Replace("@brandId", "$4").Replace("@payload", "$5");
        var plan = await Plans.ExplainAsync(db, sql, "uuid, text, text, text, text", $"'{Guid.NewGuid()}', 'JackpotWon', 'op7', 'brand57', '{{}}'", generic);
        AssertNoWholeRead(plan, "dispatchers");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task A_deliverys_template_is_found_through_its_scope(bool generic)
    {
        var sql = Templates.TemplateEndpoints.Choose.Replace("@dispatcherType", "$1").Replace("@eventType", "$2")
            .Replace("@operatorId", "$3").Replace("@brandId", "$4");
        var plan = await Plans.ExplainAsync(db, sql, "text, text, text, text", "'Webhook', 'JackpotWon', 'op7', 'brand57'", generic);
        AssertNoWholeRead(plan, "templates");
    }

    static void AssertNoWholeRead(JsonElement plan, string relation)
    {
        Assert.That(Plans.Scans(plan, relation), Is.Not.Empty, $"the statement reads {relation}");
        Assert.That(Plans.Scans(plan, relation), Has.None.EqualTo("Seq Scan"), plan.ToString());
    }
}
