using Dapper;
using Npgsql;

namespace ThrillId.IntegrationTests;

/// <summary>Forgot-password (spec §1.2 rows 4-5, §1.6): POST /accounts/password/forgot publishes ForgotPasswordStarted through
/// the outbox; POST /accounts/password/reset sets the new password with its one-time password.</summary>
public class ForgotPasswordTests
{
    const string Forgot = "/accounts/password/forgot";
    const string Reset = "/accounts/password/reset";
    const string Invalid = "Invalid or expired one-time password";

    static IdClient Id => SharedThrillId.Client;
    static Bus bus = null!;

    [OneTimeSetUp]
    public async Task StartBusAsync() => bus = await Bus.StartAsync();

    [OneTimeTearDown]
    public async Task StopBusAsync() => await bus.DisposeAsync();

    static Task<Reply> StartAsync(string username) => Id.PostJsonAsync(Forgot, new { username });

    static Task<Reply> CompleteAsync(string username, string otp, string password) => Id.PostJsonAsync(Reset, new { username, otp, password });

    static async Task<T> QueryAsync<T>(string sql, object args)
    {
        await using var c = new NpgsqlConnection(SharedThrillId.Instance.Config.ConnectionString);
        return await c.QuerySingleAsync<T>(sql, args);
    }

    static Task<int> AttemptsAsync(Account a) =>
        QueryAsync<int>("select attempts from password_resets where account_id = @id::uuid", new { id = a.Id });

    static async Task<(Account Account, string Otp)> StartedAsync(string? unit = null)
    {
        var org = await Id.NewOrgAsync("casino", "sports");
        var account = await Id.NewAccountAsync(org, unitId: unit);
        var reply = await StartAsync(account.Username);
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.NoContent), "start: " + reply);
        return (account, (await bus.NextForAsync(account.Username)).Otp);
    }

    static void Refused(Reply reply, string what)
    {
        Expect.Problem(reply, HttpStatusCode.BadRequest, what);
        Assert.That(reply.Json.GetProperty("title").GetString(), Is.EqualTo(Invalid), what);
    }

    [Test]
    public async Task The_code_does_not_stay_in_the_outbox_once_published()
    {
        var (_, otp) = await StartedAsync();
        // The relay blanks a secret message's body in the transaction that moves it out of the queue as published.
        await Eventually.TrueAsync(async () => await QueryAsync<long>("select count(*) from outbox_all where body->>'otp' = @otp", new { otp }) == 0,
            TimeSpan.FromSeconds(30), "the code gone from the outbox");
        Assert.That(await QueryAsync<long>("select count(*) from outbox_published where secret and body = '{}'::jsonb", new { }),
            Is.GreaterThan(0), "the published message's row is kept, blanked");
    }

    [Test]
    public async Task Starting_for_an_unknown_username_answers_the_same_as_for_a_known_one_and_publishes_nothing()
    {
        var org = await Id.NewOrgAsync("casino");
        var known = await Id.NewAccountAsync(org);
        var unknown = Names.User();

        var unknownReply = await StartAsync(unknown);
        var knownReply = await StartAsync(known.Username);
        // The relay publishes in commit order, so once the known account's message is here, an unknown one would be too.
        await bus.NextForAsync(known.Username);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(unknownReply.Status, Is.EqualTo(HttpStatusCode.NoContent), unknownReply.ToString());
            Assert.That(knownReply.Status, Is.EqualTo(unknownReply.Status));
            Assert.That(knownReply.Body, Is.EqualTo(unknownReply.Body));
            Assert.That(bus.For(unknown), Is.Empty, "nothing published for an unknown username");
            Assert.That(await QueryAsync<long>("select count(*) from outbox_all where body->>'username' = @unknown", new { unknown }), Is.Zero);
        }
    }

    [Test]
    public async Task Starting_for_an_account_publishes_ForgotPasswordStarted_with_its_username_otp_and_organisation_unit()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var (account, _) = await StartedAsync(unit: "sports");

        var message = await bus.NextForAsync(account.Username);
        var me = await Id.MeAsync(await Id.TokenOfAsync(account));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(message.Username, Is.EqualTo(account.Username));
            Assert.That(message.Otp, Does.Match("^[0-9]{8}$"));
            Assert.That(message.OrgId, Is.EqualTo(account.OrgId));
            Assert.That(message.UnitId, Is.EqualTo("sports"));
            Assert.That(message.Timestamp, Is.InRange(before - 5000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 5000));
            Assert.That(message.ExpiresAt - message.Timestamp, Is.EqualTo(15 * 60 * 1000), "default lifetime 15 minutes");
            Assert.That(me.Json.GetProperty("pending_password_reset").GetBoolean(), Is.True);
            Assert.That(await QueryAsync<string>("select otp_hash from password_resets where account_id = @id::uuid", new { id = account.Id }),
                Does.Not.Contain(message.Otp), "only a hash is stored");
        }
    }

    [Test]
    public async Task The_one_time_password_sets_the_new_password_once_and_revokes_the_old_logins()
    {
        var (account, otp) = await StartedAsync();
        var refreshToken = (await Id.AuthAsync(account)).GetProperty("refresh_token").GetString()!;
        var password = Names.Password();

        var reply = await CompleteAsync(account.Username, otp, password);

        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.NoContent), reply.ToString());
        var login = await Id.LoginAsync(account.Username, password);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(login.Status, Is.EqualTo(HttpStatusCode.OK), "the new password logs in: " + login);
            Assert.That((await Id.LoginAsync(account.Username, account.Password!)).Status, Is.EqualTo(HttpStatusCode.Unauthorized), "the old one no longer");
            Assert.That((await Id.RefreshAsync(refreshToken)).Status, Is.EqualTo(HttpStatusCode.Unauthorized), "refresh tokens of before are revoked");
            Assert.That((await Id.MeAsync(login.Str("token"))).Json.GetProperty("pending_password_reset").GetBoolean(), Is.False);
        }
        Refused(await CompleteAsync(account.Username, otp, Names.Password()), "the same one-time password again");
        Assert.That((await Id.LoginAsync(account.Username, password)).Status, Is.EqualTo(HttpStatusCode.OK), "the second use changed nothing");
    }

    [Test]
    public async Task Wrong_one_time_passwords_are_counted_and_after_five_the_right_one_is_refused()
    {
        var (account, otp) = await StartedAsync();
        var wrong = ((int.Parse(otp) + 1) % 100_000_000).ToString("D8");

        Refused(await CompleteAsync(account.Username, wrong, Names.Password()), "first wrong attempt");
        Assert.That(await AttemptsAsync(account), Is.EqualTo(1));
        for (var i = 2; i <= 5; i++) Refused(await CompleteAsync(account.Username, wrong, Names.Password()), $"wrong attempt {i}");
        Assert.That(await AttemptsAsync(account), Is.EqualTo(5));

        Refused(await CompleteAsync(account.Username, otp, Names.Password()), "the right one at the sixth attempt");
        Assert.That((await Id.LoginAsync(account.Username, account.Password!)).Status, Is.EqualTo(HttpStatusCode.OK), "the password is unchanged");
    }

    [Test]
    public async Task An_expired_one_time_password_is_refused_and_changes_nothing()
    {
        var (account, otp) = await StartedAsync();
        await QueryAsync<int>("update password_resets set expires_at = now() - interval '1 second' where account_id = @id::uuid returning 1", new { id = account.Id });

        Refused(await CompleteAsync(account.Username, otp, Names.Password()), "expired");
        Assert.That((await Id.LoginAsync(account.Username, account.Password!)).Status, Is.EqualTo(HttpStatusCode.OK), "the password is unchanged");
    }

    [Test]
    public async Task A_new_start_replaces_the_previous_one_time_password()
    {
        var (account, first) = await StartedAsync();
        Assert.That((await StartAsync(account.Username)).Status, Is.EqualTo(HttpStatusCode.NoContent));
        var second = (await bus.NextForAsync(account.Username, 2)).Otp;
        Assume.That(second, Is.Not.EqualTo(first));

        Refused(await CompleteAsync(account.Username, first, Names.Password()), "the replaced one-time password");
        Assert.That((await CompleteAsync(account.Username, second, Names.Password())).Status, Is.EqualTo(HttpStatusCode.NoContent));
    }

    [Test]
    public async Task Starts_beyond_three_in_the_window_answer_the_same_and_publish_nothing()
    {
        var (account, _) = await StartedAsync();
        var replies = new List<Reply>();
        for (var i = 0; i < 3; i++) replies.Add(await StartAsync(account.Username));
        // A later start of another account: once its message is here, every earlier commit has been relayed.
        var (marker, _) = await StartedAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Select(r => r.Status), Is.All.EqualTo(HttpStatusCode.NoContent));
            Assert.That(bus.For(marker.Username), Has.Count.EqualTo(1));
            Assert.That(bus.For(account.Username), Has.Count.EqualTo(3), "the 4th start published nothing");
        }
        var last = bus.For(account.Username)[^1].Otp;
        Assert.That((await CompleteAsync(account.Username, last, Names.Password())).Status, Is.EqualTo(HttpStatusCode.NoContent),
            "the 3rd start's one-time password is still the pending one");
    }

    [Test]
    public async Task Malformed_bodies_are_refused_with_a_problem_naming_each_field()
    {
        var (account, otp) = await StartedAsync();

        Expect.BadField(await Id.PostJsonAsync(Forgot, new { }), "username", "forgot without username");
        Expect.BadField(await Id.PostJsonAsync(Forgot, "not json"), "body", "forgot with a non-JSON body");
        var empty = await Id.PostJsonAsync(Reset, new { });
        foreach (var field in new[] { "username", "otp", "password" }) Expect.BadField(empty, field, "reset without " + field);
        Expect.BadField(await CompleteAsync(account.Username, otp, "short"), "password", "a password under 12 characters");
        Expect.BadField(await CompleteAsync(account.Username, "", Names.Password()), "otp", "an empty otp");

        Assert.That((await CompleteAsync(account.Username, otp, Names.Password())).Status, Is.EqualTo(HttpStatusCode.NoContent),
            "malformed requests spent no attempt of the pending one-time password");
    }
}
