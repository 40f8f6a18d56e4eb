using ThrillPots.Contributions;
using ThrillPots.Jackpots;
using ThrillSuite.Testing;

namespace ThrillPots.Tests;

/// <summary>
/// A "since last win" leaderboard reads the ledger rows after the instance's last win through (instance_id, created_at),
/// also in the generic plan a prepared statement ends up with, so its cost follows the rows since that win, not the
/// instance's whole ledger.
/// </summary>
public class LeaderboardPlanTests
{
    static readonly Guid Instance = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    PlanDatabase db = null!;

    // A year of one instance's ledger (100,000 rows over 1,000 players) beside another instance's.
    [OneTimeSetUp]
    public async Task CreateDatabaseAsync() => db = await PlanDatabase.CreateAsync("tp_leaderboard_plans", typeof(ContributionEngine).Assembly, $"""
        insert into contributions (id, instance_id, brand_id, player_id, gameround_id, request_hash, player_currency, base_wager,
            value, player_value, base_currency, player_multiplier, jackpot_multiplier, house_share, pot_shares, created_at)
        select gen_random_uuid(), case when g % 10 = 0 then gen_random_uuid() else '{Instance}'::uuid end, 'op:brand', 'p' || (g % 1000),
               'round-' || g, '\x00', 'EUR', 1, 0.1, 0.1, 'EUR', 1, 1, 0.03, array[0.04, 0.03], now() - (110000 - g) * interval '5 minutes'
        from generate_series(1, 110000) g
        """);

    [OneTimeTearDown]
    public Task DropDatabaseAsync() => db.DisposeAsync().AsTask();

    [TestCase(true)]
    [TestCase(false)]
    public async Task Since_the_last_win_the_ledger_is_read_from_that_win_on(bool generic)
    {
        var sql = Leaderboards.Top("instance_id = @instanceId and created_at > @since")
            .Replace("@instanceId", "$1").Replace("@since", "$2").Replace("@limit", "$3");
        var plan = await db.ExplainAsync(sql, "uuid, timestamptz, int", $"'{Instance}', now() - interval '1 day', 10", generic);
        Plans.AssertNoWholeRead(plan, "contributions");
        Assert.That(Plans.IndexConditions(plan), Has.Some.Contains("created_at >"), plan.ToString());
    }
}
