using System.Globalization;
using Dapper;
using Npgsql;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// Each player's totals per instance (contributors) are exactly their ledger rows up to the instance's mark, and the
/// lifetime leaderboard (totals plus the ledger after the mark) ranks exactly as the whole ledger would: through concurrent
/// batches, repeats found at the ledger's unique key (the batch rolled back and run again), in-batch duplicates, conflicts
/// and refusals. The test servers ask for a fold after every batch (Contributions__TotalsLag and TotalsInterval 0), so the
/// mark moves all the time, beside the writers; the reconciliation names a player whose totals differ from the ledger.
/// </summary>
public class ContributorTotalsTests
{
    static JsonObject Element(Jackpot jackpot, string player, string? round = null, decimal wager = 1m) => new()
    {
        ["target"] = new JsonObject { ["type"] = "instance", ["id"] = jackpot.Id },
        ["owner_id"] = "tpa",
        ["player"] = new JsonObject { ["id"] = player, ["country"] = "MT", ["brand_id"] = "b1" },
        ["gameround_id"] = round ?? Fixtures.Unique("r"),
        ["currency"] = "EUR",
        ["base_wager"] = wager,
    };

    /// <summary>Per player: the totals, and the count and Σ value of their ledger rows up to the mark and in all.</summary>
    static async Task<List<(string Player, long Count, decimal Value, long Folded, decimal FoldedValue, long All, decimal AllValue)>> TotalsAsync(
        Jackpot jackpot)
    {
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        return [.. await c.QueryAsync<(string, long, decimal, long, decimal, long, decimal)>("""
            select coalesce(t.player_id, l.player_id), coalesce(t.contributions, 0), coalesce(t.value, 0),
                   coalesce(l.folded, 0), coalesce(l.folded_value, 0), coalesce(l.n, 0), coalesce(l.v, 0)
            from (select brand_id, player_id, contributions, value from contributors where instance_id = @id) t
            full join (select brand_id, player_id, count(*) filter (where created_at <= m.through) folded,
                              coalesce(sum(value) filter (where created_at <= m.through), 0) folded_value, count(*) n, sum(value) v
                       from contributions, (select totals_through through from instances where id = @id) m
                       where instance_id = @id group by 1, 2) l
                using (brand_id, player_id)
            order by 1
            """, new { id = jackpot.Guid })];
    }

    /// <summary>Awaits the fold of the instance's last row (the servers fold with no lag), then returns the totals.</summary>
    static async Task<List<(string Player, long Count, decimal Value, long Folded, decimal FoldedValue, long All, decimal AllValue)>> FoldedAsync(
        Jackpot jackpot)
    {
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        await Eventually.TrueAsync(() => c.ExecuteScalarAsync<bool>("""
            select totals_through >= (select max(created_at) from contributions where instance_id = @id) from instances where id = @id
            """, new { id = jackpot.Guid }), TimeSpan.FromSeconds(30), "the fold of the instance's last ledger row");
        return await TotalsAsync(jackpot);
    }

    static Task<Proto.Leaderboard> LeaderboardAsync(Jackpot jackpot) =>
        Jackpots.CallAsync<Proto.Leaderboard>(Jackpots.GetLeaderboard, new Proto.GetLeaderboardRequest { InstanceId = jackpot.Id, Limit = 100 });

    [Test]
    public async Task Running_totals_are_exactly_the_ledger_through_concurrent_batches_repeats_and_refusals()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(magic: 50));
        string[] players = ["alice", "bob", "carol", "dave", "erin"];
        var committed = new List<JsonObject>();
        for (var i = 0; i < players.Length; i++)
        {
            var body = Element(jackpot, players[i], wager: 1 + i);
            (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, body)).Expect(HttpStatusCode.OK);
            committed.Add(body);
        }

        // Eight clients at once, each batch with new contributions of every player, a repeat of a committed key (found at the
        // unique key, so the batch runs again), an in-batch duplicate, a conflicting repeat and an invalid element.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async k =>
        {
            var fresh = players.Select((p, i) => Element(jackpot, p, wager: 0.5m + k + i)).ToList();
            var conflicting = committed[k % players.Length].DeepClone().AsObject();
            conflicting["base_wager"] = 99;
            var invalid = Element(jackpot, "alice");
            invalid["base_wager"] = -1;
            var batch = new JsonArray([.. fresh, committed[(k + 1) % players.Length].DeepClone(), fresh[0].DeepClone(), conflicting, invalid]);
            return (await Servers.Pots.PostAsync("/jackpots/contribute/batch", Servers.OperatorA, batch)).Expect(HttpStatusCode.OK).Json
                .EnumerateArray().Select(i => i.GetProperty("results")[0].GetProperty("outcome").GetString()!).ToList();
        }));
        foreach (var o in outcomes)
            Assert.That(o, Is.EqualTo(new[] { "accepted", "accepted", "accepted", "accepted", "accepted", "duplicate", "duplicate", "conflict", "invalid" }));

        // Wherever the folds have got to (they run beside the writer), the totals are the ledger up to the mark; once the last
        // row is folded, they are the whole ledger.
        var totals = await TotalsAsync(jackpot);
        Assert.That(totals.Select(t => t.Player), Is.EqualTo(players));
        Assert.That(totals.Select(t => (t.Count, t.Value)), Is.EqualTo(totals.Select(t => (t.Folded, t.FoldedValue))));
        Assert.That(totals.Sum(t => t.All), Is.EqualTo(5 + 8 * 5));
        var folded = await FoldedAsync(jackpot);
        Assert.That(folded.Select(t => (t.Player, t.Count, t.Value)), Is.EqualTo(totals.Select(t => (t.Player, t.All, t.AllValue))));
        var board = await LeaderboardAsync(jackpot);
        Assert.That(board.Entries.Select(e => (e.PlayerId, e.ContributionCount, decimal.Parse(e.ContributionValue, CultureInfo.InvariantCulture))),
            Is.EquivalentTo(totals.Select(t => (t.Player, t.All, t.AllValue))));
        var reconciliation = await Jackpots.ReconcileAsync(jackpot);
        Assert.That(reconciliation.GetProperty("balanced").GetBoolean(), Is.True, reconciliation.ToString());
    }

    [Test]
    public async Task A_refused_batch_adds_nothing_and_a_paused_instance_keeps_its_totals()
    {
        var jackpot = await Jackpots.CreateAsync();
        (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, Element(jackpot, "frank"))).Expect(HttpStatusCode.OK);
        await Jackpots.SetStateAsync(jackpot, "Paused");
        (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, Element(jackpot, "frank"))).ExpectConflict();
        (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, Element(jackpot, "grace"))).ExpectConflict();

        var totals = await FoldedAsync(jackpot);
        Assert.That(totals.Select(t => (t.Player, t.Count, t.All)), Is.EqualTo(new[] { ("frank", 1L, 1L) }));
        Assert.That((await LeaderboardAsync(jackpot)).Entries.Select(e => (e.PlayerId, e.ContributionCount)), Is.EqualTo(new[] { ("frank", 1L) }));
    }

    [Test]
    public async Task The_reconciliation_names_a_player_whose_totals_differ_from_the_ledger()
    {
        var jackpot = await Jackpots.CreateAsync();
        foreach (var player in new[] { "heidi", "ivan" })
            (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, Element(jackpot, player))).Expect(HttpStatusCode.OK);
        var heidi = (await FoldedAsync(jackpot)).Single(t => t.Player == "heidi");
        Assert.That((await Jackpots.ReconcileAsync(jackpot)).GetProperty("balanced").GetBoolean(), Is.True);
        Assert.That((heidi.Count, heidi.Folded), Is.EqualTo((1L, 1L)));

        // Other tests reconcile every instance of tpa: the damage is undone whatever happens here.
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        const string damage = "update contributors set value = value + @by where instance_id = @id and player_id = 'heidi'";
        await c.ExecuteAsync(damage, new { id = jackpot.Guid, by = 1m });
        try
        {
            var reconciliation = await Jackpots.ReconcileAsync(jackpot);
            Assert.That(reconciliation.GetProperty("balanced").GetBoolean(), Is.False);
            var errors = reconciliation.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.That(errors, Is.EqualTo(new[]
            {
                $"Player 'heidi' of 'tpa:b1': the totals count 1 contributions worth {heidi.FoldedValue + 1}, the ledger up to the mark 1 worth {heidi.FoldedValue}.",
            }));
        }
        finally
        {
            await c.ExecuteAsync(damage, new { id = jackpot.Guid, by = -1m });
        }
        Assert.That((await Jackpots.ReconcileAsync(jackpot)).GetProperty("balanced").GetBoolean(), Is.True);
    }
}
