namespace ThrillId.IntegrationTests;

/// <summary>A disabled account gets nothing: no new tokens by any grant, its refresh tokens are dead, and enabling it again works.</summary>
public class DisabledAccountTests
{
    static IdClient Id => SharedThrillId.Client;

    static async Task DisableAsync(Account account) =>
        Expect.Success(await Id.PostJsonAsync($"/admin/accounts/{account.Id}/disable", null, await Id.AdminTokenAsync()), "disable");

    [Test]
    public async Task A_disabled_service_account_gets_no_token_at_the_token_endpoint()
    {
        var org = await Id.NewOrgAsync("u1");
        var service = await Id.NewAccountAsync(org, type: "Service", permissions: ["thrillpots:instances:Read"]);
        var client = await Id.NewClientAsync(service);
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");

        await DisableAsync(service);
        var credentials = await Id.ClientCredentialsAsync(client);
        var credentialsPost = await Id.ClientCredentialsAsync(client, basic: false);
        var refreshed = await Id.RefreshGrantAsync(refresh, client);

        using (Assert.EnterMultipleScope())
        {
            foreach (var (what, reply) in new[] { ("basic", credentials), ("post", credentialsPost) })
            {
                Assert.That((reply.Status, reply.Error), Is.AnyOf((HttpStatusCode.Unauthorized, "invalid_client"), (HttpStatusCode.BadRequest, "invalid_grant")),
                    $"client_credentials ({what}) of a disabled account: {reply}");
                Assert.That(reply.Body, Does.Not.Contain("access_token"));
            }
            Expect.OAuthError(refreshed, HttpStatusCode.BadRequest, "invalid_grant", "refresh token of a disabled account");
        }
    }

    [Test]
    public async Task A_disabled_accounts_refresh_tokens_stay_dead_after_it_is_enabled_again()
    {
        var org = await Id.NewOrgAsync("u1");
        var service = await Id.NewAccountAsync(org, type: "Service", permissions: ["thrillpots:instances:Read"]);
        var client = await Id.NewClientAsync(service);
        var refresh = (await Id.ClientCredentialsAsync(client, "offline_access")).Str("refresh_token");
        var user = await Id.NewAccountAsync(org);
        var userRefresh = (await Id.AuthAsync(user)).GetProperty("refresh_token").GetString()!;

        await DisableAsync(service);
        await DisableAsync(user);
        foreach (var account in new[] { service, user })
            Expect.Success(await Id.PostJsonAsync($"/admin/accounts/{account.Id}/enable", null, await Id.AdminTokenAsync()), "enable");

        using (Assert.EnterMultipleScope())
        {
            // README: disabling "also revokes its refresh tokens and clients' tokens".
            Expect.OAuthError(await Id.RefreshGrantAsync(refresh, client), HttpStatusCode.BadRequest, "invalid_grant", "client refresh token");
            Expect.Problem(await Id.RefreshAsync(userRefresh), HttpStatusCode.Unauthorized, "user refresh token");
            Expect.Ok(await Id.ClientCredentialsAsync(client), "the re-enabled service authenticates again");
            Expect.Ok(await Id.LoginAsync(user.Username, user.Password!), "the re-enabled user logs in again");
        }
    }

    [Test]
    public async Task A_disabled_user_is_401_at_auth_and_refresh_with_the_right_password()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var refresh = (await Id.AuthAsync(user)).GetProperty("refresh_token").GetString()!;

        await DisableAsync(user);
        var login = await Id.LoginAsync(user.Username, user.Password!);
        var refreshed = await Id.RefreshAsync(refresh);
        var oauthRefresh = await Id.RefreshGrantAsync(refresh, null);
        var wrongPassword = await Id.LoginAsync(user.Username, Names.Password());
        var unknownUser = await Id.LoginAsync(Names.User(), Names.Password());

        using (Assert.EnterMultipleScope())
        {
            Expect.Problem(login, HttpStatusCode.Unauthorized, "/accounts/auth");
            Expect.Problem(refreshed, HttpStatusCode.Unauthorized, "/accounts/refresh");
            Expect.OAuthError(oauthRefresh, HttpStatusCode.BadRequest, "invalid_grant", "/oauth/token refresh_token");
            Assert.That(login.Body, Does.Not.Contain("token\""));
            Assert.That(Expect.ProblemText(wrongPassword), Is.EqualTo(Expect.ProblemText(unknownUser)),
                "without its password, a disabled account cannot be told from an unknown user");
        }
    }

    [Test]
    public async Task A_disabled_service_is_401_at_authenticate_service()
    {
        var org = await Id.NewOrgAsync("u1");
        var service = await Id.NewAccountAsync(org, type: "Service");

        await DisableAsync(service);

        Expect.Problem(await Id.PostJsonAsync("/authenticate/service", new { username = service.Username, password = service.Password }),
            HttpStatusCode.Unauthorized);
    }
}
