using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;

namespace ThrillSuite.Testing;

/// <summary>A service's HTTP admin API as a caller with a bearer token sees it.</summary>
public sealed class Api(HttpClient http) : IDisposable
{
    public HttpClient Http => http;

    /// <summary><paramref name="origin"/>: sent as the Origin header, as a browser would (CORS).</summary>
    public async Task<Reply> SendAsync(HttpMethod method, string path, string? token, object? body = null, string? origin = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (body is not null)
            request.Content = new StringContent(body switch
            {
                RawJson raw => raw.Text,
                JsonNode node => node.ToJsonString(),
                _ => JsonSerializer.Serialize(body),
            }, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        return new Reply(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType, headers);
    }

    public Task<Reply> GetAsync(string path, string? token = null, string? origin = null) => SendAsync(HttpMethod.Get, path, token, origin: origin);
    public Task<Reply> PostAsync(string path, string? token, object? body = null) => SendAsync(HttpMethod.Post, path, token, body ?? new { });
    public Task<Reply> PutAsync(string path, string? token, object body) => SendAsync(HttpMethod.Put, path, token, body);
    public Task<Reply> DeleteAsync(string path, string? token, object? body = null) => SendAsync(HttpMethod.Delete, path, token, body);

    public void Dispose() => http.Dispose();
}

/// <summary>A body sent as it is, malformed or not.</summary>
public sealed record RawJson(string Text);

public sealed record Reply(HttpStatusCode Status, string Text, string? MediaType, IReadOnlyDictionary<string, string> Headers)
{
    public JsonElement Json => JsonDocument.Parse(Text).RootElement;

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    public string WwwAuthenticate => Header("WWW-Authenticate") ?? "";
    public string? Location => Header("Location");

    public Reply Expect(HttpStatusCode status)
    {
        Assert.That(Status, Is.EqualTo(status), Text);
        return this;
    }

    /// <summary>A 400 RFC 7807 validation problem naming <paramref name="field"/> among its errors.</summary>
    public Reply ExpectInvalid(string field)
    {
        ExpectProblem(HttpStatusCode.BadRequest);
        var names = Json.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(names, Does.Contain(field), Text);
        return this;
    }

    public Reply ExpectProblem(HttpStatusCode status)
    {
        Expect(status);
        Assert.That(MediaType, Is.EqualTo("application/problem+json"), Text);
        return this;
    }

    public override string ToString() => $"{(int)Status} {Text}";
}
