using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace ThrillId.IntegrationTests;

/// <summary>An answer of Thrill-ID: status, headers (response and content, case-insensitive) and raw body.</summary>
public sealed record Reply(HttpStatusCode Status, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    public string? ContentType => Header("Content-Type");

    /// <summary>The RFC 6749 §5.2 error code, when the body is an OAuth error.</summary>
    public string? Error => TryJson(out var json) && json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out var e)
        ? e.GetString() : null;

    public bool TryJson(out JsonElement json)
    {
        try
        {
            json = JsonDocument.Parse(Body).RootElement;
            return true;
        }
        catch (JsonException)
        {
            json = default;
            return false;
        }
    }

    public string Str(string property) => Json.GetProperty(property).GetString()!;

    public override string ToString() =>
        $"{(int)Status} {Body}" + (Header("WWW-Authenticate") is { } w ? $" [WWW-Authenticate: {w}]" : "");
}

public sealed record Account(string Id, string Username, string? Password, string OrgId, string? UnitId, string Type);

public sealed record OAuthClient(string Id, string Secret);

/// <summary>
/// Speaks to Thrill-ID over real HTTP, as an operator's integration does: JSON for the ThrillTech endpoints,
/// form-urlencoded for the OAuth ones. Helpers create the organisations/accounts/clients a test owns.
/// </summary>
public sealed class IdClient : IDisposable
{
    readonly ThrillIdInstance instance;
    readonly HttpClient http;
    string? adminToken;

    public string Issuer => instance.Issuer;
    public ThrillIdInstance Instance => instance;

    /// <param name="sourceAddress">The loopback address the client connects from (127.0.0.x), for per-address limits.</param>
    public IdClient(ThrillIdInstance instance, string? sourceAddress = null)
    {
        this.instance = instance;
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) };
        if (sourceAddress is not null)
        {
            var source = IPAddress.Parse(sourceAddress);
            handler.ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        http = new HttpClient(handler) { BaseAddress = new Uri(instance.Issuer), Timeout = TimeSpan.FromSeconds(60) };
    }

    public IdClient From(string sourceAddress) => new(instance, sourceAddress);

    // --- transport ---

    public async Task<Reply> SendAsync(HttpMethod method, string path, HttpContent? content = null, string? bearer = null,
        AuthenticationHeaderValue? authorization = null, string? rawAuthorization = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (bearer is not null) rawAuthorization = "Bearer " + bearer;
        if (rawAuthorization is not null) request.Headers.TryAddWithoutValidation("Authorization", rawAuthorization);
        if (authorization is not null) request.Headers.Authorization = authorization;
        using var response = await http.SendAsync(request);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers) headers[name] = string.Join(", ", values);
        foreach (var (name, values) in response.Content.Headers) headers[name] = string.Join(", ", values);
        return new Reply(response.StatusCode, await response.Content.ReadAsStringAsync(), headers);
    }

    public static string Json(object body) => JsonSerializer.Serialize(body);

    public static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    public Task<Reply> GetAsync(string path, string? token = null) => SendAsync(HttpMethod.Get, path, bearer: token);

    public Task<Reply> DeleteAsync(string path, string? token = null) => SendAsync(HttpMethod.Delete, path, bearer: token);

    public Task<Reply> PostJsonAsync(string path, object? body, string? token = null) =>
        SendAsync(HttpMethod.Post, path, body is null ? null : JsonContent(body as string ?? Json(body)), token);

    public Task<Reply> PutJsonAsync(string path, object body, string? token = null) =>
        SendAsync(HttpMethod.Put, path, JsonContent(body as string ?? Json(body)), token);

    public Task<Reply> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> form, OAuthClient? basic = null) =>
        SendAsync(HttpMethod.Post, path, new FormUrlEncodedContent(form), authorization: basic is null ? null : Basic(basic));

    /// <summary>RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.</summary>
    public static AuthenticationHeaderValue Basic(OAuthClient client) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            Uri.EscapeDataString(client.Id) + ":" + Uri.EscapeDataString(client.Secret))));

    public static KeyValuePair<string, string> F(string key, string value) => new(key, value);

    // --- ThrillTech-compatible endpoints ---

    public Task<Reply> LoginAsync(string username, string password) =>
        PostJsonAsync("/accounts/auth", new { username, password });

    public Task<Reply> RefreshAsync(string refreshToken) => PostJsonAsync("/accounts/refresh", new { token = refreshToken });

    public Task<Reply> MeAsync(string token) => GetAsync("/accounts/me", token);

    /// <summary>Logs in and returns the AuthResponse; fails the test unless it is 200.</summary>
    public async Task<JsonElement> AuthAsync(Account account)
    {
        var reply = await LoginAsync(account.Username, account.Password!);
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), $"login of {account.Username}: {reply}");
        return reply.Json;
    }

    public async Task<string> TokenOfAsync(Account account) => (await AuthAsync(account)).GetProperty("token").GetString()!;

    public async Task<string> AdminTokenAsync()
    {
        if (adminToken is not null) return adminToken;
        var reply = await LoginAsync(instance.Config.AdminUser, instance.Config.AdminPassword!);
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), "bootstrap admin login: " + reply);
        return adminToken = reply.Str("token");
    }

    // --- OAuth endpoints ---

    public Task<Reply> TokenAsync(IEnumerable<KeyValuePair<string, string>> form, OAuthClient? basic = null) =>
        PostFormAsync("/oauth/token", form, basic);

    public Task<Reply> ClientCredentialsAsync(OAuthClient client, string? scope = null, bool basic = true)
    {
        var form = new List<KeyValuePair<string, string>> { F("grant_type", "client_credentials") };
        if (scope is not null) form.Add(F("scope", scope));
        if (!basic) form.AddRange([F("client_id", client.Id), F("client_secret", client.Secret)]);
        return TokenAsync(form, basic ? client : null);
    }

    public Task<Reply> RefreshGrantAsync(string refreshToken, OAuthClient? client) =>
        TokenAsync([F("grant_type", "refresh_token"), F("refresh_token", refreshToken)], client);

    public Task<Reply> IntrospectAsync(string token, OAuthClient? client) => PostFormAsync("/oauth/introspect", [F("token", token)], client);

    public Task<Reply> RevokeAsync(string token, OAuthClient? client = null, string? hint = null)
    {
        var form = new List<KeyValuePair<string, string>> { F("token", token) };
        if (hint is not null) form.Add(F("token_type_hint", hint));
        return PostFormAsync("/oauth/revoke", form, client);
    }

    // --- admin helpers (as the bootstrap admin unless a token is given) ---

    public async Task<string> NewOrgAsync(params string[] units)
    {
        var id = Names.Org();
        var reply = await PostJsonAsync("/admin/organisations", new { id, units, enabled = true }, await AdminTokenAsync());
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), "create organisation: " + reply);
        return id;
    }

    public async Task<Account> NewAccountAsync(string orgId, string? unitId = null, string[]? permissions = null,
        string type = "User", bool withPassword = true, bool trusted = false, string? token = null)
    {
        var username = Names.User();
        var password = withPassword ? Names.Password() : null;
        var reply = await PostJsonAsync("/admin/accounts", new
        {
            username, password, account_type = type, org_id = orgId, unit_id = unitId,
            permissions = Perms.Of(permissions ?? []), enabled = true, trusted,
        }, token ?? await AdminTokenAsync());
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.Created), "create account: " + reply);
        return new Account(reply.Str("id"), username, password, orgId, unitId, type);
    }

    public async Task<OAuthClient> NewClientAsync(Account account)
    {
        var reply = await PostJsonAsync($"/admin/accounts/{account.Id}/clients", null, await AdminTokenAsync());
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.Created), "create client: " + reply);
        return new OAuthClient(reply.Str("client_id"), reply.Str("client_secret"));
    }

    /// <summary>A Service account of a new organisation holding <paramref name="permissions"/>, with one OAuth client.</summary>
    public async Task<(Account Account, OAuthClient Client)> NewServiceClientAsync(params string[] permissions)
    {
        var org = await NewOrgAsync("u1");
        var account = await NewAccountAsync(org, permissions: permissions, type: "Service");
        return (account, await NewClientAsync(account));
    }

    public async Task<JsonElement> AccountAsync(string id)
    {
        var reply = await GetAsync("/admin/accounts/" + id, await AdminTokenAsync());
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), "read account: " + reply);
        return reply.Json;
    }

    public async Task<List<JsonElement>> AccountsOfAsync(string orgId)
    {
        var reply = await GetAsync("/admin/accounts?org_id=" + Uri.EscapeDataString(orgId), await AdminTokenAsync());
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), "list accounts: " + reply);
        return [.. reply.Json.EnumerateArray()];
    }

    public async Task<JsonElement> JwksAsync()
    {
        var reply = await GetAsync("/.well-known/jwks.json");
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), "JWKS: " + reply);
        return reply.Json;
    }

    public async Task<List<string>> JwksKidsAsync() =>
        [.. (await JwksAsync()).GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!)];

    public void Dispose() => http.Dispose();
}

/// <summary>Builds the permission tree of the spec from "system:resource:Read|Write" strings.</summary>
public static class Perms
{
    public static object[] Of(params string[] specs) =>
    [
        .. specs.Select(s => s.Split(':'))
            .GroupBy(p => p[0])
            .Select(g => new
            {
                system_id = g.Key,
                permissions = g.Select(p => new { resource_id = p[1], permission = p[2] }).ToArray(),
            }),
    ];
}
