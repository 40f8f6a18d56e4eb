namespace ThrillPots.IntegrationTests;

public class InstanceTests
{
    static Api Pots => Servers.Pots;

    [Test]
    public async Task Instantiating_a_published_template_creates_an_active_instance_with_seeded_pots()
    {
        var template = await Fixtures.PublishedTemplateAsync();
        var instance = (await Pots.PostAsync("/templates/instantiate", Servers.OperatorA, new
        {
            template_id = template, owner_id = "tpa", allowed_brands = new[] { "tpa:b1", "tpa:b2" }, allowed_sources = new[] { "slots" },
        })).Expect(HttpStatusCode.Created).Json;
        var id = instance.GetProperty("id").GetString()!;
        Assert.That(Guid.TryParse(id, out _));
        Assert.That(instance.GetProperty("state").GetString(), Is.EqualTo("Active"));
        Assert.That(instance.GetProperty("template_id").GetString(), Is.EqualTo(template));
        Assert.That(instance.GetProperty("currency").GetString(), Is.EqualTo("EUR"));
        Assert.That(instance.GetProperty("allowed_brands").EnumerateArray().Select(b => b.GetString()), Is.EqualTo(new[] { "tpa:b1", "tpa:b2" }));
        Assert.That(instance.GetProperty("allowed_sources").EnumerateArray().Select(b => b.GetString()), Is.EqualTo(new[] { "slots" }));
        var pots = instance.GetProperty("pots").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
        Assert.That(pots.Keys, Is.EquivalentTo(new[] { "minor", "major", "mega" }));
        Assert.That(pots["minor"].GetProperty("value").GetDecimal(), Is.EqualTo(10m));
        Assert.That(pots["major"].GetProperty("value").GetDecimal(), Is.EqualTo(100m));
        Assert.That(pots["mega"].GetProperty("value").GetDecimal(), Is.EqualTo(1000m));
        Assert.That(pots.Values.Select(p => p.GetProperty("reseed_fund").GetDecimal()), Is.All.EqualTo(0m));

        (await Pots.GetAsync($"/instances/{id}", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var listed = (await Pots.GetAsync("/instances?state=Active", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.EnumerateArray().Select(i => i.GetProperty("id").GetString()), Does.Contain(id));
        var audit = await Fixtures.AuditAsync(id);
        Assert.That(audit.Single().GetProperty("action").GetString(), Is.EqualTo("instance.create"));
        Assert.That(audit.Single().GetProperty("after").GetProperty("pots").GetArrayLength(), Is.EqualTo(3));
    }

    [Test]
    public async Task A_future_start_makes_it_Pending_with_its_schedule_stored()
    {
        var start = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds();
        var template = await Fixtures.PublishedTemplateAsync();
        var instance = (await Pots.PostAsync("/templates/instantiate", Servers.OperatorA, new
        {
            template_id = template, owner_id = "tpa:b1", allowed_brands = new[] { "tpa:b1" }, start_timestamp = start, end_timestamp = start + 3_600_000,
        })).Expect(HttpStatusCode.Created).Json;
        Assert.That(instance.GetProperty("state").GetString(), Is.EqualTo("Pending"));
        Assert.That(instance.GetProperty("start_timestamp").GetInt64(), Is.EqualTo(start));
        Assert.That(instance.GetProperty("end_timestamp").GetInt64(), Is.EqualTo(start + 3_600_000));
    }

    [Test]
    public async Task Only_published_templates_are_instantiated()
    {
        var draft = (await Pots.PostAsync("/templates", Servers.OperatorA, Fixtures.Template())).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString();
        (await Pots.PostAsync("/templates/instantiate", Servers.OperatorA, new { template_id = draft, owner_id = "tpa", allowed_brands = new[] { "tpa:b1" } }))
            .ExpectConflict();
    }

    [Test]
    public async Task Unknown_templates_and_instances_are_404()
    {
        (await Pots.PostAsync("/templates/instantiate", Servers.OperatorA, new { template_id = Guid.NewGuid(), owner_id = "tpa", allowed_brands = new[] { "tpa:b1" } }))
            .ExpectNotFound();
        (await Pots.GetAsync($"/instances/{Guid.NewGuid()}", Servers.OperatorA)).ExpectNotFound();
        (await Pots.PostAsync($"/instances/{Guid.NewGuid()}/state", Servers.OperatorA, new { state = "Paused" })).ExpectNotFound();
    }

    [Test]
    public async Task Other_owners_are_403_and_left_out_of_lists()
    {
        var theirs = await Fixtures.InstanceAsync("tpb");
        var id = theirs.GetProperty("id").GetString();
        (await Pots.GetAsync($"/instances/{id}", Servers.OperatorA)).ExpectForbidden();
        (await Pots.PostAsync($"/instances/{id}/state", Servers.OperatorA, new { state = "Paused" })).ExpectForbidden();
        var listed = (await Pots.GetAsync("/instances", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.EnumerateArray().Select(i => i.GetProperty("owner_id").GetString()), Has.None.StartsWith("tpb"));

        var theirTemplate = theirs.GetProperty("template_id").GetString();
        (await Pots.PostAsync("/templates/instantiate", Servers.OperatorA, new { template_id = theirTemplate, owner_id = "tpa", allowed_brands = new[] { "tpa:b1" } }))
            .ExpectForbidden();
        var mine = await Fixtures.PublishedTemplateAsync();
        (await Pots.PostAsync("/templates/instantiate", Servers.OperatorA, new { template_id = mine, owner_id = "tpb", allowed_brands = new[] { "tpb:x1" } }))
            .ExpectForbidden();
        (await Pots.PostAsync("/templates/instantiate", Servers.BrandB1, new { template_id = mine, owner_id = "tpa:b1", allowed_brands = new[] { "tpa:b2" } }))
            .ExpectForbidden();
        (await Pots.PostAsync("/templates/instantiate", Servers.BrandB1, new { template_id = mine, owner_id = "tpa:b1", allowed_brands = new[] { "tpa:b1" } }))
            .Expect(HttpStatusCode.Created);
    }

    static readonly object[] BadFields =
    [
        new object[] { "template_id", """{"owner_id": "tpa", "allowed_brands": ["tpa:b1"]}""" },
        new object[] { "template_id", """{"template_id": "nope", "owner_id": "tpa", "allowed_brands": ["tpa:b1"]}""" },
        new object[] { "owner_id", """{"template_id": "$T", "allowed_brands": ["tpa:b1"]}""" },
        new object[] { "owner_id", """{"template_id": "$T", "owner_id": "a b", "allowed_brands": ["tpa:b1"]}""" },
        new object[] { "allowed_brands", """{"template_id": "$T", "owner_id": "tpa"}""" },
        new object[] { "allowed_brands", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": []}""" },
        new object[] { "allowed_brands[0]", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": ["b1"]}""" },
        new object[] { "allowed_brands[1]", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": ["tpa:b1", "tpb:x1"]}""" },
        new object[] { "allowed_brands[0]", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": ["tpa:b3"]}""" },
        new object[] { "allowed_sources[0]", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": ["tpa:b1"], "allowed_sources": ["no way"]}""" },
        new object[] { "start_timestamp", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": ["tpa:b1"], "start_timestamp": -5}""" },
        new object[] { "end_timestamp", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": ["tpa:b1"], "start_timestamp": 1900000000000, "end_timestamp": 1900000000000}""" },
        new object[] { "name", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": ["tpa:b1"], "name": ""}""" },
        new object[] { "allowed_brands", """{"template_id": "$T", "owner_id": "tpa", "allowed_brands": "tpa:b1"}""" },
    ];

    [TestCaseSource(nameof(BadFields))]
    public async Task Each_wrong_field_is_400_naming_it(string field, string body)
    {
        var template = await Fixtures.PublishedTemplateAsync();
        (await Pots.PostAsync("/templates/instantiate", Servers.OperatorA, JsonNode.Parse(body.Replace("$T", template))!)).ExpectInvalid(field);
    }

    static readonly string[] States = ["Pending", "Active", "Paused", "Terminated"];
    static readonly HashSet<(string, string)> Legal = [("Pending", "Active"), ("Active", "Paused"), ("Active", "Terminated"), ("Paused", "Active")];
    static IEnumerable<object[]> AllTransitions() => States.SelectMany(from => States.Select(to => new object[] { from, to }));

    [TestCaseSource(nameof(AllTransitions))]
    public async Task State_changes_follow_the_spec_table(string from, string to)
    {
        var id = await InstanceInStateAsync(from);
        var reply = await Pots.PostAsync($"/instances/{id}/state", Servers.OperatorA, new { state = to });
        if (Legal.Contains((from, to)))
        {
            Assert.That(reply.Expect(HttpStatusCode.OK).Json.GetProperty("state").GetString(), Is.EqualTo(to));
            var audit = (await Fixtures.AuditAsync(id))[0];
            Assert.That(audit.GetProperty("action").GetString(), Is.EqualTo("instance.state"));
            Assert.That(audit.GetProperty("before").GetProperty("state").GetString(), Is.EqualTo(from));
            Assert.That(audit.GetProperty("after").GetProperty("state").GetString(), Is.EqualTo(to));
        }
        else
        {
            Assert.That(reply.ExpectConflict().Json.GetProperty("current_state").GetString(), Is.EqualTo(from));
            Assert.That((await Pots.GetAsync($"/instances/{id}", Servers.OperatorA)).Json.GetProperty("state").GetString(), Is.EqualTo(from));
        }
    }

    [Test]
    public async Task Pause_and_resume_repeat_until_terminated_which_is_final()
    {
        var id = await InstanceInStateAsync("Active");
        foreach (var state in new[] { "Paused", "Active", "Paused", "Active", "Terminated" })
            (await Pots.PostAsync($"/instances/{id}/state", Servers.OperatorA, new { state })).Expect(HttpStatusCode.OK);
        foreach (var state in States)
            (await Pots.PostAsync($"/instances/{id}/state", Servers.OperatorA, new { state })).ExpectConflict();
    }

    [TestCase("""{}""")]
    [TestCase("""{"state": "Running"}""")]
    [TestCase("""{"state": 1}""")]
    public async Task An_unknown_state_is_400(string body)
    {
        var id = await InstanceInStateAsync("Active");
        (await Pots.PostAsync($"/instances/{id}/state", Servers.OperatorA, JsonNode.Parse(body)!)).ExpectInvalid("state");
    }

    static async Task<string> InstanceInStateAsync(string state)
    {
        var start = state == "Pending" ? DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds() : (long?)null;
        var id = (await Fixtures.InstanceAsync(start: start)).GetProperty("id").GetString()!;
        if (state is "Paused" or "Terminated")
            (await Pots.PostAsync($"/instances/{id}/state", Servers.OperatorA, new { state })).Expect(HttpStatusCode.OK);
        return id;
    }
}
