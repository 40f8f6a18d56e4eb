namespace ThrillId.IntegrationTests;

/// <summary>Account lockout after Login:MaxFailures consecutive failures, on a process of its own with small limits.</summary>
[NonParallelizable]
public class LockoutTests
{
    const int MaxFailures = 3;
    const int LockoutSeconds = 5;
    ThrillIdInstance id = null!;
    IdClient Id => id.Client;

    [OneTimeSetUp]
    public async Task StartAsync() => id = await ThrillIdInstance.StartAsync(ThrillIdConfig.New(new Dictionary<string, string?>
    {
        ["Login__MaxFailures"] = MaxFailures.ToString(),
        ["Login__LockoutSeconds"] = LockoutSeconds.ToString(),
    }));

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (id is not null) await id.StopAndDropAsync();
    }

    static void TooMany(Reply reply, int maxRetryAfter, string what)
    {
        Expect.Problem(reply, HttpStatusCode.TooManyRequests, what);
        Assert.That(int.TryParse(reply.Header("Retry-After"), out var seconds), Is.True, $"{what}: Retry-After is delta-seconds: {reply.Header("Retry-After")}");
        Assert.That(seconds, Is.InRange(1, maxRetryAfter), what + ": Retry-After");
        Assert.That(reply.Body, Does.Not.Contain("refresh_token"), what);
    }

    [Test]
    public async Task An_account_locks_after_max_failures_refuses_even_the_right_password_and_unlocks_later()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);

        for (var i = 1; i < MaxFailures; i++)
            Expect.Problem(await Id.LoginAsync(user.Username, Names.Password()), HttpStatusCode.Unauthorized, $"failure {i}");
        // The failure that reaches the limit may already answer 429.
        var locking = await Id.LoginAsync(user.Username, Names.Password());
        Assert.That(locking.Status, Is.AnyOf(HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests), "failure " + MaxFailures + ": " + locking);
        var rightPassword = await Id.LoginAsync(user.Username, user.Password!);
        var wrongPassword = await Id.LoginAsync(user.Username, Names.Password());

        using (Assert.EnterMultipleScope())
        {
            TooMany(rightPassword, LockoutSeconds, "the right password during the lockout");
            TooMany(wrongPassword, LockoutSeconds, "a wrong password during the lockout");
        }
        await Eventually.TrueAsync(async () => (await Id.LoginAsync(user.Username, user.Password!)).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(60), "the lockout to end");
    }

    [Test]
    public async Task Lockout_does_not_tell_a_known_username_from_an_unknown_one()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var unknown = Names.User();

        var known = new List<HttpStatusCode>();
        var stranger = new List<HttpStatusCode>();
        for (var i = 0; i <= MaxFailures; i++)
        {
            known.Add((await Id.LoginAsync(user.Username, Names.Password())).Status);
            stranger.Add((await Id.LoginAsync(unknown, Names.Password())).Status);
        }

        // README: the same answer for an unknown user and a wrong password, also once the failures add up.
        Assert.That(stranger, Is.EqualTo(known), "status sequence of wrong passwords for an unknown vs a known username");
    }

    [Test]
    public async Task A_successful_login_resets_the_consecutive_failures()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);

        for (var round = 0; round < 3; round++)
        {
            for (var i = 1; i < MaxFailures; i++)
                Expect.Problem(await Id.LoginAsync(user.Username, Names.Password()), HttpStatusCode.Unauthorized, $"round {round} failure {i}");
            Expect.Ok(await Id.LoginAsync(user.Username, user.Password!), $"round {round}: {MaxFailures - 1} failures do not lock");
        }
    }

    [Test]
    public async Task A_lockout_is_per_account()
    {
        var org = await Id.NewOrgAsync("u1");
        var locked = await Id.NewAccountAsync(org);
        var other = await Id.NewAccountAsync(org);

        for (var i = 0; i < MaxFailures; i++) await Id.LoginAsync(locked.Username, Names.Password());

        using (Assert.EnterMultipleScope())
        {
            TooMany(await Id.LoginAsync(locked.Username, locked.Password!), LockoutSeconds, "the locked account");
            Expect.Ok(await Id.LoginAsync(other.Username, other.Password!), "another account of the same address");
        }
    }

    [Test]
    public async Task A_locked_service_account_is_refused_at_authenticate_service_too()
    {
        var org = await Id.NewOrgAsync("u1");
        var service = await Id.NewAccountAsync(org, type: "Service");

        for (var i = 0; i < MaxFailures; i++)
            await Id.PostJsonAsync("/authenticate/service", new { username = service.Username, password = Names.Password() });
        var reply = await Id.PostJsonAsync("/authenticate/service", new { username = service.Username, password = service.Password });

        TooMany(reply, LockoutSeconds, "/authenticate/service with the right password during the lockout");
    }
}

/// <summary>The per-address limit of login attempts (Login:PerAddressPerMinute), on a process of its own.</summary>
[NonParallelizable]
public class RateLimitTests
{
    const int PerMinute = 5;
    ThrillIdInstance id = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => id = await ThrillIdInstance.StartAsync(ThrillIdConfig.New(new Dictionary<string, string?>
    {
        ["Login__PerAddressPerMinute"] = PerMinute.ToString(),
        ["Login__MaxFailures"] = "1000",
    }));

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (id is not null) await id.StopAndDropAsync();
    }

    [Test]
    public async Task An_address_over_its_login_attempts_per_minute_gets_429_even_with_the_right_password()
    {
        // Each address has its own budget: 127.0.0.3 prepares, 127.0.0.2 attacks, 127.0.0.4 is a bystander.
        using var setup = id.Client.From("127.0.0.3");
        using var attacker = id.Client.From("127.0.0.2");
        using var bystander = id.Client.From("127.0.0.4");
        var org = await setup.NewOrgAsync("u1");
        var victim = await setup.NewAccountAsync(org);

        for (var i = 1; i <= PerMinute; i++)
            Expect.Problem(await attacker.LoginAsync(Names.User(), Names.Password()), HttpStatusCode.Unauthorized, $"attempt {i}");
        var over = await attacker.LoginAsync(victim.Username, victim.Password!);
        var bystanderLogin = await bystander.LoginAsync(victim.Username, victim.Password!);

        using (Assert.EnterMultipleScope())
        {
            Expect.Problem(over, HttpStatusCode.TooManyRequests, "attempt over the limit, right password");
            Assert.That(int.TryParse(over.Header("Retry-After"), out var seconds), Is.True, "Retry-After: " + over.Header("Retry-After"));
            Assert.That(seconds, Is.InRange(1, 60));
            Assert.That(over.Body, Does.Not.Contain("refresh_token"));
            Expect.Ok(bystanderLogin, "another address is not limited");
        }
    }
}
