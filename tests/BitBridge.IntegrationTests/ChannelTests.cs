using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using RabbitMQ.Client;
using ThrillSuite.Contracts.Pots;

namespace BitBridge.IntegrationTests;

/// <summary>The SMTP, Telegram and AMQP dispatchers against real peers.</summary>
public sealed class ChannelTests
{
    const string Forgot = "ForgotPasswordStarted";

    static async Task<string> SmtpDispatcherAsync(string brand, int port)
    {
        var id = Setup.NewId("smtp");
        (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorA, new
        {
            id, dispatcher_type = "Smtp", operator_id = Servers.Operator, brand_id = brand, event_types = new[] { Forgot },
            config = new { host = "127.0.0.1", port, tls = "none", from = "noreply@thrill.example", to = "{{data.username}}" },
        })).Expect(HttpStatusCode.Created);
        await Setup.TemplateAsync("Smtp", Forgot, "Your code is {{data.otp}}.\nIt expires soon.", brand: brand, subject: "Password reset for {{data.username}}");
        return id;
    }

    [Test]
    public async Task A_password_reset_asked_of_Thrill_ID_is_mailed_and_its_code_sets_the_new_password()
    {
        await using var smtp = await SmtpServer.StartAsync();
        var brand = Brands.Next();
        await SmtpDispatcherAsync(brand, smtp.Port);
        var username = $"player-{Setup.NewId("u")}@example.com";
        var password = "Old-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        await Servers.ThrillId.AdminPostAsync("/admin/accounts", new
        {
            username, password, account_type = "User", org_id = Servers.Operator, unit_id = brand, permissions = Array.Empty<object>(), enabled = true,
        });
        using var id = new HttpClient { BaseAddress = new Uri(Servers.ThrillId.BaseUrl) };

        using (var started = await id.PostAsJsonAsync("/accounts/password/forgot", new { username }))
            Assert.That(started.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        // Thrill-ID's outbox → RabbitMQ → BitBridge → the brand's SMTP dispatcher → the mail server.
        var mail = (await smtp.WaitMailsAsync(m => m.To.Contains(username), 1)).Single();
        var otp = Regex.Match(mail.Body, @"Your code is (\d+)\.").Groups[1].Value;
        Assert.That(otp, Has.Length.InRange(6, 8), mail.Body);

        var newPassword = "New-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        using (var reset = await id.PostAsJsonAsync("/accounts/password/reset", new { username, otp, password = newPassword }))
            Assert.That(reset.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), await reset.Content.ReadAsStringAsync());
        using var login = await id.PostAsJsonAsync("/accounts/auth", new { username, password = newPassword });
        using var oldLogin = await id.PostAsJsonAsync("/accounts/auth", new { username, password });
        Assert.Multiple(() =>
        {
            Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the new password");
            Assert.That(oldLogin.StatusCode, Is.Not.EqualTo(HttpStatusCode.OK), "the old password");
        });
    }

    [Test]
    public async Task A_password_reset_mail_is_rendered_and_received_by_a_real_SMTP_server()
    {
        await using var smtp = await SmtpServer.StartAsync();
        var brand = Brands.Next();
        var dispatcher = await SmtpDispatcherAsync(brand, smtp.Port);
        var eventId = await Servers.Bus.PublishAsync(Bus.Forgot(Servers.Operator, brand, username: "rita@example.com", otp: "204817"));

        var mail = (await smtp.WaitMailsAsync(_ => true, 1)).Single();
        var sent = await Setup.WaitDeliveryAsync(eventId, dispatcher, "sent");
        Assert.Multiple(() =>
        {
            Assert.That(mail.To, Does.Contain("rita@example.com"));
            Assert.That(mail.Subject, Is.EqualTo("Password reset for rita@example.com"));
            Assert.That(mail.Body, Does.Contain("Your code is 204817."));
            Assert.That(mail.DeliveryId, Is.EqualTo(sent.GetProperty("id").GetString()));
        });
    }

    [Test]
    public async Task A_mail_to_an_SMTP_server_that_is_down_for_a_while_is_delivered_once_when_it_is_back()
    {
        await using var smtp = new SmtpServer();
        var brand = Brands.Next();
        var dispatcher = await SmtpDispatcherAsync(brand, smtp.Port);
        var eventId = await Servers.Bus.PublishAsync(Bus.Forgot(Servers.Operator, brand, username: "sam@example.com"));

        await Eventually.TrueAsync(async () => (await Setup.DeliveriesAsync(eventId)).Any(d => d.GetProperty("attempts").GetInt32() >= 2),
            TimeSpan.FromSeconds(30), "two failed attempts while the server is down");
        var failing = (await Setup.DeliveriesAsync(eventId)).Single();
        Assert.That(failing.GetProperty("status").GetString(), Is.EqualTo("pending"));
        Assert.That(failing.GetProperty("last_error").GetString(), Does.Contain($"127.0.0.1:{smtp.Port}"));

        await smtp.RunAsync();
        var sent = await Setup.WaitDeliveryAsync(eventId, dispatcher, "sent");
        var mails = await smtp.WaitMailsAsync(m => m.To.Contains("sam@example.com"), 1);
        Assert.That(mails.Select(m => m.DeliveryId), Is.EqualTo(new[] { sent.GetProperty("id").GetString() }));
    }

    [Test]
    public async Task A_Telegram_429_pauses_the_dispatcher_for_retry_after_without_spending_an_attempt_and_then_delivers_once()
    {
        var brand = Brands.Next();
        var bot = "779:" + Setup.NewId("bot");
        var dispatcher = await Setup.TelegramAsync(brand, [JackpotWon.EventType], bot);
        await Setup.TemplateAsync("Telegram", JackpotWon.EventType, "{{data.player_id}} won", brand: brand);
        Servers.Peers.Script("telegram:" + bot, 429);
        var eventId = await Servers.Bus.PublishAsync(Bus.Win(brand, player: "tom"));

        var sent = await Setup.WaitDeliveryAsync(eventId, dispatcher, "sent");
        var requests = Servers.Peers.For("telegram:" + bot);
        Assert.Multiple(() =>
        {
            Assert.That(requests.Select(r => r.Answer), Is.EqualTo(new[] { 429, 200 }));
            Assert.That(requests[1].At - requests[0].At, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(0.95)), "retry_after: 1");
            Assert.That(sent.GetProperty("attempts").GetInt32(), Is.EqualTo(1), "the 429 is not a failed attempt");
        });
    }

    [Test]
    public async Task An_Amqp_dispatcher_republishes_the_event_to_an_exchange_on_another_vhost()
    {
        var vhost = Setup.NewId("bb-amqp");
        await RabbitCtlAsync("add_vhost", vhost);
        await RabbitCtlAsync("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        var broker = new Uri(TestEnvironment.RabbitMq);
        var factory = new ConnectionFactory { Uri = new UriBuilder(broker) { Path = "/" + Uri.EscapeDataString(vhost) }.Uri };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync("operator-events", ExchangeType.Topic, durable: true);
        await channel.QueueDeclareAsync("wins", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("wins", "operator-events", "JackpotWinEvent");

        var brand = Brands.Next();
        var id = Setup.NewId("amqp");
        var created = (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorA, new
        {
            id, dispatcher_type = "Amqp", operator_id = Servers.Operator, brand_id = brand, event_types = new[] { JackpotWon.EventType },
            config = new { uri = $"amqp://guest:guest@{broker.Host}:{broker.Port}/{Uri.EscapeDataString(vhost)}", exchange = "operator-events" },
        })).Expect(HttpStatusCode.Created);
        Assert.That(created.Json.GetProperty("config").GetProperty("uri").GetString(), Does.Not.Contain("guest:guest"), "the password is write-only");
        var eventId = await Servers.Bus.PublishAsync(Bus.Win(brand, player: "ada"));

        var message = await Eventually.ValueAsync(() => channel.BasicGetAsync("wins", autoAck: true), TimeSpan.FromSeconds(30), "the re-published event");
        var sent = await Setup.WaitDeliveryAsync(eventId, id, "sent");
        var body = JsonDocument.Parse(Encoding.UTF8.GetString(message.Body.Span)).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(message.BasicProperties.MessageId, Is.EqualTo(sent.GetProperty("id").GetString()));
            Assert.That(body.GetProperty("event_id").GetGuid(), Is.EqualTo(eventId));
            Assert.That(body.GetProperty("data").GetProperty("player_id").GetString(), Is.EqualTo("ada"));
        });
    }

    static async Task RabbitCtlAsync(params string[] args)
    {
        var state = Environment.GetEnvironmentVariable("THRILLSUITE_TEST_STATE_DIR")
            ?? throw new InvalidOperationException("THRILLSUITE_TEST_STATE_DIR is not set: run the tests with build/test.");
        var info = new System.Diagnostics.ProcessStartInfo(Path.Combine(TestEnvironment.RepoRoot, "build", "lib", "rabbitmq-node"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in new[] { "ctl", state }.Concat(args)) info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, $"rabbitmqctl {string.Join(' ', args)}: {await output}{await error}");
    }
}
