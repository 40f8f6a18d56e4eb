namespace BitBridge.IntegrationTests;

/// <summary>
/// BitBridge takes in every event ThrillPots publishes (a JackpotUpdated per live instance and second among them) and chooses
/// a template for each delivery. On a platform with thousands of dispatchers and templates each choice must be an index
/// probe: PostgreSQL's plans of the statements as BitBridge runs them (generic and custom: Dapper prepares statements it runs
/// often), on a database of their own with BitBridge's migrations and 5,000 of each.
/// </summary>
public class PlanTests
{
    PlanDatabase db = null!;

    // 50 operators' dispatchers bound to a brand, to the operator or to nothing; a template per brand, per operator and a global one.
    [OneTimeSetUp]
    public async Task CreateDatabaseAsync() => db = await PlanDatabase.CreateAsync("bb_plans", typeof(Events.EventIntake).Assembly, """
        insert into dispatchers (id, dispatcher_type, operator_id, brand_id, owner_id, event_types, config)
        select 'd' || g, 'Webhook', case when g % 100 = 0 then null else 'op' || (g % 50) end,
               case when g % 10 = 0 then null else 'brand' || g end, 'op' || (g % 50), array['JackpotWon', 'JackpotUpdated'], '{}'
        from generate_series(1, 5000) g;
        insert into templates (id, owner_id, operator_id, brand_id, dispatcher_type, event_type, body)
        select 't' || g, 'op' || (g % 50), 'op' || (g % 50), 'brand' || g, 'Webhook', 'JackpotWon', '{}' from generate_series(1, 5000) g
        union all select 'to' || g, 'op' || g, 'op' || g, null, 'Webhook', 'JackpotWon', '{}' from generate_series(0, 49) g
        union all select 'tg', 'platform', null, null, 'Webhook', 'JackpotWon', '{}'
        """);

    [OneTimeTearDown]
    public Task DropDatabaseAsync() => db.DisposeAsync().AsTask();

    [TestCase(true)]
    [TestCase(false)]
    public async Task An_events_dispatchers_are_found_through_their_scope(bool generic)
    {
        var sql = Events.EventIntake.Store.Replace("@eventId", "$1").Replace("@type", "$2").Replace("@operatorId", "$3")
            .Replace("@brandId", "$4").Replace("@payload", "$5");
        var plan = await db.ExplainAsync(sql, "uuid, text, text, text, text", $"'{Guid.NewGuid()}', 'JackpotWon', 'op7', 'brand57', '{{}}'", generic);
        Plans.AssertNoWholeRead(plan, "dispatchers");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task A_deliverys_template_is_found_through_its_scope(bool generic)
    {
        var sql = Templates.TemplateEndpoints.Choose.Replace("@dispatcherType", "$1").Replace("@eventType", "$2")
            .Replace("@operatorId", "$3").Replace("@brandId", "$4");
        var plan = await db.ExplainAsync(sql, "text, text, text, text", "'Webhook', 'JackpotWon', 'op7', 'brand57'", generic);
        Plans.AssertNoWholeRead(plan, "templates");
    }
}
