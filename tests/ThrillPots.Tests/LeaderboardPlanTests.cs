using Npgsql;
using ThrillPots.Community;
using ThrillPots.Contributions;
using ThrillPots.Jackpots;
using ThrillSuite.Testing;

namespace ThrillPots.Tests;

/// <summary>
/// A "since last win" leaderboard reads the ledger rows after the instance's last win through (instance_id, created_at),
/// also in the generic plan a prepared statement ends up with, so its cost follows the rows since that win, not the
/// instance's whole ledger. A lifetime leaderboard and the HighestLifetimeContributor community payout read the players'
/// totals (contributors, folded by TotalsFolder here) and the ledger after the instance's mark, and come out
/// exactly as the whole ledger would.
/// </summary>
public class LeaderboardPlanTests
{
    static readonly Guid Instance = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    PlanDatabase db = null!;

    // A year of one instance's ledger (≈ 100,000 rows over 900 players, the latest 10,000 in USD) beside 11,000 other
    // instances' rows and 100,000 other instances' totals; its totals folded up to a day ago, as its writer would have.
    [OneTimeSetUp]
    public async Task CreateDatabaseAsync()
    {
        db = await PlanDatabase.CreateAsync("tp_leaderboard_plans", typeof(ContributionEngine).Assembly, $"""
            insert into templates (id, owner_id, name, currency, jackpot_type, definition) values ('{Instance}', 'op', 'Plan test', 'EUR', 'Progressive', '""');
            insert into instances (id, template_id, owner_id, name, currency, state, allowed_brands)
            values ('{Instance}', '{Instance}', 'op', 'Plan test', 'EUR', 'Active', array['op:brand']);
            insert into contributions (id, instance_id, brand_id, player_id, gameround_id, request_hash, player_currency, base_wager,
                value, player_value, base_currency, player_multiplier, jackpot_multiplier, house_share, pot_shares, created_at)
            select gen_random_uuid(), case when g % 10 = 0 then gen_random_uuid() else '{Instance}'::uuid end, 'op:brand', 'p' || (g % 1000),
                   'round-' || g, '\x00', case when g > 100000 then 'USD' else 'EUR' end, 1, 0.1 + g % 7, 0.1, 'EUR', 1, 1, 0.03,
                   array[0.04, 0.03], now() - (110000 - g) * interval '5 minutes'
            from generate_series(1, 110000) g;
            insert into contributors (instance_id, brand_id, player_id, contributions, value, first_at, last_at, player_currency)
            select gen_random_uuid(), 'op:brand', 'p' || g, 1, 1, now(), now(), 'EUR' from generate_series(1, 100000) g
            """);
        Assert.That(await TotalsFolder.FoldAsync(db.DataSource, Instance, TimeSpan.FromDays(1), CancellationToken.None), Is.True);
        await using var c = await db.DataSource.OpenConnectionAsync();
        await using (var folded = new NpgsqlCommand($"select count(*) from contributors where instance_id = '{Instance}'", c))
            Assert.That(await folded.ExecuteScalarAsync(), Is.EqualTo(900));
        await using var analyse = new NpgsqlCommand("analyze", c);
        await analyse.ExecuteNonQueryAsync();
    }

    [OneTimeTearDown]
    public Task DropDatabaseAsync() => db.DisposeAsync().AsTask();

    [TestCase(true)]
    [TestCase(false)]
    public async Task Since_the_last_win_the_ledger_is_read_from_that_win_on(bool generic)
    {
        var sql = Leaderboards.TopSince
            .Replace("@instanceId", "$1").Replace("@since", "$2").Replace("@limit", "$3");
        var plan = await db.ExplainAsync(sql, "uuid, timestamptz, int", $"'{Instance}', now() - interval '1 day', 10", generic);
        Plans.AssertNoWholeRead(plan, "contributions");
        Assert.That(Plans.IndexConditions(plan), Has.Some.Contains("created_at >"), plan.ToString());
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task Lifetime_ranks_read_the_players_totals_and_the_ledger_after_the_mark(bool generic)
    {
        foreach (var (sql, types, arguments) in new[]
        {
            (Leaderboards.TopLifetime.Replace("@instanceId", "$1").Replace("@limit", "$2").Replace("@totalsThrough", "$3"), "uuid, int, timestamptz",
                $"'{Instance}', 10, now() - interval '1 day'"),
            (CommunityResolver.Lifetime.Replace("@instanceId", "$1").Replace("@totalsThrough", "$2"), "uuid, timestamptz",
                $"'{Instance}', now() - interval '1 day'"),
        })
        {
            var plan = await db.ExplainAsync(sql, types, arguments, generic);
            Plans.AssertNoWholeRead(plan, "contributors", "contributions");
            Assert.That(Plans.IndexConditions(plan), Has.Some.Contains("created_at >"), plan.ToString());
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task A_fold_reads_the_ledger_between_the_marks(bool generic)
    {
        var plan = await db.ExplainAsync(TotalsFolder.FoldTotals, "uuid, timestamptz, timestamptz",
            $"'{Instance}', now() - interval '1 day', now() - interval '5 seconds'", generic);
        Plans.AssertNoWholeRead(plan, "contributions");
        Assert.That(Plans.IndexConditions(plan), Has.Some.Contains("created_at >").And.Some.Contains("created_at <="), plan.ToString());
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task The_writer_and_the_fold_find_the_instances_latest_ledger_row_through_the_index(bool generic)
    {
        foreach (var sql in new[] { InstanceWriter.LatestRow, TotalsFolder.Probe })
        {
            var plan = await db.ExplainAsync(sql, "uuid", $"'{Instance}'", generic);
            Plans.AssertNoWholeRead(plan, "contributions");
            // One row from the index's end, not an aggregate over the instance's rows.
            Assert.That(plan.ToString(), Does.Contain("\"Limit\"").And.Contain("\"Backward\"").And.Not.Contain("\"Aggregate\""), plan.ToString());
        }
    }

    [Test]
    public async Task Totals_and_the_ledger_after_the_mark_rank_exactly_as_the_whole_ledger()
    {
        const string wholeLedger = """
            select player_id, brand_id, count(*), sum(value), min(created_at), max(created_at)
            from contributions where instance_id = @instanceId group by brand_id, player_id
            order by sum(value) desc, min(created_at), player_id limit 100
            """;
        Assert.That(await RowsAsync(Leaderboards.TopLifetime), Is.EqualTo(await RowsAsync(wholeLedger)));
        Assert.That(await RowsAsync(Leaderboards.TopLifetime), Has.Count.EqualTo(100));

        const string wholeLedgerCandidates = """
            select brand_id, player_id, sum(value), min(created_at), (array_agg(player_currency order by created_at desc))[1]
            from contributions where instance_id = @instanceId group by brand_id, player_id
            """;
        var candidates = await RowsAsync(CommunityResolver.Lifetime);
        Assert.That(candidates, Is.EquivalentTo(await RowsAsync(wholeLedgerCandidates)));
        Assert.That(candidates, Has.Count.EqualTo(900));
        // Folded up to a day ago: everyone's latest contribution (USD) is after the mark for some, before it for most.
        Assert.That(candidates.Select(r => r[4]), Has.All.EqualTo("USD"));

        await using var c = await db.DataSource.OpenConnectionAsync();
        await using var mismatches = new NpgsqlCommand("""
            select count(*) from (select brand_id, player_id, count(*) n, sum(value) v, min(created_at) f, max(created_at) l
                                  from contributions where instance_id = $1 and created_at <= (select totals_through from instances where id = $1)
                                  group by 1, 2) x
            full join (select * from contributors where instance_id = $1) t using (brand_id, player_id)
            where x.n is distinct from t.contributions or x.v is distinct from t.value or x.f is distinct from t.first_at or x.l is distinct from t.last_at
            """, c) { Parameters = { new() { Value = Instance } } };
        Assert.That(await mismatches.ExecuteScalarAsync(), Is.EqualTo(0L));
    }

    async Task<List<object[]>> RowsAsync(string sql)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        await using var mark = new NpgsqlCommand("select totals_through from instances where id = $1", c) { Parameters = { new() { Value = Instance } } };
        var totalsThrough = (DateTime)(await mark.ExecuteScalarAsync())!;
        await using var command = new NpgsqlCommand(sql, c)
        {
            Parameters = { new("instanceId", Instance), new("limit", 100), new("totalsThrough", totalsThrough) },
        };
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }
}
