using ThrillSuite.Contracts.Pots;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.IntegrationTests;

/// <summary>Linked jackpots (spec §14.2, §16): links, v2 propagation one level deep, failures, opt_linked, admin calls.</summary>
public class LinkedJackpotTests
{
    /// <summary>An instance of tpa (brands b1, b2) from its own published template, optionally linked to at instantiation.</summary>
    internal static async Task<Jackpot> InstanceAsync(string name, bool optIn = false, string? linkedInstance = null)
    {
        var pots = Servers.Pots;
        var templateId = (await pots.PostAsync("/templates", Servers.OperatorA, Jackpots.Template(optIn))).Expect(HttpStatusCode.Created)
            .Json.GetProperty("id").GetString()!;
        (await pots.PostAsync($"/templates/{templateId}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var created = (await pots.PostAsync("/templates/instantiate", Servers.OperatorA, new
        {
            template_id = templateId, owner_id = "tpa", name, allowed_brands = new[] { "tpa:b1", "tpa:b2" }, linked_instance = linkedInstance,
        })).Expect(HttpStatusCode.Created).Json;
        if (linkedInstance is not null) Assert.That(created.GetProperty("linked_instance").GetString(), Is.EqualTo(linkedInstance));
        return new Jackpot(created.GetProperty("id").GetString()!, "");
    }

    internal static JsonObject V2(Jackpot target, string player, string? round = null) => new()
    {
        ["target"] = new JsonObject { ["type"] = "instance", ["id"] = target.Id },
        ["owner_id"] = "tpa",
        ["player"] = new JsonObject { ["id"] = player, ["country"] = "MT", ["brand_id"] = "b1" },
        ["gameround_id"] = round ?? Fixtures.Unique("r"),
        ["currency"] = "EUR",
        ["base_wager"] = 1,
        ["metadata"] = new JsonObject { ["bet"] = "x" },
    };

    static async Task<List<JsonElement>> ContributeV2Async(JsonObject body) =>
        [.. (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, body)).Expect(HttpStatusCode.OK).Json.EnumerateArray()];

    static string Instance(JsonElement result) => result.GetProperty("instance_id").GetString()!;
    static string Outcome(JsonElement result) => result.GetProperty("outcome").GetString()!;

    [Test]
    public async Task Scenario_1_Weekly_and_Monthly_linked_to_Daily_a_contribution_to_Daily_hits_Daily_Weekly_and_Monthly()
    {
        var daily = await InstanceAsync("Daily");
        var weekly = await InstanceAsync("Weekly", linkedInstance: daily.Id);
        var monthly = await InstanceAsync("Monthly", linkedInstance: daily.Id);

        var results = await ContributeV2Async(V2(daily, Fixtures.Unique("p")));

        Assert.That(results.Select(Instance), Is.EqualTo(new[] { daily.Id, weekly.Id, monthly.Id }));
        Assert.That(results.Select(Outcome), Is.All.EqualTo("accepted"));
        foreach (var jackpot in new[] { daily, weekly, monthly })
        {
            Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));
            Assert.That((await Jackpots.ReconcileAsync(jackpot)).GetProperty("balanced").GetBoolean(), Is.True);
        }
        // v1 knows nothing of links.
        (await Jackpots.ContributeAsync(Jackpots.Body(daily))).Expect(HttpStatusCode.OK);
        Assert.That(await Jackpots.LedgerCountAsync(weekly), Is.EqualTo(1));
    }

    [Test]
    public async Task Scenario_2_Weekly_linked_to_Daily_Monthly_linked_to_Weekly_a_contribution_to_Daily_hits_Daily_and_Weekly_only()
    {
        var daily = await InstanceAsync("Daily");
        var weekly = await InstanceAsync("Weekly", linkedInstance: daily.Id);
        var monthly = await InstanceAsync("Monthly", linkedInstance: weekly.Id);

        var results = await ContributeV2Async(V2(daily, Fixtures.Unique("p")));

        Assert.That(results.Select(Instance), Is.EqualTo(new[] { daily.Id, weekly.Id }));
        Assert.That(results.Select(Outcome), Is.All.EqualTo("accepted"));
        Assert.That(await Jackpots.LedgerCountAsync(monthly), Is.Zero);

        // Weekly's own link applies to contributions made to Weekly.
        var toWeekly = await ContributeV2Async(V2(weekly, Fixtures.Unique("p")));
        Assert.That(toWeekly.Select(Instance), Is.EqualTo(new[] { weekly.Id, monthly.Id }));
        Assert.That(await Jackpots.LedgerCountAsync(daily), Is.EqualTo(1));
    }

    [Test]
    public async Task Scenario_3_Weekly_requires_opt_in_and_the_player_is_not_opted_in_Weekly_errors_and_Monthly_is_still_processed()
    {
        var daily = await InstanceAsync("Daily");
        var weekly = await InstanceAsync("Weekly", optIn: true, linkedInstance: daily.Id);
        var monthly = await InstanceAsync("Monthly", linkedInstance: daily.Id);
        var player = Fixtures.Unique("p");
        var body = V2(daily, player);

        var results = await ContributeV2Async(body);

        Assert.That(results.Select(Instance), Is.EqualTo(new[] { daily.Id, weekly.Id, monthly.Id }));
        Assert.That(results.Select(Outcome), Is.EqualTo(new[] { "accepted", "rejected", "accepted" }));
        Assert.That(results[1].GetProperty("reason").GetString(), Is.EqualTo("not_opted_in"));
        Assert.That(await Jackpots.LedgerCountAsync(weekly), Is.Zero);
        Assert.That(await Jackpots.LedgerCountAsync(monthly), Is.EqualTo(1));

        // A repeat answers each instance's original result and changes nothing.
        var repeat = await ContributeV2Async(body);
        Assert.That(repeat.Select(Outcome), Is.EqualTo(new[] { "duplicate", "rejected", "duplicate" }));
        Assert.That(repeat[0].GetProperty("contribution_id").GetString(), Is.EqualTo(results[0].GetProperty("contribution_id").GetString()));
        Assert.That(repeat[2].GetProperty("contribution_id").GetString(), Is.EqualTo(results[2].GetProperty("contribution_id").GetString()));
        Assert.That(await Jackpots.LedgerCountAsync(daily), Is.EqualTo(1));
        Assert.That(await Jackpots.LedgerCountAsync(monthly), Is.EqualTo(1));
    }

    [Test]
    public async Task When_the_main_contribution_fails_the_linked_instances_are_not_attempted()
    {
        var daily = await InstanceAsync("Daily");
        var weekly = await InstanceAsync("Weekly", linkedInstance: daily.Id);
        await Jackpots.SetStateAsync(daily, "Paused");

        var refused = (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, V2(daily, Fixtures.Unique("p")))).ExpectConflict().Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("instance_not_active"));
        Assert.That(refused.GetProperty("instance_id").GetString(), Is.EqualTo(daily.Id));

        var batch = (await Servers.Pots.PostAsync("/jackpots/contribute/batch", Servers.OperatorA, new JsonArray(V2(daily, Fixtures.Unique("p")))))
            .Expect(HttpStatusCode.OK).Json;
        Assert.That(batch[0].GetProperty("results").GetArrayLength(), Is.EqualTo(1));
        Assert.That(await Jackpots.LedgerCountAsync(weekly), Is.Zero);
    }

    [Test]
    public async Task The_http_and_grpc_batches_propagate_to_linked_instances()
    {
        var daily = await InstanceAsync("Daily");
        var weekly = await InstanceAsync("Weekly", linkedInstance: daily.Id);

        var batch = (await Servers.Pots.PostAsync("/jackpots/contribute/batch", Servers.OperatorA, new JsonArray(V2(daily, Fixtures.Unique("p")))))
            .Expect(HttpStatusCode.OK).Json;
        Assert.That(batch[0].GetProperty("results").EnumerateArray().Select(Instance), Is.EqualTo(new[] { daily.Id, weekly.Id }));

        var request = new Proto.ContributeBatchRequest();
        request.Contributions.Add(new Proto.Contribution
        {
            Target = new Proto.Target { Type = "instance", Id = daily.Id }, BrandId = "tpa:b1", PlayerId = Fixtures.Unique("p"),
            GameroundId = Fixtures.Unique("r"), Currency = "EUR", BaseWager = "1",
        });
        var reply = await Jackpots.CallAsync<Proto.ContributeBatchReply>(Jackpots.ContributeBatch, request, Servers.OperatorA);
        Assert.That(reply.Results[0].Items.Select(i => (i.InstanceId, i.Outcome)),
            Is.EqualTo(new[] { (daily.Id, "accepted"), (weekly.Id, "accepted") }));
        Assert.That(await Jackpots.LedgerCountAsync(weekly), Is.EqualTo(2));
    }

    [Test]
    public async Task Opt_linked_opts_the_player_into_the_directly_linked_instances_with_one_OptInEvent_each()
    {
        var daily = await InstanceAsync("Daily", optIn: true);
        var weekly = await InstanceAsync("Weekly", optIn: true, linkedInstance: daily.Id);
        var monthly = await InstanceAsync("Monthly", optIn: true, linkedInstance: weekly.Id);
        var player = Fixtures.Unique("p");

        var state = await Jackpots.CallAsync<Proto.OptInState>(Jackpots.SetOptIn, new Proto.SetOptInRequest
        {
            Target = new Proto.Target { Type = "instance", Id = daily.Id }, BrandId = "tpa:b1", PlayerId = player, OptIn = true, OptLinked = true,
        });
        Assert.That(state.InstanceId, Is.EqualTo(daily.Id));
        foreach (var jackpot in new[] { daily, weekly })
            await Events.WaitAsync<OptInChanged>(e => e.InstanceId == jackpot.Guid && e.PlayerId == player && e.OptedIn, $"the OptInEvent on {jackpot.Id}");
        var onMonthly = await Jackpots.CallAsync<Proto.OptInState>(Jackpots.GetOptIn,
            new Proto.GetOptInRequest { InstanceId = monthly.Id, BrandId = "tpa:b1", PlayerId = player });
        Assert.That(onMonthly.OptedIn, Is.False, "one level only");

        var results = await ContributeV2Async(V2(daily, player));
        Assert.That(results.Select(Outcome), Is.EqualTo(new[] { "accepted", "accepted" }));

        // Without opt_linked only the target changes; with it, the links opt out too.
        await Jackpots.CallAsync<Proto.OptInState>(Jackpots.SetOptIn, new Proto.SetOptInRequest
        {
            Target = new Proto.Target { Type = "instance", Id = daily.Id }, BrandId = "tpa:b1", PlayerId = player, OptIn = false, OptLinked = true,
        });
        var onWeekly = await Jackpots.CallAsync<Proto.OptInState>(Jackpots.GetOptIn,
            new Proto.GetOptInRequest { InstanceId = weekly.Id, BrandId = "tpa:b1", PlayerId = player });
        Assert.That(onWeekly.OptedIn, Is.False);
    }

    [Test]
    public async Task Links_are_listed_added_and_removed_by_admin_calls_refusing_bad_ones_and_audited()
    {
        var a = await InstanceAsync("A");
        var b = await InstanceAsync("B");
        var pots = Servers.Pots;

        (await pots.PostAsync($"/instances/{a.Id}/links", Servers.OperatorA, new { instance_id = a.Id })).ExpectInvalid("instance_id");
        (await pots.PostAsync($"/instances/{a.Id}/links", Servers.OperatorA, new { instance_id = "nope" })).ExpectInvalid("instance_id");
        (await pots.PostAsync($"/instances/{a.Id}/links", Servers.OperatorA, new { instance_id = Guid.NewGuid() })).ExpectInvalid("instance_id");
        (await pots.PostAsync($"/instances/{Guid.NewGuid()}/links", Servers.OperatorA, new { instance_id = a.Id })).ExpectNotFound();
        var other = await Fixtures.InstanceAsync("tpb");
        (await pots.PostAsync($"/instances/{a.Id}/links", Servers.OperatorA, new { instance_id = other.GetProperty("id").GetString() })).ExpectForbidden();
        (await pots.PostAsync($"/instances/{a.Id}/links", Servers.ReadOnlyA, new { instance_id = b.Id })).ExpectForbidden();

        var linked = (await pots.PostAsync($"/instances/{a.Id}/links", Servers.OperatorA, new { instance_id = b.Id })).Expect(HttpStatusCode.Created).Json;
        Assert.That(linked.GetProperty("links_to")[0].GetProperty("to_instance").GetString(), Is.EqualTo(b.Id));
        (await pots.PostAsync($"/instances/{a.Id}/links", Servers.OperatorA, new { instance_id = b.Id })).ExpectConflict();
        // A cycle is allowed: propagation is one level, so each reaches the other and stops.
        (await pots.PostAsync($"/instances/{b.Id}/links", Servers.OperatorA, new { instance_id = a.Id })).Expect(HttpStatusCode.Created);
        var results = await ContributeV2Async(V2(a, Fixtures.Unique("p")));
        Assert.That(results.Select(Instance), Is.EqualTo(new[] { a.Id, b.Id }));

        var listed = (await pots.GetAsync($"/instances/{b.Id}/links", Servers.ReadOnlyA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.GetProperty("links_to")[0].GetProperty("to_instance").GetString(), Is.EqualTo(a.Id));
        Assert.That(listed.GetProperty("linked_from")[0].GetProperty("from_instance").GetString(), Is.EqualTo(a.Id));

        var unlinked = (await pots.SendAsync(HttpMethod.Delete, $"/instances/{a.Id}/links/{b.Id}", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(unlinked.GetProperty("links_to").GetArrayLength(), Is.Zero);
        (await pots.SendAsync(HttpMethod.Delete, $"/instances/{a.Id}/links/{b.Id}", Servers.OperatorA)).ExpectNotFound();
        var audit = await Fixtures.AuditAsync(a.Id);
        Assert.That(audit.Select(e => e.GetProperty("action").GetString()), Does.Contain("instance.link").And.Contain("instance.unlink"));

        await Jackpots.SetStateAsync(b, "Terminated");
        (await pots.PostAsync($"/instances/{a.Id}/links", Servers.OperatorA, new { instance_id = b.Id })).ExpectInvalid("instance_id");
        (await pots.PostAsync("/templates/instantiate", Servers.OperatorA, new
        {
            template_id = (await Fixtures.PublishedTemplateAsync()), owner_id = "tpa", allowed_brands = new[] { "tpa:b1" }, linked_instance = b.Id,
        })).ExpectInvalid("linked_instance");
    }
}
