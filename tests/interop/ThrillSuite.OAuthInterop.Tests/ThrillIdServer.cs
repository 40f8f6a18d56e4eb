using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;

namespace ThrillSuite.OAuthInterop.Tests;

/// <summary>
/// The real ThrillId process on a database of its own, with an operator organisation, a Service account in it
/// and an OAuth client of that account, all made through ThrillId's own admin API as the bootstrap admin.
/// </summary>
public sealed class ThrillIdServer : IAsyncDisposable
{
    public const string AdminUser = "admin@thrilltech.io";
    public const string Organisation = "interop-op";
    public static readonly string[] Units = ["interop-casino", "interop-sports"];

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    readonly ServiceProcess process;
    readonly string database;

    public HttpClient Http { get; }
    public string Issuer { get; }
    public string AccountId { get; private set; } = "";
    public string ClientId { get; private set; } = "";
    public string ClientSecret { get; private set; } = "";
    public string ServiceOutput => process.Output;

    ThrillIdServer(ServiceProcess process, string database, string issuer)
    {
        this.process = process;
        this.database = database;
        Issuer = issuer;
        Http = new HttpClient { BaseAddress = new Uri(process.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <param name="algorithm">SigningKeys:Algorithm, ES256 or RS256.</param>
    public static async Task<ThrillIdServer> StartAsync(string algorithm)
    {
        var port = TestEnvironment.FreePort();
        var issuer = $"http://127.0.0.1:{port}";
        var adminPassword = RandomPassword(24);
        var connectionString = TestEnvironment.UniqueDatabase("thrillid_oauth", out var database);
        var process = ServiceProcess.Start("ThrillId", port, new Dictionary<string, string>
        {
            ["Service__BindAddress"] = "127.0.0.1",
            ["Service__HttpPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ConnectionStrings__thrillid"] = connectionString,
            ["ConnectionStrings__rabbitmq"] = TestEnvironment.RabbitMq,
            ["ThrillId__Issuer"] = issuer,
            ["SigningKeys__Algorithm"] = algorithm,
            ["SigningKeys__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Bootstrap__AdminUser"] = AdminUser,
            ["Bootstrap__AdminPassword"] = adminPassword,
        });
        var server = new ThrillIdServer(process, database, issuer);
        try
        {
            await process.WaitReadyAsync(TimeSpan.FromSeconds(90));
            await server.ProvisionAsync(adminPassword);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    async Task ProvisionAsync(string adminPassword)
    {
        var auth = await SendAsync(HttpMethod.Post, "/accounts/auth", new { username = AdminUser, password = adminPassword }, HttpStatusCode.OK);
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", auth.GetProperty("token").GetString());

        await SendAsync(HttpMethod.Post, "/admin/organisations", new { id = Organisation, units = Units, enabled = true }, HttpStatusCode.OK);

        var account = await SendAsync(HttpMethod.Post, "/admin/accounts", new
        {
            username = "interop-client@interop-op.example",
            password = RandomPassword(24),
            account_type = "Service",
            org_id = Organisation,
            permissions = new[]
            {
                new { system_id = "thrillpots", permissions = new[] { new { resource_id = "instances", permission = "Write" } } },
            },
            enabled = true,
        }, HttpStatusCode.Created);
        AccountId = account.GetProperty("id").GetString()!;

        var client = await SendAsync(HttpMethod.Post, $"/admin/accounts/{Uri.EscapeDataString(AccountId)}/clients", null, HttpStatusCode.Created);
        ClientId = client.GetProperty("client_id").GetString()!;
        ClientSecret = client.GetProperty("client_secret").GetString()!;
    }

    /// <summary>Sends a JSON request; anything but <paramref name="expected"/> fails with the request, the answer and the service's output.</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, options: Json);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
            throw new InvalidOperationException(
                $"{method} {path} answered {(int)response.StatusCode} {response.StatusCode}, want {(int)expected}: {text}\n--- ThrillId output (tail) ---\n{OutputTail()}");
        if (text.Length == 0) return default;
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public string OutputTail(int lines = 60) =>
        string.Join('\n', ServiceOutput.Split('\n').TakeLast(lines));

    /// <summary>The arguments every script takes.</summary>
    public string[] ScriptArgs(params string[] more) =>
        ["--issuer", Issuer, "--client-id", ClientId, "--client-secret", ClientSecret, .. more];

    static string RandomPassword(int length)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.";
        return RandomNumberGenerator.GetString(alphabet, length);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await process.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
    }
}
