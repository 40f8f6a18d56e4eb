using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using NUnit.Framework;

namespace ThrillSuite.Testing;

/// <summary>
/// A real Thrill-ID for a test run, with a bootstrap administrator of the platform organisation (every permission) whose token
/// creates the organisations and the service accounts the tests act as.
/// </summary>
public sealed class TestThrillId : IAsyncDisposable
{
    const string Admin = "admin@thrilltech.io";
    readonly string adminPassword = "bootstrap-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    readonly string database;
    readonly HttpClient http;

    public ServiceProcess Process { get; }
    public string BaseUrl => Process.BaseUrl;
    /// <summary>The platform administrator's token, once <see cref="WaitReadyAsync"/> has logged in.</summary>
    public string Platform { get; private set; } = null!;

    TestThrillId(string databasePrefix)
    {
        var port = TestEnvironment.FreePort();
        Process = ServiceProcess.Start("ThrillId", port, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = port.ToString(),
            ["ConnectionStrings__thrillid"] = TestEnvironment.UniqueDatabase(databasePrefix, out database),
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = $"http://127.0.0.1:{port}",
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = Admin,
            ["Bootstrap__AdminPassword"] = adminPassword,
        });
        http = new HttpClient { BaseAddress = new Uri(Process.BaseUrl) };
    }

    /// <summary>Starts the process on a fresh database (named after <paramref name="databasePrefix"/>); it is ready after <see cref="WaitReadyAsync"/>.</summary>
    public static TestThrillId Start(string databasePrefix) => new(databasePrefix);

    public async Task WaitReadyAsync()
    {
        await Process.WaitReadyAsync();
        using var login = await http.PostAsJsonAsync("/accounts/auth", new { username = Admin, password = adminPassword });
        Platform = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>POSTs to Thrill-ID's admin API as the platform administrator and answers the 2xx body.</summary>
    public async Task<JsonElement> AdminPostAsync(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Platform);
        using var response = await http.SendAsync(request);
        Assert.That((int)response.StatusCode, Is.InRange(200, 299), await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public Task OrganisationAsync(string id, IEnumerable<string> units) =>
        AdminPostAsync("/admin/organisations", new { id, units = units.ToArray(), enabled = true });

    /// <summary>
    /// A Service account of <paramref name="org"/> (bound to <paramref name="unit"/> when given) with <paramref name="level"/>
    /// (Read or Write; no permission when null) on each system's resources, and a client-credentials token of it.
    /// </summary>
    public async Task<string> ClientTokenAsync(string username, string org, string? unit, IReadOnlyDictionary<string, string[]> resources, string? level)
    {
        var permissions = level is null ? [] : resources.Select(s => new
        {
            system_id = s.Key,
            permissions = s.Value.Select(r => new { resource_id = r, permission = level }).ToArray(),
        }).ToArray();
        var account = await AdminPostAsync("/admin/accounts", new { username, account_type = "Service", org_id = org, unit_id = unit, permissions });
        var client = await AdminPostAsync($"/admin/accounts/{account.GetProperty("id").GetString()}/clients", new { });
        using var token = await http.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = client.GetProperty("client_id").GetString()!,
            ["client_secret"] = client.GetProperty("client_secret").GetString()!,
        }));
        Assert.That(token.StatusCode, Is.EqualTo(HttpStatusCode.OK), await token.Content.ReadAsStringAsync());
        return (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        await Process.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
    }
}
