using System.Net.Http.Headers;
using System.Text;

namespace ThrillPots.IntegrationTests;

/// <summary>Every bad input of the contribution endpoints: a precise 4xx naming the problem, and not a cent moved.</summary>
public class ContributionInputTests
{
    static Jackpot jackpot = null!;
    static Dictionary<string, (decimal, decimal)> potsBefore = null!;

    [OneTimeSetUp]
    public async Task CreateAsync()
    {
        jackpot = await Jackpots.CreateAsync();
        potsBefore = await Jackpots.PotsAsync(jackpot);
    }

    [OneTimeTearDown]
    public async Task NothingChangedAsync()
    {
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.Zero, "no refused contribution reached the ledger");
        Assert.That(await Jackpots.PotsAsync(jackpot), Is.EqualTo(potsBefore), "no refused contribution moved a pot");
    }

    // Each case: the field that is wrong, and the value it gets (JsonNode null = the field is left out).
    static IEnumerable<TestCaseData> V1Cases()
    {
        TestCaseData Case(string field, JsonNode? value, string label) => new TestCaseData(field, value?.ToJsonString()).SetArgDisplayNames(field, label);
        yield return Case("brand_id", null, "missing");
        yield return Case("brand_id", "tpa", "operator only");
        yield return Case("brand_id", "tpa:b 1", "space");
        yield return Case("brand_id", 5, "number");
        yield return Case("player_id", null, "missing");
        yield return Case("player_id", "", "empty");
        yield return Case("player_id", new string('p', 129), "129 characters");
        yield return Case("player_id", "a\u0001b", "control character");
        yield return Case("player_id", true, "boolean");
        yield return Case("gameround_id", null, "missing");
        yield return Case("gameround_id", "  ", "blank");
        yield return Case("gameround_id", new string('g', 200), "200 characters");
        yield return Case("currency", null, "missing");
        yield return Case("currency", "eur", "lower case");
        yield return Case("currency", "XYZ", "unknown code");
        yield return Case("currency", 978, "number");
        yield return Case("base_wager", null, "missing");
        yield return Case("base_wager", -0.01m, "negative");
        yield return Case("base_wager", "one euro", "not a number");
        yield return Case("base_wager", 1e13m, "absurd");
        yield return Case("base_wager", 0.0000000000001m, "13 decimals");
        yield return Case("player_country", "MLT", "three letters");
        yield return Case("player_country", "mt", "lower case");
        yield return Case("player_country", 1, "number");
        yield return Case("instance_id", null, "missing");
        yield return Case("instance_id", "not-a-uuid", "not a UUID");
        yield return Case("metadata", "text", "string");
        yield return Case("metadata", new JsonArray(1, 2), "array");
        yield return Case("metadata", new JsonObject { ["blob"] = new string('x', 9000) }, "over 8 KiB");
        yield return Case("token", new string('t', 5000), "5000 characters");
        yield return Case("token", 7, "number");
    }

    [TestCaseSource(nameof(V1Cases))]
    public async Task Each_v1_field_wrong_in_turn_is_a_400_naming_it(string field, string? json)
    {
        var body = Jackpots.Body(jackpot);
        if (json is null) body.Remove(field);
        else body[field] = JsonNode.Parse(json);
        (await Jackpots.ContributeAsync(body)).ExpectInvalid(field);
    }

    static IEnumerable<TestCaseData> V2Cases()
    {
        TestCaseData Case(string field, string path, JsonNode? value, string label) =>
            new TestCaseData(field, path, value?.ToJsonString()).SetArgDisplayNames(field, label);
        yield return Case("target", "target", null, "missing");
        yield return Case("target.type", "target.type", "game", "unknown type");
        yield return Case("target.id", "target.id", "nope", "not a UUID for an instance");
        yield return Case("owner_id", "owner_id", null, "missing");
        yield return Case("player", "player", null, "missing");
        yield return Case("player.id", "player.id", null, "missing");
        yield return Case("player.brand_id", "player.brand_id", "tpb:x1", "another operator's brand");
        yield return Case("player.country", "player.country", "Malta", "a name");
        yield return Case("gameround_id", "gameround_id", null, "missing");
        yield return Case("base_wager", "base_wager", -1, "negative");
        yield return Case("bet_context", "bet_context", "x", "a string");
    }

    [TestCaseSource(nameof(V2Cases))]
    public async Task Each_v2_field_wrong_in_turn_is_a_400_naming_it(string field, string path, string? json)
    {
        var body = V2Body();
        var parts = path.Split('.');
        var parent = parts.Length == 1 ? body : body[parts[0]]!.AsObject();
        if (json is null) parent.Remove(parts[^1]);
        else parent[parts[^1]] = JsonNode.Parse(json);
        (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, body)).ExpectInvalid(field);
    }

    [Test]
    public async Task A_body_that_is_not_a_json_object_is_a_400()
    {
        foreach (var (text, type) in new[] { ("{\"brand_id\":", "application/json"), ("[1,2]", "application/json"), ("null", "application/json"),
                     ("brand_id=tpa:b1", "application/x-www-form-urlencoded"), ("{\"brand_id\":\"a\",\"brand_id\":\"b\"}", "application/json") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/jackpots/contribute/instance") { Content = new StringContent(text, Encoding.UTF8) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(type);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Servers.OperatorA);
            using var response = await Http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), text);
        }
    }

    [Test]
    public async Task An_oversized_body_is_a_413()
    {
        var body = Jackpots.Body(jackpot);
        body["padding"] = new string('x', 2 * 1024 * 1024);
        var reply = await Jackpots.ContributeAsync(body);
        reply.ExpectProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Test]
    public async Task Unknown_instances_and_sources_are_404s()
    {
        var body = Jackpots.Body(jackpot);
        body["instance_id"] = Guid.NewGuid().ToString();
        var unknown = (await Jackpots.ContributeAsync(body)).ExpectNotFound().Json;
        Assert.That(unknown.GetProperty("reason").GetString(), Is.EqualTo("not_found"));

        var bySource = Jackpots.Body(jackpot);
        bySource.Remove("instance_id");
        bySource["source_id"] = "never-created";
        (await Servers.Pots.PostAsync("/jackpots/contribute/source", Servers.OperatorA, bySource)).ExpectNotFound();
    }

    [Test]
    public async Task Tokens_are_checked_before_anything_else()
    {
        var body = Jackpots.Body(jackpot);
        var none = await Servers.Pots.PostAsync("/jackpots/contribute/instance", null, body);
        none.ExpectProblem(HttpStatusCode.Unauthorized);
        Assert.That(none.WwwAuthenticate, Does.StartWith("Bearer"));
        var forged = Servers.OperatorA[..^4] + (Servers.OperatorA.EndsWith("AAAA") ? "BBBB" : "AAAA");
        (await Jackpots.ContributeAsync(body, forged)).ExpectProblem(HttpStatusCode.Unauthorized);
        (await Jackpots.ContributeAsync(body, "not-a-jwt")).ExpectProblem(HttpStatusCode.Unauthorized);
        (await Jackpots.ContributeAsync(body, Servers.ReadOnlyA)).ExpectForbidden();
        (await Jackpots.ContributeAsync(body, Servers.NoPermissionA)).ExpectForbidden();
    }

    [Test]
    public async Task Callers_contribute_only_for_their_own_brands()
    {
        var body = Jackpots.Body(jackpot);
        var other = (await Jackpots.ContributeAsync(body, Servers.OperatorB)).ExpectForbidden().Json;
        Assert.That(other.GetProperty("reason").GetString(), Is.EqualTo("forbidden"));
        (await Jackpots.ContributeAsync(Jackpots.Body(jackpot, brand: "tpa:b2"), Servers.BrandB1)).ExpectForbidden();
    }

    [Test]
    public async Task A_brand_the_instance_does_not_allow_is_refused_for_it()
    {
        // tpa:b3 is in Thrill-ID but was never registered with ThrillPots; tpb's brand belongs to another operator.
        var reply = (await Jackpots.ContributeAsync(Jackpots.Body(jackpot, brand: "tpa:b3"))).ExpectConflict().Json;
        Assert.That(reply.GetProperty("reason").GetString(), Is.EqualTo("brand_disabled"));
    }

    [Test]
    public async Task A_currency_without_a_multiplier_is_a_400_naming_currency()
    {
        var reply = (await Jackpots.ContributeAsync(Jackpots.Body(jackpot, currency: "JPY"))).ExpectInvalid("currency").Json;
        Assert.That(reply.GetProperty("reason").GetString(), Is.EqualTo("currency_not_supported"));
    }

    static HttpClient? http;
    static HttpClient Http => http ??= new HttpClient { BaseAddress = Servers.Pots.BaseAddress };

    JsonObject V2Body() => new()
    {
        ["target"] = new JsonObject { ["type"] = "instance", ["id"] = jackpot.Id },
        ["owner_id"] = "tpa",
        ["player"] = new JsonObject { ["id"] = Fixtures.Unique("p"), ["country"] = "MT", ["brand_id"] = "b1", ["token"] = "t" },
        ["gameround_id"] = Fixtures.Unique("r"),
        ["currency"] = "EUR",
        ["base_wager"] = 1,
    };
}
