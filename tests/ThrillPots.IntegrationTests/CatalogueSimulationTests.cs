using Dapper;
using Npgsql;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// Issue 8's seeded simulation: many players in four currencies feed a mixed catalogue through the HTTP batch endpoint —
/// a community jackpot (HitRate + MustDropByValue) linked to a second jackpot and to a raffle drawn every two seconds, and a
/// jackpot fed by source that is model-switched half-way — while a seeded random script pauses and resumes instances, boosts
/// pots and resends earlier requests. Afterwards every instance reconciles exactly, every acknowledged contribution is in
/// the ledger once, and money in (contributions, seeds, seed deficits, boosts) equals money out (wins, raffle prizes) plus
/// what the pots hold plus the house share. The workload is seeded (<see cref="Seed"/>); the engine's draws stay on its
/// CSPRNG, so the checks are invariants, not fixed outcomes.
/// </summary>
[NonParallelizable]
public class CatalogueSimulationTests
{
    const int Seed = 20261202;
    const int Rounds = 25, PerRound = 4000, Players = 600;
    static readonly string[] Currencies = ["EUR", "USD", "SEK", "GBP"];

    static JsonObject Community() => JsonNode.Parse("""
        {
          "name": "Simulated community jackpot", "owner_id": "tpa", "currency": "EUR",
          "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.1 }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.3 },
          "win_selector_strategy": "Highest",
          "pots": [
            { "id": "small", "contribution": { "Percentage": 0.4 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 10, "min_reseed_value": 10, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": 60,
              "pot_types": [ { "HitRate": { "max_magic_number": 2500, "cost_per_attempt": 0.1 } } ],
              "community": { "share": 0.3, "strategies": [
                { "ActivePlayers": { "share": 0.1, "winners": 4, "window_hours": 1 } },
                { "HighestContributionPerWin": { "share": 0.1, "winners": 2 } },
                { "HighestLifetimeContributor": { "share": 0.1, "winners": 3 } } ] } },
            { "id": "big", "contribution": { "Percentage": 0.3 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 100, "min_reseed_value": 100, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "MustDropByValue": { "max_value": 160 } } ] }
          ]
        }
        """)!.AsObject();

    /// <summary>The switch's target model: both pots start empty (they receive the source's money).</summary>
    static JsonObject Switched() => JsonNode.Parse("""
        {
          "name": "Simulated switched model", "owner_id": "tpa", "currency": "EUR",
          "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.2 }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.25 },
          "win_selector_strategy": "Highest",
          "pots": [
            { "id": "minor", "contribution": { "Percentage": 0.5 }, "seed_contribution": { "Percentage": 0.3 },
              "seed_strategy": { "initial_seed_value": 0, "min_reseed_value": 5, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "HitRate": { "max_magic_number": 1500, "cost_per_attempt": 0.1 } } ] },
            { "id": "major", "contribution": { "Percentage": 0.25 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 0, "min_reseed_value": 50, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "MustDropByValue": { "max_value": 90 } } ] }
          ]
        }
        """)!.AsObject();

    sealed record Sent(JsonObject Body, string? ContributionId, string Outcome);

    [Test]
    public async Task A_seeded_mixed_catalogue_of_100000_contributions_reconciles_exactly()
    {
        var random = new Random(Seed);
        var pots = Servers.Pots;

        var community = await Jackpots.CreateAsync(Community(), brands: ["tpa:b1", "tpa:b2"]);
        var linked = await Jackpots.CreateAsync(Jackpots.Template(magic: 4000), brands: ["tpa:b1", "tpa:b2"]);
        var raffle = await SchedulingTests.InstantiateAsync(null, RaffleTests.Template("""{"Seconds": 2}""", prizes: "[0.6, 0.3, 0.1]"));
        var switching = await Jackpots.CreateAsync(Jackpots.Template(magic: 3000, dropMax: 130), brands: ["tpa:b1", "tpa:b2"]);
        foreach (var to in new[] { linked, raffle })
            (await pots.PostAsync($"/instances/{community.Id}/links", Servers.OperatorA, new { instance_id = to.Id })).Expect(HttpStatusCode.Created);
        var targetTemplate = (await pots.PostAsync("/templates", Servers.OperatorA, Switched())).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        (await pots.PostAsync($"/templates/{targetTemplate}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var instances = new List<string> { community.Id, linked.Id, raffle.Id, switching.Id };

        var players = Enumerable.Range(0, Players).Select(i => (Id: $"sim-{Seed}-{i}", Brand: i % 3 == 0 ? "b2" : "b1",
            Currency: Currencies[i % Currencies.Length])).ToArray();
        var sent = new List<Sent>();
        // What every acknowledged contribution was worth per instance (jackpot currency), by contribution id: each counted once.
        var acknowledged = new Dictionary<string, (string Instance, decimal Value)>();
        int duplicates = 0, refusedLinked = 0, switchRound = Rounds / 2, boosts = 0, pauses = 0;
        decimal boosted = 0m;
        var linkedPaused = false;

        for (var round = 0; round < Rounds; round++)
        {
            // Between rounds, the seeded script: pause or resume the linked jackpot, boost a pot, switch the source-fed model.
            if (random.NextDouble() < 0.3)
            {
                linkedPaused = !linkedPaused;
                pauses++;
                await Jackpots.SetStateAsync(linked, linkedPaused ? "Paused" : "Active");
            }
            if (random.NextDouble() < 0.4)
            {
                var (target, pot) = random.Next(3) switch { 0 => (community, "small"), 1 => (community, "big"), _ => (linked, "big") };
                var amount = Math.Round((decimal)random.Next(1, 5000) / 100m, 2);
                (await pots.PostAsync($"/instances/{target.Id}/boosts", Servers.OperatorA, new { pot_id = pot, amount })).Expect(HttpStatusCode.Created);
                boosts++;
                boosted += amount;
            }
            if (round == switchRound)
            {
                var done = (await pots.PostAsync("/instances/switchmodel", Servers.OperatorA, new JsonObject
                {
                    ["source_instance_id"] = switching.Id, ["template_id"] = targetTemplate, ["template_owner_id"] = "tpa",
                    ["target_instance_owner_id"] = "tpa", ["target_instance_name"] = "Simulated after switch",
                    ["pot_rules"] = new JsonArray(
                        new JsonObject { ["source_pot"] = "small", ["target_pot"] = new JsonObject { ["minor"] = 1 } },
                        new JsonObject { ["source_pot"] = "big", ["target_pot"] = new JsonObject { ["minor"] = 0.25, ["major"] = 0.75 } }),
                    ["transfer_optins"] = true, ["reason"] = "simulation", ["dry_run"] = false,
                })).Expect(HttpStatusCode.Created).Json;
                instances.Add(done.GetProperty("target_instance_id").GetString()!);
            }

            var batch = new JsonArray();
            var bodies = new List<JsonObject>();
            for (var i = 0; i < PerRound; i++)
            {
                JsonObject body;
                if (sent.Count > 0 && random.NextDouble() < 0.01)
                    body = sent[random.Next(sent.Count)].Body.DeepClone().AsObject(); // a resend: answered as its first time
                else
                {
                    var player = players[random.Next(players.Length)];
                    var pick = random.NextDouble();
                    var (type, id) = pick < 0.6 ? ("instance", community.Id) : pick < 0.85 ? ("source", switching.Source) : ("instance", linked.Id);
                    body = new JsonObject
                    {
                        ["target"] = new JsonObject { ["type"] = type, ["id"] = id },
                        ["owner_id"] = "tpa",
                        ["player"] = new JsonObject { ["id"] = player.Id, ["country"] = "MT", ["brand_id"] = player.Brand },
                        ["gameround_id"] = $"r{round}-{i}",
                        ["currency"] = player.Currency,
                        ["base_wager"] = Math.Round((decimal)random.Next(10, 2000) / 100m, 2),
                        ["metadata"] = new JsonObject { ["round"] = round },
                    };
                }
                bodies.Add(body);
                batch.Add(body.DeepClone());
            }
            var items = (await pots.PostAsync("/jackpots/contribute/batch", Servers.OperatorA, batch)).Expect(HttpStatusCode.OK).Json.EnumerateArray().ToList();
            Assert.That(items, Has.Count.EqualTo(PerRound));
            for (var i = 0; i < items.Count; i++)
            {
                var results = items[i].GetProperty("results").EnumerateArray().ToList();
                var main = results[0];
                var outcome = main.GetProperty("outcome").GetString()!;
                // The main instance never refuses here: the community jackpot and the source-fed one stay Active (a by-source
                // contribution follows the switch), and the linked jackpot is only the target while Active or when refused.
                foreach (var r in results)
                {
                    var o = r.GetProperty("outcome").GetString();
                    if (o is "accepted" or "duplicate")
                    {
                        var contribution = r.GetProperty("contribution_id").GetString()!;
                        var value = r.GetProperty("contribution_value").GetDecimal();
                        var instance = r.GetProperty("instance_id").GetString()!;
                        if (o == "duplicate") duplicates++;
                        if (acknowledged.TryGetValue(contribution, out var first))
                            Assert.That((first.Instance, first.Value), Is.EqualTo((instance, value)), $"contribution {contribution} answered differently");
                        else
                        {
                            Assert.That(o, Is.EqualTo("accepted"), $"duplicate {contribution} of a contribution never acknowledged");
                            acknowledged[contribution] = (instance, value);
                        }
                    }
                    else if (r.GetProperty("reason").GetString() == "instance_not_active" && r.GetProperty("instance_id").GetString() == linked.Id)
                        refusedLinked++;
                    else
                        Assert.Fail($"round {round} element {i}: unexpected {r}");
                }
                sent.Add(new Sent(bodies[i], main.TryGetProperty("contribution_id", out var cid) ? cid.GetString() : null, outcome));
            }
        }
        if (linkedPaused) await Jackpots.SetStateAsync(linked, "Active");

        // The raffle's periods are drawn at their ends (the ticker nudges its writer); wait until every ended one with tickets is.
        await using var db = new NpgsqlConnection(Servers.PotsDatabase);
        var raffleId = Guid.Parse(raffle.Id);
        await Eventually.TrueAsync(async () =>
        {
            return await db.ExecuteScalarAsync<long>("""
                select count(*) from raffle_tickets t where t.instance_id = @raffleId and t.period_end <= now()
                and not exists (select 1 from raffle_draws d where d.instance_id = t.instance_id and d.period_start = t.period_start and d.status <> 'open')
                """, new { raffleId }) == 0;
        }, TimeSpan.FromSeconds(60), "every raffle period drawn");

        var ids = instances.Select(Guid.Parse).ToArray();
        // Every acknowledged contribution is in the ledger exactly once, with the value it was answered with, and nothing else is.
        var ledger = (await db.QueryAsync<(Guid Id, Guid Instance, decimal Value)>(
            "select id, instance_id, value from contributions where instance_id = any(@ids)", new { ids })).ToList();
        Assert.That(ledger, Has.Count.EqualTo(acknowledged.Count), "ledger rows vs acknowledged contributions");
        foreach (var row in ledger)
            Assert.That(acknowledged[row.Id.ToString()], Is.EqualTo((row.Instance.ToString(), row.Value)), $"ledger row {row.Id}");
        Assert.That(acknowledged.Count, Is.GreaterThanOrEqualTo(100_000), "contributions applied");

        // Each instance reconciles exactly (shares, wins, community parts, raffle prizes, boosts, transfers).
        foreach (var id in instances)
        {
            var report = (await pots.GetAsync($"/instances/{id}/reconciliation", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
            Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, $"instance {id}: {report}");
        }

        // Money in = money out + pots + house, over the whole catalogue (transfers between its instances cancel out).
        var money = await db.QuerySingleAsync<(decimal Contributions, decimal House, decimal Seeds, decimal Deficits, decimal Boosts, decimal Wins,
            decimal Prizes, decimal Held, long Wins_, long Draws, long CommunityPayouts, decimal Moved)>("""
            select (select coalesce(sum(value), 0) from contributions where instance_id = any(@ids)),
                   (select coalesce(sum(house_share), 0) from contributions where instance_id = any(@ids)),
                   (select coalesce(sum(initial_seed), 0) from pots where instance_id = any(@ids)),
                   (select coalesce(sum(seed_deficit), 0) from wins where instance_id = any(@ids)),
                   (select coalesce(sum(amount), 0) from seed_boosts where instance_id = any(@ids)),
                   (select coalesce(sum(win_amount), 0) from wins where instance_id = any(@ids)),
                   (select coalesce(sum(amount), 0) from payouts where kind = 'raffle' and instance_id = any(@ids)),
                   (select coalesce(sum(value + reseed_fund + seed_boost), 0) from pots where instance_id = any(@ids)),
                   (select count(*) from wins where instance_id = any(@ids)),
                   (select count(*) from raffle_draws where instance_id = any(@ids) and status <> 'open'),
                   (select count(*) from payouts where kind = 'community' and instance_id = any(@ids)),
                   (select coalesce(sum(amount), 0) from pot_transfers where source_instance = any(@ids))
            """, new { ids });
        var moneyIn = money.Contributions + money.Seeds + money.Deficits + money.Boosts;
        var moneyOut = money.Wins + money.Prizes;
        TestContext.Out.WriteLine($"seed {Seed}: {acknowledged.Count} contributions applied ({duplicates} answered as duplicates, {refusedLinked} refused by the " +
            $"paused linked jackpot), {money.Wins_} wins, {money.CommunityPayouts} community payouts, {money.Draws} raffle draws, {boosts} boosts " +
            $"({boosted}), {pauses} pauses/resumes, {money.Moved} moved by the switch; in {moneyIn} = out {moneyOut} + pots {money.Held} + house {money.House}");
        Assert.That(money.Boosts, Is.EqualTo(boosted), "boosts recorded");
        Assert.That(moneyIn, Is.EqualTo(moneyOut + money.Held + money.House), "money in = money out + pots + house share");
        Assert.That(acknowledged.Values.Sum(a => a.Value), Is.EqualTo(money.Contributions), "acknowledged value = ledger value");
        // The script exercised what it claims to: wins with community parts, raffle draws, resends, a switch that moved money.
        Assert.That(money.Wins_, Is.GreaterThan(0));
        Assert.That(money.CommunityPayouts, Is.GreaterThan(0));
        Assert.That(money.Draws, Is.GreaterThan(0));
        Assert.That(duplicates, Is.GreaterThan(0));
        Assert.That(money.Moved, Is.GreaterThan(0m));
    }
}
