using System.Net.Http.Headers;
using System.Text;
using static ThrillId.IntegrationTests.IdClient;

namespace ThrillId.IntegrationTests;

/// <summary>Oversized (over 64 KiB → 413) and malformed bodies (→ 400 naming the field); no refused request changes anything.</summary>
public class RequestBodyTests
{
    static IdClient Id => SharedThrillId.Client;
    const int Limit = 64 * 1024;

    /// <summary>A body sent without Content-Length (chunked), so a limit cannot rely on the header.</summary>
    sealed class ChunkedContent(byte[] bytes, string contentType) : HttpContent
    {
        readonly byte[] bytes = bytes;
        public ChunkedContent Typed()
        {
            Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            return this;
        }
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var i = 0; i < bytes.Length; i += 4096) await stream.WriteAsync(bytes.AsMemory(i, Math.Min(4096, bytes.Length - i)));
        }
        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary><paramref name="json"/> (an object) padded with insignificant whitespace to exactly <paramref name="size"/> bytes.</summary>
    static string PadJson(string json, int size)
    {
        var bytes = Encoding.UTF8.GetByteCount(json);
        Assert.That(bytes, Is.LessThanOrEqualTo(size));
        return json[..^1] + new string(' ', size - bytes) + "}";
    }

    static string LoginJson(Account account) => Json(new { username = account.Username, password = account.Password });

    [Test]
    public async Task A_login_body_of_exactly_64_KiB_is_accepted()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);

        var reply = await Id.PostJsonAsync("/accounts/auth", PadJson(LoginJson(user), Limit));

        Expect.Ok(reply);
    }

    [Test]
    public async Task A_login_body_over_64_KiB_is_413_even_with_valid_credentials()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);

        var sized = await Id.PostJsonAsync("/accounts/auth", PadJson(LoginJson(user), Limit + 1));
        var chunked = await Id.SendAsync(HttpMethod.Post, "/accounts/auth",
            new ChunkedContent(Encoding.UTF8.GetBytes(PadJson(LoginJson(user), 4 * Limit)), "application/json").Typed());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(sized.Status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), "Content-Length over the limit: " + sized);
            Assert.That(chunked.Status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), "chunked over the limit: " + chunked);
            Assert.That(sized.Body + chunked.Body, Does.Not.Contain("refresh_token"));
        }
        Assert.That((await Id.AccountAsync(user.Id)).GetProperty("last_logged_in").ValueKind, Is.EqualTo(JsonValueKind.Null), "no login happened");
    }

    [Test]
    public async Task An_admin_body_over_64_KiB_is_413_and_creates_nothing()
    {
        var org = await Id.NewOrgAsync("u1");
        var username = Names.User();
        var json = Json(new
        {
            username, password = Names.Password(), account_type = "User", org_id = org, permissions = Perms.Of("thrillpots:instances:Read"),
        });

        var reply = await Id.PostJsonAsync("/admin/accounts", PadJson(json, Limit + 1), await Id.AdminTokenAsync());

        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), reply.ToString());
        Assert.That((await Id.AccountsOfAsync(org)).Select(a => a.GetProperty("username").GetString()), Does.Not.Contain(username));
    }

    [Test]
    public async Task A_refresh_body_over_64_KiB_is_413_and_does_not_rotate()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var refresh = (await Id.AuthAsync(user)).GetProperty("refresh_token").GetString()!;

        var reply = await Id.PostJsonAsync("/accounts/refresh", PadJson(Json(new { token = refresh }), Limit + 1));

        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), reply.ToString());
        Expect.Ok(await Id.RefreshAsync(refresh), "the refresh token was not consumed");
    }

    [Test]
    public async Task A_token_request_over_64_KiB_is_413()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");
        var form = "grant_type=client_credentials&pad=";
        form += new string('x', Limit + 1 - form.Length);

        var reply = await Id.SendAsync(HttpMethod.Post, "/oauth/token",
            new StringContent(form, Encoding.ASCII, "application/x-www-form-urlencoded"), authorization: Basic(client));

        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), reply.ToString());
        Assert.That(reply.Body, Does.Not.Contain("access_token"));
    }

    public static IEnumerable<TestCaseData> MalformedLogins()
    {
        yield return new TestCaseData("/accounts/auth", "{\"username\": \"someone\", \"password\":", null).SetName("Auth_truncated_JSON");
        yield return new TestCaseData("/accounts/auth", "username=a&password=b", null).SetName("Auth_not_JSON");
        yield return new TestCaseData("/accounts/auth", "", null).SetName("Auth_empty_body");
        yield return new TestCaseData("/accounts/auth", "[]", null).SetName("Auth_array");
        yield return new TestCaseData("/accounts/auth", "{\"username\": 123, \"password\": \"password-1234\"}", "username").SetName("Auth_username_number");
        yield return new TestCaseData("/accounts/auth", "{\"username\": \"someone\", \"password\": true}", "password").SetName("Auth_password_bool");
        yield return new TestCaseData("/accounts/auth", "{\"username\": \"someone\"}", "password").SetName("Auth_missing_password");
        yield return new TestCaseData("/accounts/auth", "{\"password\": \"password-1234\"}", "username").SetName("Auth_missing_username");
        yield return new TestCaseData("/accounts/auth", "{\"username\": null, \"password\": \"password-1234\"}", "username").SetName("Auth_null_username");
        yield return new TestCaseData("/accounts/refresh", "{}", "token").SetName("Refresh_missing_token");
        yield return new TestCaseData("/accounts/refresh", "{\"token\": 5}", "token").SetName("Refresh_token_number");
        yield return new TestCaseData("/authenticate/service", "{\"username\": \"someone\"}", "password").SetName("Service_missing_password");
        yield return new TestCaseData("/authenticate/service", "{\"username\": [], \"password\": \"password-1234\"}", "username").SetName("Service_username_array");
    }

    [TestCaseSource(nameof(MalformedLogins))]
    public async Task A_malformed_body_is_a_400_problem(string path, string body, string? field)
    {
        var reply = await Id.PostJsonAsync(path, body);

        if (field is null) Expect.Problem(reply, HttpStatusCode.BadRequest);
        else Expect.BadField(reply, field);
    }

    public static IEnumerable<TestCaseData> MalformedAccounts()
    {
        TestCaseData Case(string name, string field, Func<Dictionary<string, object?>, object?> change) =>
            new TestCaseData(field, change).SetName("Create_account_" + name);
        yield return Case("account_type_unknown", "account_type", b => b["account_type"] = "Robot");
        yield return Case("account_type_missing", "account_type", b => b.Remove("account_type"));
        yield return Case("permissions_string", "permissions", b => b["permissions"] = "all");
        yield return Case("permission_value_unknown", "permission", b => b["permissions"] = new[]
        {
            new { system_id = "thrillpots", permissions = new[] { new { resource_id = "instances", permission = "Admin" } } },
        });
        yield return Case("org_id_missing", "org_id", b => b.Remove("org_id"));
        yield return Case("org_id_number", "org_id", b => b["org_id"] = 42);
        yield return Case("username_missing", "username", b => b.Remove("username"));
        yield return Case("username_2_characters", "username", b => b["username"] = "ab");
        yield return Case("username_201_characters", "username", b => b["username"] = new string('u', 201));
        yield return Case("password_11_characters", "password", b => b["password"] = "elevenchars");
        yield return Case("password_257_characters", "password", b => b["password"] = new string('p', 257));
        yield return Case("enabled_string", "enabled", b => b["enabled"] = "yes");
        yield return Case("trusted_number", "trusted", b => b["trusted"] = 1);
    }

    [TestCaseSource(nameof(MalformedAccounts))]
    public async Task A_malformed_account_is_a_400_problem_naming_the_field_and_creates_nothing(string field, Func<Dictionary<string, object?>, object?> change)
    {
        var org = await Id.NewOrgAsync("u1");
        var username = Names.User();
        var body = new Dictionary<string, object?>
        {
            ["username"] = username, ["password"] = Names.Password(), ["account_type"] = "User", ["org_id"] = org,
            ["permissions"] = Perms.Of("thrillpots:instances:Read"), ["enabled"] = true, ["trusted"] = false,
        };
        change(body);

        var reply = await Id.PostJsonAsync("/admin/accounts", Json(body), await Id.AdminTokenAsync());

        Expect.BadField(reply, field);
        var usernames = (await Id.AccountsOfAsync(org)).Select(a => a.GetProperty("username").GetString()).ToList();
        Assert.That(usernames, Is.Empty, "nothing was created");
    }

    [Test]
    public async Task Truncated_JSON_at_an_admin_endpoint_is_a_400_problem()
    {
        var reply = await Id.PostJsonAsync("/admin/accounts", "{\"username\": \"x\", \"permissions\": [", await Id.AdminTokenAsync());

        Expect.Problem(reply, HttpStatusCode.BadRequest);
    }

    [TestCase("id", "{\"units\": [\"u1\"], \"enabled\": true}", TestName = "Create_organisation_id_missing")]
    [TestCase("units", "{\"id\": \"@ID\", \"units\": \"u1\", \"enabled\": true}", TestName = "Create_organisation_units_string")]
    [TestCase("units", "{\"id\": \"@ID\", \"units\": [1, 2], \"enabled\": true}", TestName = "Create_organisation_units_numbers")]
    [TestCase("enabled", "{\"id\": \"@ID\", \"units\": [\"u1\"], \"enabled\": \"yes\"}", TestName = "Create_organisation_enabled_string")]
    [TestCase("id", "{\"id\": 7, \"units\": [\"u1\"], \"enabled\": true}", TestName = "Create_organisation_id_number")]
    public async Task A_malformed_organisation_is_a_400_problem_naming_the_field_and_creates_nothing(string field, string body)
    {
        var id = Names.Org();
        var admin = await Id.AdminTokenAsync();

        var reply = await Id.PostJsonAsync("/admin/organisations", body.Replace("@ID", id), admin);

        Expect.BadField(reply, field);
        Expect.Problem(await Id.GetAsync("/admin/organisations/" + id, admin), HttpStatusCode.NotFound, "not created");
    }

    [Test]
    public async Task A_malformed_password_change_is_a_400_problem_and_changes_nothing()
    {
        var org = await Id.NewOrgAsync("u1");
        var user = await Id.NewAccountAsync(org);
        var token = await Id.TokenOfAsync(user);

        var reply = await Id.PostJsonAsync("/accounts/password", $"{{\"password\": 123456789012345, \"current\": \"{user.Password}\"}}", token);

        Expect.BadField(reply, "password");
        Expect.Ok(await Id.LoginAsync(user.Username, user.Password!));
    }

    [Test]
    public async Task A_JSON_body_at_the_token_endpoint_is_invalid_request()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        var reply = await Id.SendAsync(HttpMethod.Post, "/oauth/token",
            JsonContent(Json(new { grant_type = "client_credentials" })), authorization: Basic(client));

        Expect.OAuthError(reply, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Test]
    public async Task A_repeated_parameter_at_the_token_endpoint_is_invalid_request()
    {
        var (_, client) = await Id.NewServiceClientAsync("thrillpots:instances:Read");

        // RFC 6749 §3.2: parameters MUST NOT be included more than once.
        var reply = await Id.TokenAsync([F("grant_type", "client_credentials"), F("grant_type", "client_credentials")], client);

        Expect.OAuthError(reply, HttpStatusCode.BadRequest, "invalid_request");
    }
}
