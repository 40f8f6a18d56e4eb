using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BitBridge.IntegrationTests;

/// <summary>A request a peer received, with whether its signature checked out (webhooks) and what it was answered.</summary>
public sealed record Received(string Peer, string? DeliveryId, string Body, bool SignatureValid, long? Timestamp, int Answer, DateTime At)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// One local HTTP server playing webhook receivers (<c>POST /hooks/{name}</c>, signature checked with the secret registered for
/// the name) and the Telegram Bot API (<c>POST /bot{token}/sendMessage</c>). Each peer answers from a script of statuses
/// armed by the test, then 200; every request is kept.
/// </summary>
public sealed class Peers : IAsyncDisposable
{
    readonly WebApplication app;
    readonly ConcurrentDictionary<string, string> secrets = new();
    readonly ConcurrentDictionary<string, ConcurrentQueue<int>> scripts = new();
    readonly ConcurrentDictionary<string, TimeSpan> delays = new();
    readonly ConcurrentQueue<Received> received = new();

    public string BaseUrl { get; }

    Peers(WebApplication app, string baseUrl)
    {
        this.app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<Peers> StartAsync()
    {
        var port = TestEnvironment.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var peers = new Peers(app, $"http://127.0.0.1:{port}");
        app.MapPost("/hooks/{name}", peers.HookAsync);
        // Not "/bot{token}/…": a route's literal prefix is matched at its last occurrence in the segment.
        app.MapPost("/{bot}/sendMessage", peers.TelegramAsync);
        await app.StartAsync();
        return peers;
    }

    /// <summary>A webhook receiver's URL; its requests are checked against <paramref name="secret"/>.</summary>
    public string Hook(string name, string secret)
    {
        secrets[name] = secret;
        return $"{BaseUrl}/hooks/{name}";
    }

    /// <summary>The statuses the peer answers next, in order (then 200).</summary>
    public void Script(string peer, params int[] statuses) => scripts[peer] = new ConcurrentQueue<int>(statuses);

    /// <summary>The peer takes this long before each answer.</summary>
    public void Delay(string peer, TimeSpan delay) => delays[peer] = delay;

    public IReadOnlyList<Received> For(string peer) => received.Where(r => r.Peer == peer).ToList();

    /// <summary>What the peer accepted (answered 2xx).</summary>
    public IReadOnlyList<Received> Accepted(string peer) => For(peer).Where(r => r.Answer is >= 200 and < 300).ToList();

    public Task<IReadOnlyList<Received>> WaitAcceptedAsync(string peer, int count, int seconds = 30) =>
        Eventually.ValueAsync(() => Task.FromResult(Accepted(peer) is { } a && a.Count >= count ? a : null), TimeSpan.FromSeconds(seconds),
            $"{count} accepted request(s) at {peer}");

    async Task<IResult> HookAsync(string name, HttpRequest request)
    {
        var body = await ReadAsync(request);
        var timestamp = request.Headers["X-BitBridge-Timestamp"].ToString();
        var signature = request.Headers["X-BitBridge-Signature"].ToString();
        var expected = secrets.TryGetValue(name, out var secret)
            ? Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body)))
            : null;
        var valid = expected is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(signature));
        var status = valid ? await NextAsync(name) : 401;
        received.Enqueue(new Received(name, request.Headers["X-BitBridge-Delivery"].ToString(), body, valid,
            long.TryParse(timestamp, out var ts) ? ts : null, status, DateTime.UtcNow));
        return Results.StatusCode(status);
    }

    async Task<IResult> TelegramAsync(string bot, HttpRequest request)
    {
        if (!bot.StartsWith("bot", StringComparison.Ordinal)) return Results.NotFound();
        var body = await ReadAsync(request);
        var peer = "telegram:" + bot[3..];
        var status = await NextAsync(peer);
        received.Enqueue(new Received(peer, null, body, true, null, status, DateTime.UtcNow));
        return status switch
        {
            200 => Results.Json(new { ok = true, result = new { message_id = received.Count } }),
            429 => Results.Json(new { ok = false, error_code = 429, description = "Too Many Requests: retry after 1", parameters = new { retry_after = 1 } },
                statusCode: 429),
            _ => Results.Json(new { ok = false, error_code = status, description = "Scripted failure" }, statusCode: status),
        };
    }

    async Task<int> NextAsync(string peer)
    {
        if (delays.TryGetValue(peer, out var delay)) await Task.Delay(delay);
        return scripts.TryGetValue(peer, out var script) && script.TryDequeue(out var status) ? status : 200;
    }

    static async Task<string> ReadAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
