namespace BitBridge.IntegrationTests;

public sealed class DispatcherAdminTests
{
    static JsonObject Webhook(string id, string brand) => new()
    {
        ["id"] = id, ["dispatcher_type"] = "Webhook", ["operator_id"] = Servers.Operator, ["brand_id"] = brand,
        ["event_types"] = new JsonArray("JackpotWinEvent"), ["priority"] = 3,
        ["config"] = new JsonObject { ["url"] = "http://127.0.0.1:9/hook", ["secret"] = "a-secret-of-24-characters" },
    };

    [Test]
    public async Task A_dispatcher_is_created_read_updated_and_deleted_and_its_secret_is_never_returned()
    {
        var brand = Brands.Next();
        var id = Setup.NewId("crud");
        var created = (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorA, Webhook(id, brand))).Expect(HttpStatusCode.Created);
        Assert.Multiple(() =>
        {
            Assert.That(created.Location, Is.EqualTo($"/admin/dispatchers/{id}"));
            Assert.That(created.Json.GetProperty("owner_id").GetString(), Is.EqualTo($"{Servers.Operator}:{brand}"));
            Assert.That(created.Json.GetProperty("config").GetProperty("secret_set").GetBoolean(), Is.True);
            Assert.That(created.Text, Does.Not.Contain("a-secret-of-24-characters"));
        });

        var update = Webhook(id, brand);
        update["priority"] = 7;
        update["config"]!.AsObject().Remove("secret");
        var updated = (await Servers.Bridge.PutAsync($"/admin/dispatchers/{id}", Servers.OperatorA, update)).Expect(HttpStatusCode.OK);
        Assert.That(updated.Json.GetProperty("priority").GetInt32(), Is.EqualTo(7));
        Assert.That(updated.Json.GetProperty("config").GetProperty("secret_set").GetBoolean(), Is.True, "a PUT without the secret keeps it");

        var got = (await Servers.Bridge.GetAsync($"/admin/dispatchers/{id}", Servers.ReadOnlyA)).Expect(HttpStatusCode.OK);
        Assert.That(got.Text, Does.Not.Contain("a-secret-of-24-characters"));
        var listed = (await Servers.Bridge.GetAsync($"/admin/dispatchers?brand_id={brand}", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        Assert.That(listed.Json.EnumerateArray().Select(d => d.GetProperty("id").GetString()), Is.EqualTo(new[] { id }));
        var audit = (await Servers.Bridge.GetAsync($"/bitbridge/audit?resource_id={id}", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        Assert.That(audit.Text, Does.Not.Contain("a-secret-of-24-characters"));

        (await Servers.Bridge.DeleteAsync($"/admin/dispatchers/{id}", Servers.OperatorA)).Expect(HttpStatusCode.NoContent);
        (await Servers.Bridge.GetAsync($"/admin/dispatchers/{id}", Servers.OperatorA)).ExpectProblem(HttpStatusCode.NotFound);
    }

    [TestCase("id", null)]
    [TestCase("dispatcher_type", "Fax")]
    [TestCase("event_types", null)]
    [TestCase("brand_id", "not a brand")]
    [TestCase("config", null)]
    [TestCase("config.url", "ftp://example.com/")]
    [TestCase("config.secret", "short")]
    [TestCase("config.host", "smtp.example.com")]
    [TestCase("priority", 5_000_000)]
    public async Task An_invalid_dispatcher_is_refused_with_a_problem_naming_the_field(string field, object? value)
    {
        var body = Webhook(Setup.NewId("bad"), Brands.Next());
        var target = field.StartsWith("config.", StringComparison.Ordinal) ? body["config"]!.AsObject() : body;
        var name = field.Split('.').Last();
        if (value is null) target.Remove(name);
        else target[name] = JsonValue.Create(value);
        (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorA, body)).ExpectInvalid(field);
    }

    [TestCase("Smtp", "config.tls", """{"host": "mail.example.com", "tls": "implicit", "from": "a@example.com", "to": "b@example.com"}""")]
    [TestCase("Smtp", "config.from", """{"host": "mail.example.com", "to": "b@example.com"}""")]
    [TestCase("Telegram", "config.chat_id", """{"token": "123456:abcdefgh"}""")]
    [TestCase("Telegram", "config.token", """{"chat_id": "-100"}""")]
    [TestCase("Amqp", "config.uri", """{"uri": "http://example.com/", "exchange": "x"}""")]
    [TestCase("Amqp", "config.exchange", """{"uri": "amqp://u:p@127.0.0.1:5672/v"}""")]
    public async Task Each_type_validates_its_own_settings(string type, string field, string config)
    {
        var body = Webhook(Setup.NewId("bad"), Brands.Next());
        body["dispatcher_type"] = type;
        body["config"] = JsonNode.Parse(config);
        (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorA, body)).ExpectInvalid(field);
    }

    [Test]
    public async Task Callers_act_only_for_their_own_operator_and_only_the_platform_manages_global_dispatchers()
    {
        var brand = Brands.Next();
        var id = await Setup.WebhookAsync(brand, ["JackpotWinEvent"]);
        (await Servers.Bridge.GetAsync($"/admin/dispatchers/{id}", Servers.OperatorB)).ExpectProblem(HttpStatusCode.Forbidden);
        (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorB, Webhook(Setup.NewId("x"), brand))).ExpectProblem(HttpStatusCode.Forbidden);
        (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.ReadOnlyA, Webhook(Setup.NewId("x"), brand))).ExpectProblem(HttpStatusCode.Forbidden);
        (await Servers.Bridge.GetAsync("/admin/dispatchers", Servers.NoPermissionA)).ExpectProblem(HttpStatusCode.Forbidden);
        var anonymous = await Servers.Bridge.GetAsync("/admin/dispatchers", null);
        Assert.That(anonymous.Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(anonymous.WwwAuthenticate, Does.StartWith("Bearer"));
        var listedByB = (await Servers.Bridge.GetAsync("/admin/dispatchers", Servers.OperatorB)).Expect(HttpStatusCode.OK);
        Assert.That(listedByB.Text, Does.Not.Contain(id));

        var global = Webhook(Setup.NewId("global"), brand);
        global.Remove("operator_id");
        global.Remove("brand_id");
        global["event_types"] = new JsonArray("NoSuchEventForTests");
        (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorA, global)).ExpectProblem(HttpStatusCode.Forbidden);
        var byPlatform = (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.Platform, global)).Expect(HttpStatusCode.Created);
        Assert.That(byPlatform.Json.GetProperty("owner_id").GetString(), Is.EqualTo("thrilltech"));
        (await Servers.Bridge.DeleteAsync($"/admin/dispatchers/{global["id"]}", Servers.Platform)).Expect(HttpStatusCode.NoContent);
    }
}
