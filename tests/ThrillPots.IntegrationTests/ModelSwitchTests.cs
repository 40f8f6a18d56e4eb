using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.IntegrationTests;

/// <summary>Model switching (spec §21.4): POST /instances/switchmodel, its validation, dry runs, and a switch under load.</summary>
public class ModelSwitchTests
{
    /// <summary>The target model: "minor" and "major" start at 0 (they receive the money), "extra" at 5 (it may not).</summary>
    static JsonObject TargetTemplate(string currency = "EUR") => JsonNode.Parse($$"""
        {
          "name": "Switched model", "owner_id": "tpa", "currency": "{{currency}}",
          "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.1 }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.3 },
          "win_selector_strategy": "Highest",
          "pots": [
            { "id": "minor", "contribution": { "Percentage": 0.3 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 0, "min_reseed_value": 10, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "HitRate": { "max_magic_number": 1000000000000000, "cost_per_attempt": 0.1 } } ] },
            { "id": "major", "contribution": { "Percentage": 0.3 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 0, "min_reseed_value": 100, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "HitRate": { "max_magic_number": 1000000000000000, "cost_per_attempt": 0.1 } } ] },
            { "id": "extra", "contribution": { "Percentage": 0.1 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 5, "min_reseed_value": 5, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "HitRate": { "max_magic_number": 1000000000000000, "cost_per_attempt": 0.1 } } ] }
          ]
        }
        """)!.AsObject();

    static async Task<string> TemplateAsync(JsonObject? template = null, bool publish = true)
    {
        var id = (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, template ?? TargetTemplate())).Expect(HttpStatusCode.Created)
            .Json.GetProperty("id").GetString()!;
        if (publish) (await Servers.Pots.PostAsync($"/templates/{id}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        return id;
    }

    // Thirds that sum to exactly 1, so the cut leaves a residue for the larger part.
    const decimal Third = 0.3333333333333333m, TwoThirds = 0.6666666666666667m;

    static JsonObject Switch(Jackpot source, string templateId, bool dryRun = false, bool transferOptins = true) => new()
    {
        ["source_instance_id"] = source.Id,
        ["template_id"] = templateId,
        ["template_owner_id"] = "tpa",
        ["target_instance_owner_id"] = "tpa",
        ["target_instance_name"] = "Switched " + source.Id[..8],
        ["pot_rules"] = new JsonArray(
            new JsonObject { ["source_pot"] = "small", ["target_pot"] = new JsonObject { ["minor"] = 1 } },
            new JsonObject { ["source_pot"] = "big", ["target_pot"] = new JsonObject { ["minor"] = Third, ["major"] = TwoThirds } }),
        ["transfer_optins"] = transferOptins,
        ["reason"] = "Redistributing pot values",
        ["dry_run"] = dryRun,
    };

    static async Task<Dictionary<string, (decimal Value, decimal Fund, decimal Boost)>> PotsAsync(string instanceId)
    {
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        return (await c.QueryAsync<(string PotId, decimal Value, decimal Fund, decimal Boost)>(
                "select pot_id, value, reseed_fund, seed_boost from pots where instance_id = @id", new { id = Guid.Parse(instanceId) }))
            .ToDictionary(p => p.PotId, p => (p.Value, p.Fund, p.Boost));
    }

    static async Task<string> StateAsync(string instanceId) =>
        (await Servers.Pots.GetAsync($"/instances/{instanceId}", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json.GetProperty("state").GetString()!;

    static decimal Total((decimal Value, decimal Fund, decimal Boost) p) => p.Value + p.Fund + p.Boost;

    [Test]
    public async Task A_dry_run_previews_the_switch_and_the_switch_moves_pots_opt_ins_and_sources_to_a_new_instance()
    {
        var source = await Jackpots.CreateAsync();
        for (var i = 0; i < 7; i++) (await Jackpots.ContributeAsync(Jackpots.Body(source))).Expect(HttpStatusCode.OK);
        (await Servers.Pots.PostAsync($"/instances/{source.Id}/boosts", Servers.OperatorA, new { pot_id = "big", amount = 3.5 })).Expect(HttpStatusCode.Created);
        var player = Fixtures.Unique("p");
        await Jackpots.OptInAsync(source, player, value: "0.3", currency: "EUR");
        var templateId = await TemplateAsync();
        var before = await PotsAsync(source.Id);

        var preview = (await Servers.Pots.PostAsync("/instances/switchmodel", Servers.OperatorA, Switch(source, templateId, dryRun: true)))
            .Expect(HttpStatusCode.OK).Json;
        Assert.That(preview.GetProperty("dry_run").GetBoolean(), Is.True);
        Assert.That(preview.GetProperty("target_instance_id").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(await StateAsync(source.Id), Is.EqualTo("Active"));
        Assert.That(await PotsAsync(source.Id), Is.EqualTo(before), "a dry run changes nothing");

        var done = (await Servers.Pots.PostAsync("/instances/switchmodel", Servers.OperatorA, Switch(source, templateId))).Expect(HttpStatusCode.Created).Json;
        Assert.That(done.GetProperty("dry_run").GetBoolean(), Is.False);
        var target = done.GetProperty("target_instance_id").GetString()!;
        Assert.That(done.GetProperty("transfers").ToString(), Is.EqualTo(preview.GetProperty("transfers").ToString()), "the preview was the switch");

        // Every cent moved: small → minor; big (value, reseed fund, boost) → minor ⅓ and major ⅔, the residue to major.
        var moved = done.GetProperty("transfers").EnumerateArray().ToList();
        Assert.That(moved.Sum(t => t.GetProperty("amount").GetDecimal()), Is.EqualTo(before.Values.Sum(Total)));
        var big = moved.Where(t => t.GetProperty("source_pot").GetString() == "big").ToList();
        Assert.That(big.Sum(t => t.GetProperty("value").GetDecimal()), Is.EqualTo(before["big"].Value));
        Assert.That(big.Sum(t => t.GetProperty("seed_boost").GetDecimal()), Is.EqualTo(3.5m));
        var toMinor = big.Single(t => t.GetProperty("target_pot").GetString() == "minor").GetProperty("value").GetDecimal();
        Assert.That(toMinor, Is.EqualTo(decimal.Round(before["big"].Value * Third, 12, MidpointRounding.ToZero)));
        var after = await PotsAsync(target);
        Assert.That(Total(after["minor"]) + Total(after["major"]), Is.EqualTo(before.Values.Sum(Total)));
        Assert.That(after["minor"].Value, Is.EqualTo(before["small"].Value + toMinor));
        Assert.That(after["extra"], Is.EqualTo((5m, 0m, 0m)));
        Assert.That((await PotsAsync(source.Id)).Values.Sum(Total), Is.Zero);

        Assert.That(await StateAsync(source.Id), Is.EqualTo("Terminated"));
        Assert.That(await StateAsync(target), Is.EqualTo("Active"));
        foreach (var id in new[] { source.Id, target })
        {
            var report = (await Servers.Pots.GetAsync($"/instances/{id}/reconciliation", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
            Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, report.ToString());
        }

        // Opt-ins and sources followed; the old instance refuses, the source now feeds the new one.
        var optIn = await Jackpots.CallAsync<Proto.OptInState>(Jackpots.GetOptIn, new Proto.GetOptInRequest { InstanceId = target, BrandId = "tpa:b1", PlayerId = player });
        Assert.That((optIn.OptedIn, optIn.PreferredContributionValue), Is.EqualTo((true, "0.3")));
        var sourceDoc = (await Servers.Pots.GetAsync($"/config/sources/{source.Source}?owner_id=tpa:b1", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(sourceDoc.GetProperty("instance_ids").EnumerateArray().Select(i => i.GetString()), Is.EqualTo(new[] { target }));
        var refused = (await Jackpots.ContributeAsync(Jackpots.Body(source))).ExpectConflict().Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("instance_not_active"));
        var bySource = Jackpots.Body(source);
        bySource.Remove("instance_id");
        bySource["source_id"] = source.Source;
        var followed = (await Servers.Pots.PostAsync("/jackpots/contribute/source", Servers.OperatorA, bySource)).Expect(HttpStatusCode.OK).Json;
        Assert.That(followed.GetProperty("instance_id").GetString(), Is.EqualTo(target));

        var audit = await Fixtures.AuditAsync(source.Id);
        Assert.That(audit.Select(e => e.GetProperty("action").GetString()), Does.Contain("instance.switchmodel"));
        Assert.That((await Fixtures.AuditAsync(target)).Select(e => e.GetProperty("action").GetString()), Does.Contain("instance.create"));
    }

    [Test]
    public async Task Every_bad_switch_is_refused_naming_its_field_and_changes_nothing()
    {
        var source = await Jackpots.CreateAsync();
        (await Jackpots.ContributeAsync(Jackpots.Body(source))).Expect(HttpStatusCode.OK);
        var templateId = await TemplateAsync();
        var before = await PotsAsync(source.Id);
        var pots = Servers.Pots;
        async Task Invalid(Action<JsonObject> change, string field, string? token = null)
        {
            var body = Switch(source, templateId);
            change(body);
            (await pots.PostAsync("/instances/switchmodel", token ?? Servers.OperatorA, body)).ExpectInvalid(field);
        }
        JsonArray Rules(params (string Source, JsonObject Targets)[] rules) =>
            new([.. rules.Select(r => (JsonNode)new JsonObject { ["source_pot"] = r.Source, ["target_pot"] = r.Targets })]);

        var empty = (await pots.PostAsync("/instances/switchmodel", Servers.OperatorA, new { })).Expect(HttpStatusCode.BadRequest).Json;
        Assert.That(empty.GetProperty("errors").EnumerateObject().Select(e => e.Name), Is.SupersetOf(new[]
            { "source_instance_id", "template_id", "template_owner_id", "target_instance_owner_id", "target_instance_name", "pot_rules" }));
        await Invalid(b => b["pot_rules"] = Rules(("small", new JsonObject { ["minor"] = 1 }), ("huge", new JsonObject { ["minor"] = 1 })), "pot_rules[1].source_pot");
        await Invalid(b => b["pot_rules"] = Rules(("small", new JsonObject { ["minor"] = 1 }), ("small", new JsonObject { ["major"] = 1 }),
            ("big", new JsonObject { ["major"] = 1 })), "pot_rules[1].source_pot");
        await Invalid(b => b["pot_rules"] = Rules(("small", new JsonObject { ["minor"] = 1 })), "pot_rules");
        await Invalid(b => b["pot_rules"] = Rules(("small", new JsonObject { ["nope"] = 1 }), ("big", new JsonObject { ["major"] = 1 })), "pot_rules[0].target_pot.nope");
        await Invalid(b => b["pot_rules"] = Rules(("small", new JsonObject { ["minor"] = 0.5, ["major"] = 0.4 }), ("big", new JsonObject { ["major"] = 1 })),
            "pot_rules[0].target_pot");
        await Invalid(b => b["pot_rules"] = Rules(("small", new JsonObject { ["minor"] = 1.5, ["major"] = -0.5 }), ("big", new JsonObject { ["major"] = 1 })),
            "pot_rules[0].target_pot.major");
        await Invalid(b => b["pot_rules"] = Rules(("small", new JsonObject { ["extra"] = 1 }), ("big", new JsonObject { ["major"] = 1 })), "pot_rules[0].target_pot.extra");
        await Invalid(b => b["pot_rules"] = Rules(("small", new JsonObject()), ("big", new JsonObject { ["major"] = 1 })), "pot_rules[0].target_pot");
        await Invalid(b => b["template_owner_id"] = "tpa:b1", "template_owner_id");
        // The platform may act for both operators, but an instance never switches to another operator.
        await Invalid(b => b["target_instance_owner_id"] = "tpb", "target_instance_owner_id", Servers.Platform);
        await Invalid(b => b["target_instance_name"] = "", "target_instance_name");
        var usd = await TemplateAsync(TargetTemplate("USD"));
        await Invalid(b => b["template_id"] = usd, "template_id");
        await Invalid(b => b["pot_rules"] = new JsonArray(JsonValue.Create(1)), "pot_rules[0]");

        // A raffle is never switched, in either role (raffle templates come with their own feature: marked here by hand).
        var raffle = await TemplateAsync();
        await using (var c = new NpgsqlConnection(Servers.PotsDatabase))
            await c.ExecuteAsync("update templates set jackpot_type = 'Raffle' where id = @id", new { id = Guid.Parse(raffle) });
        await Invalid(b => b["template_id"] = raffle, "template_id");

        (await pots.PostAsync("/instances/switchmodel", Servers.OperatorA, Switch(source, Guid.NewGuid().ToString()))).ExpectNotFound();
        (await pots.PostAsync("/instances/switchmodel", Servers.OperatorA, Switch(new Jackpot(Guid.NewGuid().ToString(), ""), templateId))).ExpectNotFound();
        (await pots.PostAsync("/instances/switchmodel", Servers.OperatorA, Switch(source, await TemplateAsync(publish: false)))).ExpectConflict();
        var foreign = Switch(source, templateId);
        foreign["target_instance_owner_id"] = "tpb";
        foreign["template_owner_id"] = "tpb";
        (await pots.PostAsync("/instances/switchmodel", Servers.OperatorB, foreign)).ExpectForbidden();
        (await pots.PostAsync("/instances/switchmodel", Servers.ReadOnlyA, Switch(source, templateId))).ExpectForbidden();

        Assert.That(await StateAsync(source.Id), Is.EqualTo("Active"));
        Assert.That(await PotsAsync(source.Id), Is.EqualTo(before));
        await using (var c = new NpgsqlConnection(Servers.PotsDatabase))
            Assert.That(await c.ExecuteScalarAsync<long>("select count(*) from pot_transfers where source_instance = @id", new { id = source.Guid }), Is.Zero);

        await Jackpots.SetStateAsync(source, "Terminated");
        var terminated = (await pots.PostAsync("/instances/switchmodel", Servers.OperatorA, Switch(source, templateId))).ExpectConflict().Json;
        Assert.That(terminated.GetProperty("state").GetString(), Is.EqualTo("Terminated"));
    }

    [Test]
    public async Task A_switch_under_concurrent_contributions_counts_every_accepted_one_in_exactly_one_instance()
    {
        var source = await Jackpots.CreateAsync();
        var templateId = await TemplateAsync();
        var answers = new ConcurrentBag<(string Kind, string Round, HttpStatusCode Status, JsonElement Body)>();
        using var stop = new CancellationTokenSource();
        var accepted = 0;

        async Task ClientAsync(int n)
        {
            var bySource = n % 2 == 1;
            while (!stop.IsCancellationRequested)
            {
                var body = Jackpots.Body(source, player: $"load-{n}");
                if (bySource)
                {
                    body.Remove("instance_id");
                    body["source_id"] = source.Source;
                }
                var reply = await Servers.Pots.PostAsync(bySource ? "/jackpots/contribute/source" : "/jackpots/contribute/instance", Servers.OperatorA, body);
                answers.Add((bySource ? "source" : "instance", body["gameround_id"]!.GetValue<string>(), reply.Status, reply.Json));
                if (reply.Status == HttpStatusCode.OK) Interlocked.Increment(ref accepted);
            }
        }

        var clients = Enumerable.Range(0, 16).Select(n => Task.Run(() => ClientAsync(n))).ToList();
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref accepted) >= 300), TimeSpan.FromSeconds(60), "300 contributions before the switch");
        var done = (await Servers.Pots.PostAsync("/instances/switchmodel", Servers.OperatorA, Switch(source, templateId))).Expect(HttpStatusCode.Created).Json;
        var target = done.GetProperty("target_instance_id").GetString()!;
        var atSwitch = Volatile.Read(ref accepted);
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref accepted) >= atSwitch + 100), TimeSpan.FromSeconds(60),
            "100 more contributions (by source, to the new instance) after the switch");
        stop.Cancel();
        await Task.WhenAll(clients);

        var all = answers.ToList();
        Assert.That(all.Where(a => a.Kind == "source" && a.Status != HttpStatusCode.OK).Select(a => a.Body.ToString()), Is.Empty,
            "a by-source contribution follows the source to the new instance at once");
        var refusedReasons = all.Where(a => a.Status != HttpStatusCode.OK).Select(a => a.Body.GetProperty("reason").GetString()).Distinct().ToList();
        Assert.That(refusedReasons, Is.SubsetOf(new[] { "instance_not_active" }), "the only refusal is the terminated instance");
        Assert.That(all.Count(a => a.Status != HttpStatusCode.OK), Is.GreaterThan(0), "contributions to the old instance were refused after the switch");

        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        var ledger = (await c.QueryAsync<(string Round, Guid Instance)>(
                "select gameround_id, instance_id from contributions where instance_id = any(@ids)",
                new { ids = new[] { source.Guid, Guid.Parse(target) } }))
            .ToLookup(r => r.Round, r => r.Instance.ToString());
        var acceptedAnswers = all.Where(a => a.Status == HttpStatusCode.OK).ToList();
        foreach (var a in acceptedAnswers)
            Assert.That(ledger[a.Round].ToList(), Is.EqualTo(new[] { a.Body.GetProperty("instance_id").GetString() }),
                $"accepted {a.Kind} contribution {a.Round} is in exactly the instance that answered");
        foreach (var a in all.Where(a => a.Status != HttpStatusCode.OK))
            Assert.That(ledger[a.Round], Is.Empty, $"refused contribution {a.Round} is in no ledger");
        Assert.That(ledger.Sum(g => g.Count()), Is.EqualTo(acceptedAnswers.Count));
        Assert.That(acceptedAnswers.Count(a => a.Body.GetProperty("instance_id").GetString() == target), Is.GreaterThan(0));

        // The value moved exactly: what the source's pots held at the switch is what the transfers carried.
        var sourceReport = (await Servers.Pots.GetAsync($"/instances/{source.Id}/reconciliation", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        var targetReport = (await Servers.Pots.GetAsync($"/instances/{target}/reconciliation", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(sourceReport.GetProperty("balanced").GetBoolean(), Is.True, sourceReport.ToString());
        Assert.That(targetReport.GetProperty("balanced").GetBoolean(), Is.True, targetReport.ToString());
        var movedOut = sourceReport.GetProperty("pots").EnumerateArray().Sum(p => p.GetProperty("transfers_out").GetDecimal());
        var movedIn = targetReport.GetProperty("pots").EnumerateArray().Sum(p => p.GetProperty("transfers_in").GetDecimal());
        Assert.That(movedIn, Is.EqualTo(movedOut));
        Assert.That(movedOut, Is.EqualTo(done.GetProperty("moved").EnumerateArray().Sum(m => m.GetProperty("amount").GetDecimal())));
        var sourceLedger = sourceReport.GetProperty("ledger");
        Assert.That(sourceLedger.GetProperty("contributions").GetInt64(), Is.EqualTo(acceptedAnswers.Count(a => a.Body.GetProperty("instance_id").GetString() == source.Id)));
        // Source pots: initial seeds + every pot share of the ledger (± wins), all moved out.
        Assert.That(movedOut, Is.EqualTo(sourceReport.GetProperty("pots").EnumerateArray().Sum(p => p.GetProperty("initial_seed").GetDecimal()
            + p.GetProperty("shares").GetDecimal() + p.GetProperty("seed_deficits").GetDecimal() + p.GetProperty("boosts").GetDecimal()
            - p.GetProperty("wins").GetDecimal())));
        Assert.That(sourceLedger.GetProperty("pot_shares").GetDecimal(), Is.GreaterThan(0m));
        Assert.That(sourceReport.GetProperty("pots").EnumerateArray().Sum(p => p.GetProperty("actual").GetDecimal()), Is.Zero);
    }
}
