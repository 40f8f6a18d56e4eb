using Npgsql;
using ThrillPots.Contributions;
using ThrillPots.Jackpots;
using ThrillSuite.Testing;

namespace ThrillPots.Tests;

/// <summary>
/// The ticker runs its statements every second. Terminated instances pile up (a daily jackpot leaves 365 a year), so each
/// statement must read the live instances, not all of them: with 5,000 instances, 4,450 of them Terminated, PostgreSQL's
/// plans of the ticker's statements (generic and custom: Dapper prepares statements it runs often) read no table whole.
/// </summary>
public class TickerPlanTests
{
    PlanDatabase db = null!;

    // Instances 1–4,400 ended over the past year, 4,401–4,450 today; 300 Active (some with a schedule), 100 Paused, 150
    // Pending. Two pots each, the first with a MustDropByTime deadline a day ahead; every instance announced once.
    [OneTimeSetUp]
    public async Task CreateDatabaseAsync() => db = await PlanDatabase.CreateAsync("tp_ticker_plans", typeof(ContributionEngine).Assembly, """
        insert into templates (id, owner_id, name, currency, jackpot_type, definition, published_at)
        values ('00000000-0000-0000-0000-000000000001', 'op', 'Template', 'EUR', 'Progressive', '{"pots": []}', now());
        insert into instances (id, template_id, owner_id, name, currency, state, allowed_brands, start_at, end_at, schedule, updated_at)
        select md5('instance' || g)::uuid, '00000000-0000-0000-0000-000000000001', 'op', 'Instance ' || g, 'EUR',
               case when g <= 4450 then 'Terminated' when g <= 4750 then 'Active' when g <= 4850 then 'Paused' else 'Pending' end,
               array['op:brand'],
               case when g > 4850 then now() + interval '10 days' else now() - interval '400 days' end,
               case when g <= 4450 then now() - (4450 - g) * interval '2 hours' when g <= 4500 then now() + interval '30 days' end,
               case when g between 4451 and 4470 then '{"windows": []}'::jsonb end,
               case when g <= 4400 then now() - interval '400 days' + g * interval '2 hours' else now() - interval '1 hour' end
        from generate_series(1, 5000) g;
        insert into pots (instance_id, pot_id, position, initial_seed, value, drops, version)
        select md5('instance' || g)::uuid, 'pot' || k, k - 1, 100, 1000,
               case when k = 1 then jsonb_build_object('time', jsonb_build_object('deadlineMs', (extract(epoch from now()) * 1000)::bigint + 86400000)) end,
               g
        from generate_series(1, 5000) g, generate_series(1, 2) k;
        insert into tickers (instance_id, version, published_at, status)
        select id, version + 2 * (select max(version) from pots p where p.instance_id = i.id), now() - interval '1 hour', state from instances i
        """);

    [OneTimeTearDown]
    public Task DropDatabaseAsync() => db.DisposeAsync().AsTask();

    [Test]
    public async Task The_candidates_are_the_live_instances_and_those_that_ended_today()
    {
        var plan = await db.ExplainAsync(Ticker.Candidates, "", "");
        Plans.AssertNoWholeRead(plan, "instances", "pots");
        await using var c = await db.DataSource.OpenConnectionAsync();
        await using var count = new NpgsqlCommand($"select count(*) from ({Ticker.Candidates}) candidates", c);
        Assert.That(await count.ExecuteScalarAsync(), Is.EqualTo(600L), "550 live instances and the 50 that ended today");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task Passed_deadlines_are_looked_for_in_active_instances_only(bool generic)
    {
        var plan = await db.ExplainAsync(Ticker.Deadlines.Replace("@now", "$1"), "bigint",
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), generic);
        Plans.AssertNoWholeRead(plan, "instances", "pots");
    }

    [Test]
    public async Task Starting_and_ending_instances_reads_the_live_ones()
    {
        var plan = await db.ExplainAsync(Ticker.Schedule, "", "");
        Plans.AssertNoWholeRead(plan, "instances");
    }
}
