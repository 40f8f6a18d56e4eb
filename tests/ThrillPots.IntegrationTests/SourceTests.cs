namespace ThrillPots.IntegrationTests;

public class SourceTests
{
    static Api Pots => Servers.Pots;

    [Test]
    public async Task Create_assign_list_and_unassign_sources()
    {
        var s1 = Fixtures.Unique("src");
        var s2 = Fixtures.Unique("src");
        var created = (await Pots.PostAsync("/config/sources", Servers.OperatorA, new[]
        {
            new { owner_id = "tpa:b1", source_name = "Slots", source_id = s1 },
            new { owner_id = "tpa:b1", source_name = "Live", source_id = s2 },
        })).Expect(HttpStatusCode.Created).Json;
        Assert.That(created.EnumerateArray().Select(s => s.GetProperty("source_id").GetString()), Is.EqualTo(new[] { s1, s2 }));

        var instance = (await Fixtures.InstanceAsync()).GetProperty("id").GetString()!;
        var assigned = (await Pots.PostAsync("/config/sources/assignjackpot", Servers.OperatorA,
            new { owner_id = "tpa:b1", source_id = new[] { s1, s2 }, instance_id = instance })).Expect(HttpStatusCode.OK).Json;
        Assert.That(assigned.EnumerateArray().All(s => s.GetProperty("instance_ids").EnumerateArray().Single().GetString() == instance));
        // Assigning twice changes nothing.
        (await Pots.PostAsync("/config/sources/assignjackpot", Servers.OperatorA, new { owner_id = "tpa:b1", source_id = new[] { s1 }, instance_id = instance }))
            .Expect(HttpStatusCode.OK);

        var got = (await Pots.GetAsync($"/config/sources/{s1}", Servers.BrandB1)).Expect(HttpStatusCode.OK).Json;
        Assert.That(got.GetProperty("owner_id").GetString(), Is.EqualTo("tpa:b1"));
        Assert.That(got.GetProperty("source_name").GetString(), Is.EqualTo("Slots"));
        Assert.That(got.GetProperty("instance_ids").GetArrayLength(), Is.EqualTo(1));
        var listed = (await Pots.GetAsync("/config/sources?owner_id=tpa:b1", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.EnumerateArray().Select(s => s.GetProperty("source_id").GetString()), Does.Contain(s1).And.Contain(s2));

        var unassigned = (await Pots.PostAsync("/config/sources/unassignjackpot", Servers.OperatorA,
            new { owner_id = "tpa:b1", source_id = new[] { s1 }, instance_id = instance })).Expect(HttpStatusCode.OK).Json;
        Assert.That(unassigned[0].GetProperty("instance_ids").GetArrayLength(), Is.Zero);

        var audit = await Fixtures.AuditAsync($"tpa:b1/{s1}");
        Assert.That(audit.Select(a => a.GetProperty("action").GetString()), Is.EqualTo(new[] { "source.unassign", "source.assign", "source.assign", "source.create" }));
        Assert.That(audit[0].GetProperty("before").GetProperty("instance_ids").GetArrayLength(), Is.EqualTo(1));
        Assert.That(audit[0].GetProperty("after").GetProperty("instance_ids").GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task A_duplicate_source_is_409_and_nothing_of_the_batch_is_created()
    {
        var s1 = Fixtures.Unique("src");
        var s2 = Fixtures.Unique("src");
        (await Pots.PostAsync("/config/sources", Servers.OperatorA, new[] { new { owner_id = "tpa:b1", source_name = "A", source_id = s1 } })).Expect(HttpStatusCode.Created);
        (await Pots.PostAsync("/config/sources", Servers.OperatorA, new[]
        {
            new { owner_id = "tpa:b1", source_name = "B", source_id = s2 }, new { owner_id = "tpa:b1", source_name = "A", source_id = s1 },
        })).ExpectConflict();
        (await Pots.GetAsync($"/config/sources/{s2}", Servers.OperatorA)).ExpectNotFound();
    }

    [Test]
    public async Task The_same_source_id_in_two_brands_needs_owner_id()
    {
        var s = Fixtures.Unique("src");
        (await Pots.PostAsync("/config/sources", Servers.OperatorA, new[]
        {
            new { owner_id = "tpa:b1", source_name = "A", source_id = s }, new { owner_id = "tpa:b2", source_name = "A", source_id = s },
        })).Expect(HttpStatusCode.Created);
        (await Pots.GetAsync($"/config/sources/{s}", Servers.OperatorA)).ExpectInvalid("owner_id");
        Assert.That((await Pots.GetAsync($"/config/sources/{s}?owner_id=tpa:b2", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json
            .GetProperty("owner_id").GetString(), Is.EqualTo("tpa:b2"));
        Assert.That((await Pots.GetAsync($"/config/sources/{s}", Servers.BrandB1)).Expect(HttpStatusCode.OK).Json
            .GetProperty("owner_id").GetString(), Is.EqualTo("tpa:b1"));
    }

    [Test]
    public async Task Unknown_sources_and_instances_are_404()
    {
        var s = Fixtures.Unique("src");
        (await Pots.GetAsync($"/config/sources/{s}", Servers.OperatorA)).ExpectNotFound();
        (await Pots.PostAsync("/config/sources", Servers.OperatorA, new[] { new { owner_id = "tpa:b1", source_name = "A", source_id = s } })).Expect(HttpStatusCode.Created);
        var instance = (await Fixtures.InstanceAsync()).GetProperty("id").GetString();
        (await Pots.PostAsync("/config/sources/assignjackpot", Servers.OperatorA, new { owner_id = "tpa:b1", source_id = new[] { s }, instance_id = Guid.NewGuid() }))
            .ExpectNotFound();
        (await Pots.PostAsync("/config/sources/assignjackpot", Servers.OperatorA, new { owner_id = "tpa:b1", source_id = new[] { s, "ghost" }, instance_id = instance }))
            .ExpectNotFound();
        Assert.That((await Pots.GetAsync($"/config/sources/{s}", Servers.OperatorA)).Json.GetProperty("instance_ids").GetArrayLength(), Is.Zero, "nothing half-applied");
    }

    [Test]
    public async Task Other_owners_are_403_and_left_out_of_lists()
    {
        var s = Fixtures.Unique("src");
        (await Pots.PostAsync("/config/sources", Servers.OperatorA, new[] { new { owner_id = "tpb:x1", source_name = "A", source_id = s } })).ExpectForbidden();
        (await Pots.PostAsync("/config/sources", Servers.BrandB1, new[] { new { owner_id = "tpa:b2", source_name = "A", source_id = s } })).ExpectForbidden();
        (await Pots.PostAsync("/config/sources", Servers.OperatorB, new[] { new { owner_id = "tpb:x1", source_name = "A", source_id = s } })).Expect(HttpStatusCode.Created);
        (await Pots.GetAsync($"/config/sources/{s}", Servers.OperatorA)).ExpectForbidden();
        var listed = (await Pots.GetAsync("/config/sources", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.EnumerateArray().Select(x => x.GetProperty("owner_id").GetString()), Has.None.StartsWith("tpb"));

        var theirInstance = (await Fixtures.InstanceAsync("tpb")).GetProperty("id").GetString();
        (await Pots.PostAsync("/config/sources/assignjackpot", Servers.OperatorA, new { owner_id = "tpb:x1", source_id = new[] { s }, instance_id = theirInstance }))
            .ExpectForbidden();
        var mine = Fixtures.Unique("src");
        (await Pots.PostAsync("/config/sources", Servers.OperatorA, new[] { new { owner_id = "tpa:b1", source_name = "A", source_id = mine } })).Expect(HttpStatusCode.Created);
        (await Pots.PostAsync("/config/sources/assignjackpot", Servers.OperatorA, new { owner_id = "tpa:b1", source_id = new[] { mine }, instance_id = theirInstance }))
            .ExpectForbidden();
    }

    [Test]
    public async Task An_instance_that_does_not_allow_the_brand_is_refused()
    {
        var s = Fixtures.Unique("src");
        (await Pots.PostAsync("/config/sources", Servers.OperatorA, new[] { new { owner_id = "tpa:b2", source_name = "A", source_id = s } })).Expect(HttpStatusCode.Created);
        var instance = (await Fixtures.InstanceAsync(brands: ["tpa:b1"])).GetProperty("id").GetString();
        (await Pots.PostAsync("/config/sources/assignjackpot", Servers.OperatorA, new { owner_id = "tpa:b2", source_id = new[] { s }, instance_id = instance }))
            .ExpectInvalid("instance_id");
    }

    [TestCase("""[]""", "body")]
    [TestCase("""[{"source_name": "A", "source_id": "s"}]""", "[0].owner_id")]
    [TestCase("""[{"owner_id": "tpa", "source_name": "A", "source_id": "s"}]""", "[0].owner_id")]
    [TestCase("""[{"owner_id": "tpa:b1", "source_id": "s"}]""", "[0].source_name")]
    [TestCase("""[{"owner_id": "tpa:b1", "source_name": "A"}]""", "[0].source_id")]
    [TestCase("""[{"owner_id": "tpa:b1", "source_name": "A", "source_id": "bad id"}]""", "[0].source_id")]
    [TestCase("""[{"owner_id": "tpa:b3", "source_name": "A", "source_id": "s"}]""", "[0].owner_id")]
    [TestCase("""{"owner_id": "tpa:b1", "source_name": "A", "source_id": "s"}""", "body")]
    public async Task Bad_source_fields_are_400_naming_them(string body, string field) =>
        (await Pots.PostAsync("/config/sources", Servers.OperatorA, JsonNode.Parse(body)!)).ExpectInvalid(field);

    [TestCase("""{"source_id": ["s"], "instance_id": "$I"}""", "owner_id")]
    [TestCase("""{"owner_id": "tpa", "source_id": ["s"], "instance_id": "$I"}""", "owner_id")]
    [TestCase("""{"owner_id": "tpa:b1", "instance_id": "$I"}""", "source_id")]
    [TestCase("""{"owner_id": "tpa:b1", "source_id": [], "instance_id": "$I"}""", "source_id")]
    [TestCase("""{"owner_id": "tpa:b1", "source_id": ["ok", "not ok"], "instance_id": "$I"}""", "source_id[1]")]
    [TestCase("""{"owner_id": "tpa:b1", "source_id": "s", "instance_id": "$I"}""", "source_id")]
    [TestCase("""{"owner_id": "tpa:b1", "source_id": ["s"]}""", "instance_id")]
    [TestCase("""{"owner_id": "tpa:b1", "source_id": ["s"], "instance_id": "x"}""", "instance_id")]
    public async Task Bad_assignment_fields_are_400_naming_them(string body, string field)
    {
        foreach (var path in new[] { "/config/sources/assignjackpot", "/config/sources/unassignjackpot" })
            (await Pots.PostAsync(path, Servers.OperatorA, JsonNode.Parse(body.Replace("$I", Guid.NewGuid().ToString()))!)).ExpectInvalid(field);
    }
}
