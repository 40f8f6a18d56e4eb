using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ThrillSuite.ServiceDefaults.Auth;

namespace ThrillSuite.ServiceHosts.IntegrationTests;

/// <summary>
/// What every resource service runs (ServiceDefaults' JWKS-backed validation, permission and owner checks),
/// hosted in-process and fed tokens issued by a real Thrill-ID process.
/// </summary>
[NonParallelizable]
public class ResourceTokenValidationTests
{
    const string Admin = "admin@thrilltech.io";
    readonly string adminPassword = "bootstrap-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    ServiceProcess thrillId = null!;
    WebApplication resource = null!;
    HttpClient id = null!;
    HttpClient api = null!;
    string database = null!;
    string adminToken = null!, orgLevelToken = null!, unitBoundToken = null!, noPermissionToken = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        var port = TestEnvironment.FreePort();
        thrillId = ServiceProcess.Start("ThrillId", port, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = port.ToString(),
            ["ConnectionStrings__thrillid"] = TestEnvironment.UniqueDatabase("resauth", out database),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = $"http://127.0.0.1:{port}",
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = Admin,
            ["Bootstrap__AdminPassword"] = adminPassword,
        });
        await thrillId.WaitReadyAsync();
        id = new HttpClient { BaseAddress = new Uri(thrillId.BaseUrl) };
        using (var login = await id.PostAsJsonAsync("/accounts/auth", new { username = Admin, password = adminPassword }))
            adminToken = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        await AdminAsync("/admin/organisations", new { id = "res-op", units = new[] { "b1", "b2" }, enabled = true });
        var write = new[] { new { system_id = "thrillpots", permissions = new[] { new { resource_id = "instances", permission = "Write" } } } };
        orgLevelToken = await ClientTokenAsync(new { username = "res-org", account_type = "Service", org_id = "res-op", permissions = write });
        unitBoundToken = await ClientTokenAsync(new { username = "res-b1", account_type = "Service", org_id = "res-op", unit_id = "b1", permissions = write });
        noPermissionToken = await ClientTokenAsync(new { username = "res-none", account_type = "Service", org_id = "res-op", permissions = Array.Empty<object>() });

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<ISigningKeySource>(new JwksSigningKeySource(new Uri($"{thrillId.BaseUrl}/.well-known/jwks.json"),
            new HttpClient(), NullLogger<JwksSigningKeySource>.Instance, minRefreshInterval: TimeSpan.FromMilliseconds(100)));
        builder.Services.AddTokenValidation(new TokenValidationSettings(thrillId.BaseUrl, ["thrillsuite"]));
        resource = builder.Build();
        resource.MapGet("/instances", () => "read").RequirePermission("thrillpots", "instances", write: false);
        resource.MapPost("/instances", () => "written").RequirePermission("thrillpots", "instances", write: true);
        resource.MapGet("/templates", () => "other resource").RequirePermission("thrillpots", "templates", write: false);
        resource.MapGet("/owners/{owner}", (string owner, HttpContext c) =>
            c.User.CanActFor(owner) ? Results.Ok(owner) : TokenValidation.Forbidden($"not {owner}")).RequireToken();
        await resource.StartAsync();
        api = new HttpClient { BaseAddress = new Uri(resource.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()) };
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await resource.StopAsync();
        await resource.DisposeAsync();
        id.Dispose();
        api.Dispose();
        await thrillId.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
    }

    [Test]
    public async Task A_token_granting_write_reads_and_writes()
    {
        Assert.That((await CallAsync(HttpMethod.Get, "/instances", orgLevelToken)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await CallAsync(HttpMethod.Post, "/instances", orgLevelToken)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task No_token_or_a_bad_token_is_401_with_a_challenge_and_a_problem_body()
    {
        foreach (var token in new string?[] { null, "not-a-jwt", orgLevelToken[..^4] + "AAAA" })
        {
            using var response = await CallAsync(HttpMethod.Get, "/instances", token);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), token ?? "(none)");
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer"));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        }
    }

    [Test]
    public async Task A_valid_token_without_the_permission_is_403_never_401()
    {
        Assert.That((await CallAsync(HttpMethod.Get, "/instances", noPermissionToken)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await CallAsync(HttpMethod.Get, "/templates", orgLevelToken)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await CallAsync(HttpMethod.Get, "/instances", adminToken)).StatusCode, Is.EqualTo(HttpStatusCode.OK), "*:*:write covers every system");
    }

    [TestCase("org", "res-op", true)]
    [TestCase("org", "res-op:b1", true)]
    [TestCase("org", "res-op:b2", true)]
    [TestCase("org", "res-op:b9", false)]
    [TestCase("org", "other-op", false)]
    [TestCase("org", "other-op:b1", false)]
    [TestCase("unit", "res-op", false)]
    [TestCase("unit", "res-op:b1", true)]
    [TestCase("unit", "res-op:b2", false)]
    public async Task Owner_checks_follow_organisation_and_unit(string who, string owner, bool allowed)
    {
        using var response = await CallAsync(HttpMethod.Get, $"/owners/{owner}", who == "org" ? orgLevelToken : unitBoundToken);
        Assert.That(response.StatusCode, Is.EqualTo(allowed ? HttpStatusCode.OK : HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task After_a_key_rotation_new_and_old_tokens_both_validate()
    {
        var before = orgLevelToken;
        Assert.That((await CallAsync(HttpMethod.Get, "/instances", before)).StatusCode, Is.EqualTo(HttpStatusCode.OK), "JWKS cached");
        using (var rotate = await AdminAsync("/admin/keys/rotate", new { })) Assert.That(rotate.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var after = await ClientTokenAsync(new { username = "res-rotated", account_type = "Service", org_id = "res-op",
            permissions = new[] { new { system_id = "thrillpots", permissions = new[] { new { resource_id = "instances", permission = "Read" } } } } });
        Assert.That(Kid(after), Is.Not.EqualTo(Kid(before)));

        // The new kid is unknown to the cache: the resource service refreshes the JWKS and accepts it (at once, or after the
        // minimum refresh interval when an earlier test's forged kid refreshed it a moment ago).
        await Eventually.TrueAsync(async () => (await CallAsync(HttpMethod.Get, "/instances", after)).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(5), "the token signed with the new key accepted");
        Assert.That((await CallAsync(HttpMethod.Get, "/instances", before)).StatusCode, Is.EqualTo(HttpStatusCode.OK), "the retired key stays published");
    }

    static string Kid(string jwt) =>
        JsonDocument.Parse(Convert.FromBase64String(Pad(jwt.Split('.')[0]))).RootElement.GetProperty("kid").GetString()!;

    static string Pad(string b64url)
    {
        var s = b64url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }

    async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, string? token)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await api.SendAsync(request);
    }

    [Test]
    public async Task A_failed_key_fetch_is_tried_again_within_seconds_not_after_the_refresh_interval()
    {
        // Thrill-ID's real JWKS behind a link that fails the first fetch (as when both restart at once).
        var link = new FailingOnce { InnerHandler = new HttpClientHandler() };
        var keys = new JwksSigningKeySource(new Uri($"{thrillId.BaseUrl}/.well-known/jwks.json"), new HttpClient(link),
            NullLogger<JwksSigningKeySource>.Instance, minRefreshInterval: TimeSpan.FromMinutes(5));

        Assert.That(keys.GetKeys(null), Is.Empty, "the first fetch failed");
        Assert.That(keys.GetKeys(null), Is.Empty, "not fetched again at once");
        await Eventually.TrueAsync(() => Task.FromResult(keys.GetKeys(null).Count > 0), TimeSpan.FromSeconds(5), "the keys after the retry");
        Assert.That(link.Calls, Is.EqualTo(2));
    }

    sealed class FailingOnce : DelegatingHandler
    {
        public int Calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            Interlocked.Increment(ref Calls) == 1 ? throw new HttpRequestException("connection refused (injected)") : base.SendAsync(request, ct);
    }

    async Task<HttpResponseMessage> AdminAsync(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        var response = await id.SendAsync(request);
        Assert.That((int)response.StatusCode, Is.InRange(200, 299), await response.Content.ReadAsStringAsync());
        return response;
    }

    /// <summary>Creates a Service account and an OAuth client for it, and returns a client-credentials token.</summary>
    async Task<string> ClientTokenAsync(object account)
    {
        using var created = await AdminAsync("/admin/accounts", account);
        var accountId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        using var client = await AdminAsync($"/admin/accounts/{accountId}/clients", new { });
        var c = await client.Content.ReadFromJsonAsync<JsonElement>();
        using var token = await id.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = c.GetProperty("client_id").GetString()!,
            ["client_secret"] = c.GetProperty("client_secret").GetString()!,
        }));
        Assert.That(token.StatusCode, Is.EqualTo(HttpStatusCode.OK), await token.Content.ReadAsStringAsync());
        return (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }
}
