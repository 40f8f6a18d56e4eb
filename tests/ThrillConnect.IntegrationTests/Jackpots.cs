namespace ThrillConnect.IntegrationTests;

/// <summary>A live ThrillPots instance fed by a source of its own under each of its brands.</summary>
public sealed record Jackpot(Guid Id, string Source, string[] Brands);

/// <summary>Real instances in ThrillPots, set up through its admin API, and contributions through its operator API.</summary>
public static class Jackpots
{
    /// <summary>
    /// Two pots: "small" (HitRate 1 in <paramref name="magic"/> per 0.1, seed 10) and "big" (MustDropByValue, seed 100).
    /// A huge <paramref name="magic"/> makes a win practically impossible, 1 makes every contribution win.
    /// </summary>
    public static JsonObject Template(string owner, bool optIn, long magic) => JsonNode.Parse($$"""
        {
          "name": "Connect test", "owner_id": "{{owner}}", "currency": "EUR",
          "contribution_rules": { "opt_in_required": {{(optIn ? "true" : "false")}}, "contribution_type": { "Fixed": 0.1 }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.3 },
          "win_selector_strategy": "Highest",
          "pots": [
            { "id": "small", "contribution": { "Percentage": 0.4 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 10, "min_reseed_value": 10, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "HitRate": { "max_magic_number": {{magic}}, "cost_per_attempt": 0.1 } } ] },
            { "id": "big", "contribution": { "Percentage": 0.3 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 100, "min_reseed_value": 100, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "MustDropByValue": { "max_value": 1000000 } } ] }
          ]
        }
        """)!.AsObject();

    public static async Task<Jackpot> CreateAsync(string[] brands, bool optIn = false, long magic = 1_000_000_000_000_000, string owner = Servers.OrgA,
        Action<JsonObject>? changeTemplate = null)
    {
        var pots = Servers.Pots;
        var token = Servers.Platform;
        var definition = Template(owner, optIn, magic);
        changeTemplate?.Invoke(definition);
        var template = (await pots.PostAsync("/templates", token, definition)).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        (await pots.PostAsync($"/templates/{template}/publish", token)).Expect(HttpStatusCode.OK);
        var id = (await pots.PostAsync("/templates/instantiate", token, new { template_id = template, owner_id = owner, allowed_brands = brands }))
            .Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        var source = "src-" + Guid.NewGuid().ToString("N")[..8];
        foreach (var brand in brands)
        {
            (await pots.PostAsync("/config/sources", token, new[] { new { owner_id = brand, source_name = "Source " + source, source_id = source } }))
                .Expect(HttpStatusCode.Created);
            (await pots.PostAsync("/config/sources/assignjackpot", token, new { owner_id = brand, source_id = new[] { source }, instance_id = id }))
                .Expect(HttpStatusCode.OK);
        }
        return new Jackpot(Guid.Parse(id), source, brands);
    }

    /// <summary>A v1 by-instance contribution of <paramref name="player"/> (any id: contributions need no wallet here).</summary>
    public static async Task<JsonElement> ContributeAsync(Jackpot jackpot, string player, string brand, decimal wager = 1m) =>
        (await Servers.Pots.PostAsync("/jackpots/contribute/instance", Servers.Platform, new
        {
            token = "session-token", brand_id = brand, player_id = player, player_country = "MT", instance_id = jackpot.Id.ToString(),
            gameround_id = "r-" + Guid.NewGuid().ToString("N")[..12], currency = "EUR", base_wager = wager,
        })).Expect(HttpStatusCode.OK).Json;

    public static async Task SetStateAsync(Jackpot jackpot, string state) =>
        (await Servers.Pots.PostAsync($"/instances/{jackpot.Id}/state", Servers.Platform, new { state })).Expect(HttpStatusCode.OK);
}
