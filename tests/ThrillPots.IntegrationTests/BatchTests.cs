using ThrillSuite.Grpc;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.IntegrationTests;

/// <summary>v2, the HTTP batch and the gRPC batch: one result per element, each as the single forms would answer it.</summary>
public class BatchTests
{
    static JsonObject V2(Jackpot jackpot, string? player = null, string? round = null, string type = "instance") => new()
    {
        ["target"] = new JsonObject { ["type"] = type, ["id"] = type == "instance" ? jackpot.Id : jackpot.Source },
        ["owner_id"] = "tpa",
        ["player"] = new JsonObject { ["id"] = player ?? Fixtures.Unique("p"), ["country"] = "MT", ["brand_id"] = "b1" },
        ["gameround_id"] = round ?? Fixtures.Unique("r"),
        ["currency"] = "EUR",
        ["base_wager"] = 2.5,
        ["bet_context"] = new JsonObject { ["game"] = "slot-1" },
        ["metadata"] = new JsonObject { ["k"] = "v" },
    };

    [Test]
    public async Task V2_answers_an_array_of_results_and_refuses_like_v1()
    {
        var jackpot = await Jackpots.CreateAsync();
        var result = (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, V2(jackpot, type: "source"))).Expect(HttpStatusCode.OK).Json;
        Assert.That(result.ValueKind, Is.EqualTo(JsonValueKind.Array));
        Assert.That(result.EnumerateArray().Single().GetProperty("instance_id").GetString(), Is.EqualTo(jackpot.Id));
        Assert.That(result[0].GetProperty("outcome").GetString(), Is.EqualTo("accepted"));

        await Jackpots.SetStateAsync(jackpot, "Paused");
        var refused = (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, V2(jackpot))).ExpectConflict().Json;
        Assert.That(refused.GetProperty("state").GetString(), Is.EqualTo("Paused"));
    }

    [Test]
    public async Task The_http_batch_answers_each_element_in_place()
    {
        var jackpot = await Jackpots.CreateAsync();
        var repeated = V2(jackpot);
        var conflicting = repeated.DeepClone().AsObject();
        conflicting["base_wager"] = 3;
        var invalid = V2(jackpot);
        invalid["currency"] = "eur";
        var unknown = V2(new Jackpot(Guid.NewGuid().ToString(), ""));
        var batch = new JsonArray(V2(jackpot), repeated, repeated.DeepClone(), conflicting, invalid, unknown, null);

        var items = (await Servers.Pots.PostAsync("/jackpots/contribute/batch", Servers.OperatorA, batch)).Expect(HttpStatusCode.OK).Json
            .EnumerateArray().ToList();
        Assert.That(items.Select(i => i.GetProperty("index").GetInt32()), Is.EqualTo(Enumerable.Range(0, 7)));
        string Outcome(int i) => items[i].GetProperty("results")[0].GetProperty("outcome").GetString()!;
        Assert.That(Outcome(0), Is.EqualTo("accepted"));
        Assert.That(new[] { Outcome(1), Outcome(2) }, Is.EquivalentTo(new[] { "accepted", "duplicate" }));
        Assert.That(Outcome(3), Is.EqualTo("conflict"));
        Assert.That(Outcome(4), Is.EqualTo("invalid"));
        Assert.That(items[4].GetProperty("results")[0].GetProperty("errors").TryGetProperty("currency", out _), Is.True);
        Assert.That(Outcome(5), Is.EqualTo("rejected"));
        Assert.That(items[5].GetProperty("results")[0].GetProperty("reason").GetString(), Is.EqualTo("not_found"));
        Assert.That(Outcome(6), Is.EqualTo("invalid"));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(2));

        (await Servers.Pots.PostAsync("/jackpots/contribute/batch", Servers.OperatorA, new JsonArray())).ExpectInvalid("body");
    }

    [Test]
    public async Task Resent_keys_among_new_ones_answer_their_first_results_and_only_the_new_ones_are_applied()
    {
        // The writer finds a repeated key at the ledger's unique key (it looks keys up first only after a repeat): the
        // batch holding one must run again and come out exactly as if every key had been looked up.
        var jackpot = await Jackpots.CreateAsync();
        var sent = Enumerable.Range(0, 3).Select(_ => V2(jackpot)).ToList();
        var first = new List<string>();
        foreach (var body in sent)
            first.Add((await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, body)).Expect(HttpStatusCode.OK)
                .Json[0].GetProperty("contribution_id").GetString()!);
        var changed = sent[1].DeepClone().AsObject();
        changed["base_wager"] = 7;
        var batch = new JsonArray(sent[0].DeepClone(), V2(jackpot), changed, V2(jackpot), sent[2].DeepClone());

        var items = (await Servers.Pots.PostAsync("/jackpots/contribute/batch", Servers.OperatorA, batch)).Expect(HttpStatusCode.OK).Json
            .EnumerateArray().Select(i => i.GetProperty("results")[0]).ToList();
        Assert.That(items.Select(i => i.GetProperty("outcome").GetString()),
            Is.EqualTo(new[] { "duplicate", "accepted", "conflict", "accepted", "duplicate" }));
        Assert.That(items[0].GetProperty("contribution_id").GetString(), Is.EqualTo(first[0]));
        Assert.That(items[4].GetProperty("contribution_id").GetString(), Is.EqualTo(first[2]));
        Assert.That(items[2].GetProperty("reason").GetString(), Is.EqualTo("key_conflict"));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(5));

        // A twin jackpot fed five distinct contributions holds exactly what this one holds: nothing applied twice.
        var twin = await Jackpots.CreateAsync();
        for (var i = 0; i < 5; i++)
            (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, V2(twin))).Expect(HttpStatusCode.OK);
        Assert.That(await Jackpots.PotsAsync(jackpot), Is.EqualTo(await Jackpots.PotsAsync(twin)));
        var reconciliation = await Jackpots.ReconcileAsync(jackpot);
        Assert.That(reconciliation.GetProperty("balanced").GetBoolean(), Is.True, reconciliation.ToString());

        // New keys keep being accepted after the repeats.
        var after = (await Servers.Pots.PostAsync("/jackpots/contribute/batch", Servers.OperatorA, new JsonArray(V2(jackpot), V2(jackpot))))
            .Expect(HttpStatusCode.OK).Json.EnumerateArray().Select(i => i.GetProperty("results")[0].GetProperty("outcome").GetString());
        Assert.That(after, Is.All.EqualTo("accepted"));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(7));
    }

    static Proto.Contribution Element(Jackpot jackpot, string? round = null) => new()
    {
        Target = new Proto.Target { Type = "instance", Id = jackpot.Id },
        BrandId = "tpa:b1", PlayerId = "grpc-player", PlayerCountry = "MT", GameroundId = round ?? Fixtures.Unique("r"), Currency = "EUR",
        BaseWager = "1.25", MetadataJson = """{"source":"grpc"}""",
    };

    [Test]
    public async Task The_grpc_batch_commits_many_and_answers_each_in_order()
    {
        var jackpot = await Jackpots.CreateAsync();
        var request = new Proto.ContributeBatchRequest();
        for (var i = 0; i < 300; i++) request.Contributions.Add(Element(jackpot, $"g-{i}"));
        request.Contributions.Add(Element(jackpot, "g-7"));
        var bad = Element(jackpot);
        bad.BaseWager = "-1";
        request.Contributions.Add(bad);
        var noBrand = Element(jackpot);
        noBrand.BrandId = "tpa";
        request.Contributions.Add(noBrand);

        var reply = await Jackpots.CallAsync<Proto.ContributeBatchReply>(Jackpots.ContributeBatch, request, Servers.OperatorA);
        Assert.That(reply.Results, Has.Count.EqualTo(303));
        Assert.That(reply.Results.Take(300).Select(r => r.Items.Single().Outcome), Is.All.EqualTo("accepted"));
        Assert.That(reply.Results[300].Items[0].Outcome, Is.EqualTo("duplicate"));
        Assert.That(reply.Results[300].Items[0].ContributionId, Is.EqualTo(reply.Results[7].Items[0].ContributionId));
        Assert.That(reply.Results[301].Items[0].Outcome, Is.EqualTo("invalid"));
        Assert.That(reply.Results[301].Items[0].Detail, Does.Contain("base_wager"));
        Assert.That(reply.Results[302].Items[0].Detail, Does.Contain("brand_id"));
        Assert.That(reply.Results[0].Items[0].ContributionValue, Is.EqualTo("0.1"));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(300));
        var reconciliation = await Jackpots.ReconcileAsync(jackpot);
        Assert.That(reconciliation.GetProperty("balanced").GetBoolean(), Is.True, reconciliation.ToString());
    }

    [Test]
    public async Task The_grpc_batch_needs_a_valid_token_with_the_permission()
    {
        var jackpot = await Jackpots.CreateAsync();
        var request = new Proto.ContributeBatchRequest { Contributions = { Element(jackpot) } };
        var none = Assert.ThrowsAsync<RpcException>(() => Jackpots.CallAsync<Proto.ContributeBatchReply>(Jackpots.ContributeBatch, request));
        Assert.That(none!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        var forged = Assert.ThrowsAsync<RpcException>(() => Jackpots.CallAsync<Proto.ContributeBatchReply>(Jackpots.ContributeBatch, request, "x.y.z"));
        Assert.That(forged!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        var reader = Assert.ThrowsAsync<RpcException>(() => Jackpots.CallAsync<Proto.ContributeBatchReply>(Jackpots.ContributeBatch, request, Servers.ReadOnlyA));
        Assert.That(reader!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        var empty = Assert.ThrowsAsync<RpcException>(() => Jackpots.CallAsync<Proto.ContributeBatchReply>(Jackpots.ContributeBatch,
            new Proto.ContributeBatchRequest(), Servers.OperatorA));
        Assert.That(empty!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        var other = await Jackpots.CallAsync<Proto.ContributeBatchReply>(Jackpots.ContributeBatch, request, Servers.OperatorB);
        Assert.That(other.Results[0].Items[0].Reason, Is.EqualTo("forbidden"));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.Zero);
    }
}
