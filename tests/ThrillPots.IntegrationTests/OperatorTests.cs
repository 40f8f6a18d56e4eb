namespace ThrillPots.IntegrationTests;

public class OperatorTests
{
    static Api Pots => Servers.Pots;

    [Test]
    public async Task Create_add_brands_get_and_list_an_operator()
    {
        var op = Fixtures.Unique("op");
        var created = (await Pots.PostAsync("/config/operators", Servers.Platform, new { id = op, name = "New Operator" })).Expect(HttpStatusCode.Created).Json;
        Assert.That(created.GetProperty("id").GetString(), Is.EqualTo(op));
        Assert.That(created.GetProperty("path").GetString(), Is.EqualTo(op));
        Assert.That(created.GetProperty("name").GetString(), Is.EqualTo("New Operator"));
        Assert.That(created.GetProperty("enabled").GetBoolean(), Is.True);
        Assert.That(created.GetProperty("created_timestamp").GetInt64(), Is.GreaterThan(1_600_000_000_000));
        Assert.That(created.GetProperty("brands").GetArrayLength(), Is.Zero);

        var withBrands = (await Pots.PostAsync($"/config/operators/{op}/brands", Servers.Platform,
            new[] { new { id = "casino", name = "Casino" }, new { id = "sports", name = "Sports" } })).Expect(HttpStatusCode.OK).Json;
        var brands = withBrands.GetProperty("brands").EnumerateArray().ToList();
        Assert.That(brands.Select(b => b.GetProperty("path").GetString()), Is.EqualTo(new[] { $"{op}:casino", $"{op}:sports" }));
        Assert.That(brands.All(b => b.GetProperty("enabled").GetBoolean() && b.GetProperty("created_timestamp").GetInt64() > 0));

        var got = (await Pots.GetAsync($"/config/operators/{op}", Servers.Platform)).Expect(HttpStatusCode.OK).Json;
        Assert.That(got.GetProperty("brands").GetArrayLength(), Is.EqualTo(2));
        var listed = (await Pots.GetAsync("/config/operators", Servers.Platform)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.EnumerateArray().Select(o => o.GetProperty("id").GetString()), Does.Contain(op).And.Contain("tpa").And.Contain("tpb"));
    }

    [Test]
    public async Task Duplicates_are_409()
    {
        var op = Fixtures.Unique("op");
        (await Pots.PostAsync("/config/operators", Servers.Platform, new { id = op, name = "X" })).Expect(HttpStatusCode.Created);
        (await Pots.PostAsync("/config/operators", Servers.Platform, new { id = op, name = "X" })).ExpectConflict();
        (await Pots.PostAsync($"/config/operators/{op}/brands", Servers.Platform, new[] { new { id = "b", name = "B" } })).Expect(HttpStatusCode.OK);
        (await Pots.PostAsync($"/config/operators/{op}/brands", Servers.Platform, new[] { new { id = "b", name = "B" } })).ExpectConflict();
    }

    [Test]
    public async Task Disable_and_enable_an_operator_and_a_brand()
    {
        var op = Fixtures.Unique("op");
        (await Pots.PostAsync("/config/operators", Servers.Platform, new { id = op, name = "X" })).Expect(HttpStatusCode.Created);
        (await Pots.PostAsync($"/config/operators/{op}/brands", Servers.Platform, new[] { new { id = "b", name = "B" } })).Expect(HttpStatusCode.OK);

        Assert.That((await Pots.PostAsync($"/config/operators/{op}/disable", Servers.Platform)).Expect(HttpStatusCode.OK).Json.GetProperty("enabled").GetBoolean(), Is.False);
        Assert.That((await Pots.GetAsync($"/config/operators/{op}", Servers.Platform)).Json.GetProperty("enabled").GetBoolean(), Is.False);
        Assert.That((await Pots.PostAsync($"/config/operators/{op}/enable", Servers.Platform)).Expect(HttpStatusCode.OK).Json.GetProperty("enabled").GetBoolean(), Is.True);

        var brand = (await Pots.PostAsync($"/config/operators/{op}/brands/b/disable", Servers.Platform)).Expect(HttpStatusCode.OK).Json.GetProperty("brands")[0];
        Assert.That(brand.GetProperty("enabled").GetBoolean(), Is.False);
        brand = (await Pots.PostAsync($"/config/operators/{op}/brands/b/enable", Servers.Platform)).Expect(HttpStatusCode.OK).Json.GetProperty("brands")[0];
        Assert.That(brand.GetProperty("enabled").GetBoolean(), Is.True);

        var audit = await Fixtures.AuditAsync($"{op}:b");
        Assert.That(audit.Select(a => a.GetProperty("action").GetString()), Is.EqualTo(new[] { "brand.enable", "brand.disable" }));
        Assert.That(audit[1].GetProperty("before").GetProperty("brands")[0].GetProperty("enabled").GetBoolean(), Is.True);
        Assert.That(audit[1].GetProperty("after").GetProperty("brands")[0].GetProperty("enabled").GetBoolean(), Is.False);
    }

    [Test]
    public async Task Unknown_operators_and_brands_are_404()
    {
        (await Pots.GetAsync("/config/operators/nobody", Servers.Platform)).ExpectNotFound();
        (await Pots.PostAsync("/config/operators/nobody/brands", Servers.Platform, new[] { new { id = "b", name = "B" } })).ExpectNotFound();
        (await Pots.PostAsync("/config/operators/nobody/disable", Servers.Platform)).ExpectNotFound();
        (await Pots.PostAsync("/config/operators/tpa/brands/b9/disable", Servers.Platform)).ExpectNotFound();
    }

    [TestCase("""{"name": "X"}""", "id")]
    [TestCase("""{"id": "bad id!", "name": "X"}""", "id")]
    [TestCase("""{"id": "okid"}""", "name")]
    [TestCase("""{"id": "okid", "name": ""}""", "name")]
    [TestCase("""{"id": 5, "name": "X"}""", "id")]
    [TestCase("""{"id": "okid", "name": "X", "enabled": "yes"}""", "enabled")]
    public async Task Bad_operator_fields_are_400_naming_them(string body, string field) =>
        (await Pots.PostAsync("/config/operators", Servers.Platform, JsonNode.Parse(body)!)).ExpectInvalid(field);

    [TestCase("""[]""", "body")]
    [TestCase("""[{"name": "B"}]""", "[0].id")]
    [TestCase("""[{"id": "ok", "name": "B"}, {"id": "ok2"}]""", "[1].name")]
    [TestCase("""[{"id": "ok", "name": "B"}, {"id": "ok", "name": "B"}]""", "body")]
    [TestCase("""{"id": "ok", "name": "B"}""", "body")]
    public async Task Bad_brand_fields_are_400_naming_them(string body, string field) =>
        (await Pots.PostAsync("/config/operators/tpa/brands", Servers.OperatorA, JsonNode.Parse(body)!)).ExpectInvalid(field);

    [Test]
    public async Task Other_operators_are_403_and_left_out_of_lists()
    {
        (await Pots.GetAsync("/config/operators/tpb", Servers.OperatorA)).ExpectForbidden();
        (await Pots.PostAsync("/config/operators/tpb/brands", Servers.OperatorA, new[] { new { id = "zz", name = "Z" } })).ExpectForbidden();
        (await Pots.PostAsync("/config/operators/tpb/disable", Servers.OperatorA)).ExpectForbidden();
        (await Pots.PostAsync("/config/operators", Servers.OperatorA, new { id = Fixtures.Unique("op"), name = "Mine?" })).ExpectForbidden();
        var listed = (await Pots.GetAsync("/config/operators", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.EnumerateArray().Select(o => o.GetProperty("id").GetString()), Is.EqualTo(new[] { "tpa" }));
    }

    [Test]
    public async Task A_brand_bound_account_sees_only_its_brand_and_may_not_change_the_operator()
    {
        var got = (await Pots.GetAsync("/config/operators/tpa", Servers.BrandB1)).Expect(HttpStatusCode.OK).Json;
        Assert.That(got.GetProperty("brands").EnumerateArray().Select(b => b.GetProperty("id").GetString()), Is.EqualTo(new[] { "b1" }));
        (await Pots.PostAsync("/config/operators/tpa/disable", Servers.BrandB1)).ExpectForbidden();
        (await Pots.PostAsync("/config/operators/tpa/brands/b2/disable", Servers.BrandB1)).ExpectForbidden();
        (await Pots.PostAsync("/config/operators/tpa/brands", Servers.BrandB1, new[] { new { id = "b3", name = "B3" } })).ExpectForbidden();
    }

    [Test]
    public async Task Creating_an_operator_and_adding_brands_are_audited()
    {
        var op = Fixtures.Unique("op");
        (await Pots.PostAsync("/config/operators", Servers.Platform, new { id = op, name = "X" })).Expect(HttpStatusCode.Created);
        (await Pots.PostAsync($"/config/operators/{op}/brands", Servers.Platform, new[] { new { id = "b", name = "B" } })).Expect(HttpStatusCode.OK);
        var audit = await Fixtures.AuditAsync(op);
        Assert.That(audit.Select(a => a.GetProperty("action").GetString()), Is.EqualTo(new[] { "operator.add_brands", "operator.create" }));
        Assert.That(audit[1].GetProperty("before").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(audit[1].GetProperty("after").GetProperty("id").GetString(), Is.EqualTo(op));
        Assert.That(audit[0].GetProperty("before").GetProperty("brands").GetArrayLength(), Is.Zero);
        Assert.That(audit[0].GetProperty("after").GetProperty("brands").GetArrayLength(), Is.EqualTo(1));
        Assert.That(audit[0].GetProperty("actor_username").GetString(), Is.EqualTo(Servers.Admin));
        Assert.That(audit[0].GetProperty("actor_sub").GetString(), Is.Not.Empty);
        Assert.That(audit[0].GetProperty("timestamp").GetInt64(), Is.GreaterThan(1_600_000_000_000));
    }
}
