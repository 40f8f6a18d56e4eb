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
        union all select 'tg', 'platform', null, null, 'Webhook', 'JackpotWon', '{}';
        insert into events (id, event_type, payload) select gen_random_uuid(), 'JackpotWon', '{}' from generate_series(1, 200500);
        insert into deliveries (id, event_id, dispatcher_id, next_attempt_at)
        select gen_random_uuid(), id, case when n <= 200000 then 'd1' else 'd' || (2 + n % 50) end,
               now() - interval '1 hour' + n * interval '1 ms'
        from (select id, row_number() over () as n from events) e
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

    /// <summary>
    /// 200,000 due deliveries of one dispatcher that may take nothing now (paused, or at its limit), due before 500 of 50
    /// others: the deliverer's window of the earliest due ones is full of them, and the per-dispatcher choice finds the
    /// others' reading a few rows per dispatcher, not the backlog (which the window's filter once read on every round).
    /// </summary>
    [Test]
    public async Task A_blocked_dispatchers_backlog_is_stepped_over_not_read()
    {
        var window = await RowsReadAsync(Deliveries.Deliverer.EarliestDue.Replace("@scan", "448"));
        Assert.That(window.Rows, Has.All.EqualTo("d1"), "the window holds only the blocked dispatcher's deliveries");
        Assert.That(window.Read, Is.LessThanOrEqualTo(448));

        var others = await RowsReadAsync(Deliveries.Deliverer.EarliestDuePerDispatcher
            .Replace("@blocked", "array['d1']").Replace("@perDispatcher", "8").Replace("@free", "56"));
        Assert.That(others.Rows, Has.Count.EqualTo(56).And.None.EqualTo("d1"));
        Assert.That(others.Rows.Distinct().Count(), Is.EqualTo(50), "each other dispatcher's earliest due ones, 8 at most each");
        Assert.That(others.Read, Is.LessThan(1_000), "rows of deliveries read, counting those a filter removed");
    }

    /// <summary>The dispatcher ids the statement answers, and how many rows of deliveries its plan read (EXPLAIN ANALYZE).</summary>
    async Task<(List<string> Rows, long Read)> RowsReadAsync(string sql)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        var rows = new List<string>();
        await using (var query = new Npgsql.NpgsqlCommand(sql, c))
        await using (var reader = await query.ExecuteReaderAsync())
            while (await reader.ReadAsync()) rows.Add(reader.GetString(1));
        await using var explain = new Npgsql.NpgsqlCommand("explain (analyze, format json) " + sql, c);
        var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!).RootElement[0].GetProperty("Plan");
        return (rows, Read(plan));

        static long Read(JsonElement node)
        {
            long read = 0;
            if (node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "deliveries")
            {
                var loops = node.GetProperty("Actual Loops").GetInt64();
                read += (long)node.GetProperty("Actual Rows").GetDouble() * loops;
                if (node.TryGetProperty("Rows Removed by Filter", out var removed)) read += (long)removed.GetDouble() * loops;
            }
            if (node.TryGetProperty("Plans", out var children))
                foreach (var child in children.EnumerateArray()) read += Read(child);
            return read;
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task The_deliverers_statements_read_deliveries_through_their_indexes(bool generic)
    {
        var window = await db.ExplainAsync(Deliveries.Deliverer.EarliestDue.Replace("@scan", "$1"), "int", "448", generic);
        Plans.AssertNoWholeRead(window, "deliveries");
        var others = await db.ExplainAsync(Deliveries.Deliverer.EarliestDuePerDispatcher.Replace("@blocked", "$1").Replace("@perDispatcher", "$2")
            .Replace("@free", "$3"), "text[], int, int", "array['d1'], 8, 56", generic);
        Plans.AssertNoWholeRead(others, "deliveries");
        Assert.That(Plans.IndexConditions(others), Has.Some.Contains("dispatcher_id = p.dispatcher_id"), string.Join(" | ", Plans.IndexConditions(others)));
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
