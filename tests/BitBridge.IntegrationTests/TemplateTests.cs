using ThrillSuite.Contracts.Pots;

namespace BitBridge.IntegrationTests;

public sealed class TemplateTests
{
    const string Win = JackpotWon.EventType;

    [Test]
    public async Task The_most_specific_template_renders_a_Telegram_message_from_the_event()
    {
        var (brandX, brandY) = (Brands.Next(), Brands.Next());
        var bot = "777:" + Setup.NewId("bot");
        await Setup.TelegramAsync(brandX, [Win], bot, chatId: "@wins");
        await Setup.TelegramAsync(brandY, [Win], bot, chatId: "@wins");
        // Scoped to the operator, so that other tests' Telegram dispatchers (their brands have templates of their own) are unaffected.
        await Setup.TemplateAsync("Telegram", Win, "{{data.player_id}} won {{data.win_amount}} {{data.jackpot_currency}} on {{brand_id}}");
        await Setup.TemplateAsync("Telegram", Win, "Brand X: {{data.player_id}} hit {{data.jackpot_name}} ({{data.reveals}})", brand: brandX);

        await Servers.Bus.PublishAsync(Bus.Win(brandX, player: "xena"));
        await Servers.Bus.PublishAsync(Bus.Win(brandY, player: "yuri", amount: 42m));

        var texts = (await Servers.Peers.WaitAcceptedAsync("telegram:" + bot, 2)).Select(r => r.Json).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(texts.Select(t => t.GetProperty("chat_id").GetString()), Is.All.EqualTo("@wins"));
            Assert.That(texts.Select(t => t.GetProperty("text").GetString()),
                Is.EquivalentTo(new[] { "Brand X: xena hit Mega Pot ([])", $"yuri won 42 EUR on {brandY}" }));
        });
    }

    [Test]
    public async Task A_template_missing_a_placeholder_is_a_dead_letter_naming_it_until_the_template_is_fixed_and_the_delivery_replayed()
    {
        var brand = Brands.Next();
        var bot = "778:" + Setup.NewId("bot");
        var dispatcher = await Setup.TelegramAsync(brand, [Win], bot);
        var template = await Setup.TemplateAsync("Telegram", Win, "{{data.player_id}} won on table {{data.table_id}}", brand: brand);
        var eventId = await Servers.Bus.PublishAsync(Bus.Win(brand, player: "tess"));

        var dead = await Setup.WaitDeliveryAsync(eventId, dispatcher, "dead");
        Assert.That(dead.GetProperty("last_error").GetString(), Does.Contain("{{data.table_id}}").And.Contain(template));
        Assert.That(Servers.Peers.For("telegram:" + bot), Is.Empty, "nothing is sent half-filled");

        (await Servers.Bridge.PutAsync($"/admin/templates/{template}", Servers.OperatorA, new
        {
            operator_id = Servers.Operator, brand_id = brand, dispatcher_type = "Telegram", event_type = Win, body = "{{data.player_id}} won {{data.win_amount}}",
        })).Expect(HttpStatusCode.OK);
        (await Servers.Bridge.PostAsync($"/admin/deliveries/{dead.GetProperty("id").GetString()}/replay", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var sent = await Servers.Peers.WaitAcceptedAsync("telegram:" + bot, 1);
        Assert.That(sent.Single().Json.GetProperty("text").GetString(), Is.EqualTo("tess won 125.5"));
    }

    [Test]
    public async Task A_webhook_template_reshapes_the_body_and_is_still_signed()
    {
        var brand = Brands.Next();
        var hook = await Setup.WebhookAsync(brand, [Win]);
        await Setup.TemplateAsync("Webhook", Win, """{"player": "{{data.player_id}}", "amount": {{data.win_amount}}}""", brand: brand);
        await Servers.Bus.PublishAsync(Bus.Win(brand, player: "wade"));

        var got = (await Servers.Peers.WaitAcceptedAsync(hook, 1)).Single();
        Assert.That(got.SignatureValid, Is.True);
        Assert.That(got.Body, Is.EqualTo("""{"player": "wade", "amount": 125.5}"""));
    }

    [TestCase("body", "Hello {{ unclosed")]
    [TestCase("body", "")]
    [TestCase("subject", "A subject")]
    [TestCase("event_type", "has space")]
    public async Task An_invalid_template_is_refused_with_a_problem_naming_the_field(string field, string value)
    {
        var body = new JsonObject
        {
            ["id"] = Setup.NewId("tpl"), ["operator_id"] = Servers.Operator, ["dispatcher_type"] = "Telegram", ["event_type"] = Win, ["body"] = "Hi",
            [field] = value,
        };
        (await Servers.Bridge.PostAsync("/admin/templates", Servers.OperatorA, body)).ExpectInvalid(field);
    }

    [Test]
    public async Task A_second_enabled_template_for_the_same_scope_is_a_conflict_and_other_operators_cannot_see_it()
    {
        var brand = Brands.Next();
        var id = await Setup.TemplateAsync("Telegram", "WinCreditFailed", "first", brand: brand);
        var second = new { id = Setup.NewId("tpl"), operator_id = Servers.Operator, brand_id = brand, dispatcher_type = "Telegram", event_type = "WinCreditFailed", body = "second" };
        (await Servers.Bridge.PostAsync("/admin/templates", Servers.OperatorA, second)).ExpectProblem(HttpStatusCode.Conflict);
        (await Servers.Bridge.GetAsync($"/admin/templates/{id}", Servers.OperatorB)).ExpectProblem(HttpStatusCode.Forbidden);
        (await Servers.Bridge.DeleteAsync($"/admin/templates/{id}", Servers.OperatorA)).Expect(HttpStatusCode.NoContent);
        (await Servers.Bridge.PostAsync("/admin/templates", Servers.OperatorA, second)).Expect(HttpStatusCode.Created);
    }
}
