namespace ThrillConnect.IntegrationTests;

/// <summary>Leaderboards on the public REST API: top contributors of an instance, lifetime and since its last win (ThrillPots' ledger over gRPC).</summary>
public class LeaderboardTests
{
    /// <summary>
    /// "small" never wins; "big" (MustDropByValue with max_value 100.01, so its drop point is exactly 100.01) gets 0.0025 of each
    /// 0.1 contribution and nothing goes to its fund: it is won by every 4th contribution.
    /// </summary>
    static JsonObject Template() => JsonNode.Parse("""
        {
          "name": "Leaderboard test", "owner_id": "cna", "currency": "EUR",
          "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.1 }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.3 },
          "win_selector_strategy": "Highest",
          "pots": [
            { "id": "small", "contribution": { "Percentage": 0.675 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 10, "min_reseed_value": 10, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "HitRate": { "max_magic_number": 1000000000000000, "cost_per_attempt": 0.1 } } ] },
            { "id": "big", "contribution": { "Percentage": 0.025 }, "seed_contribution": { "Percentage": 0 },
              "seed_strategy": { "initial_seed_value": 100, "min_reseed_value": 100, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "MustDropByValue": { "max_value": 100.01 } } ] }
          ]
        }
        """)!.AsObject();

    [Test]
    public async Task Top_contributors_are_ranked_lifetime_and_since_the_last_win_with_masked_player_ids()
    {
        var pots = Servers.Pots;
        var template = (await pots.PostAsync("/templates", Servers.Platform, Template())).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        (await pots.PostAsync($"/templates/{template}/publish", Servers.Platform)).Expect(HttpStatusCode.OK);
        var id = Guid.Parse((await pots.PostAsync("/templates/instantiate", Servers.Platform, new { template_id = template, owner_id = "cna", allowed_brands = new[] { "cna:a1" } }))
            .Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!);
        var jackpot = new Jackpot(id, "", ["cna:a1"]);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        string alice = $"alice-{suffix}", bob = $"bob-{suffix}", carol = $"carol-{suffix}";

        foreach (var (player, wins) in new[] { (alice, false), (alice, false), (bob, false), (bob, true), (carol, false) })
        {
            var result = await Jackpots.ContributeAsync(jackpot, player, "cna:a1");
            Assert.That(result.GetProperty("wins").GetArrayLength(), Is.EqualTo(wins ? 1 : 0), $"{player}'s contribution");
        }

        var lifetime = (await Servers.Connect.GetAsync($"/v1/thrillpots/instances/{id}/leaderboard")).Expect(HttpStatusCode.OK).Json;
        Assert.That(lifetime.GetProperty("scope").GetString(), Is.EqualTo("lifetime"));
        Assert.That(lifetime.GetProperty("currency").GetString(), Is.EqualTo("EUR"));
        var entries = lifetime.GetProperty("entries").EnumerateArray().ToList();
        // alice and bob tie at 0.2: the earlier first contribution ranks first.
        Assert.That(entries.Select(e => e.GetProperty("player_id").GetString()),
            Is.EqualTo(new[] { $"al***{suffix[^2..]}", $"bo***{suffix[^2..]}", $"ca***{suffix[^2..]}" }));
        Assert.That(entries.Select(e => e.GetProperty("contribution_value").GetDecimal()), Is.EqualTo(new[] { 0.2m, 0.2m, 0.1m }));
        Assert.That(entries.Select(e => e.GetProperty("rank").GetInt32()), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(entries[0].GetProperty("contribution_count").GetInt64(), Is.EqualTo(2));
        Assert.That(entries[0].GetProperty("brand_id").GetString(), Is.EqualTo("cna:a1"));
        Assert.That(lifetime.ToString(), Does.Not.Contain(alice), "no raw player id on a public page");

        var sinceWin = (await Servers.Connect.GetAsync($"/v1/thrillpots/instances/{id}/leaderboard?scope=since_last_win&limit=5")).Expect(HttpStatusCode.OK).Json;
        Assert.That(sinceWin.GetProperty("since").GetInt64(), Is.GreaterThan(0));
        Assert.That(sinceWin.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("player_id").GetString()), Is.EqualTo(new[] { $"ca***{suffix[^2..]}" }));

        var top1 = (await Servers.Connect.GetAsync($"/v1/thrillpots/instances/{id}/leaderboard?limit=1")).Expect(HttpStatusCode.OK).Json;
        Assert.That(top1.GetProperty("entries").GetArrayLength(), Is.EqualTo(1));

        (await Servers.Connect.GetAsync($"/v1/thrillpots/instances/{id}/leaderboard?scope=weekly")).ExpectInvalid("scope");
        (await Servers.Connect.GetAsync($"/v1/thrillpots/instances/{id}/leaderboard?limit=0")).ExpectInvalid("limit");
        (await Servers.Connect.GetAsync($"/v1/thrillpots/instances/{id}/leaderboard?limit=101")).ExpectInvalid("limit");
        (await Servers.Connect.GetAsync("/v1/thrillpots/instances/not-a-uuid/leaderboard")).ExpectInvalid("instance_id");
        (await Servers.Connect.GetAsync($"/v1/thrillpots/instances/{Guid.NewGuid()}/leaderboard")).ExpectProblem(HttpStatusCode.NotFound);
    }
}
