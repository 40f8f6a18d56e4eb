using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ReferenceWallet.IntegrationTests;

/// <summary>An answer of the wallet: status and raw body, with the contract's fields read out.</summary>
public sealed record Reply(HttpStatusCode Status, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    public string? Code => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("code", out var c) ? c.GetString() : null;
    public string? Message => Json.GetProperty("message").GetString();
    public string TransactionId => Json.GetProperty("transaction_id").GetString()!;

    /// <summary>Numeric everywhere but in the cancel answer, where it is a string (§3.6).</summary>
    public decimal Balance => Json.GetProperty("balance") is { ValueKind: JsonValueKind.String } s
        ? decimal.Parse(s.GetString()!, CultureInfo.InvariantCulture)
        : Json.GetProperty("balance").GetDecimal();

    public override string ToString() => $"{(int)Status} {Body}";
}

public sealed record Player(string Id, string Token, string Currency);

/// <summary>Speaks to the wallet as ThrillGate does (HMAC-signed bodies) and to its /sim controls as a test does.</summary>
public sealed class WalletClient(string baseUrl, string secret, string adminToken) : IDisposable
{
    public const string OperatorId = "thrillsuite-tests";
    public const string BrandId = "brand-1";
    readonly HttpClient http = new() { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };

    public string BaseUrl => baseUrl;
    public string Secret => secret;

    public static string Sign(string key, byte[] body) => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), body));

    public static string Json(object body) => JsonSerializer.Serialize(body);

    /// <summary>
    /// Sends <paramref name="body"/> signed (or with <paramref name="signature"/>, or unsigned when it is "").
    /// A fresh connection is used on request: HttpClient silently re-sends a request whose reused connection
    /// closed without an answer, which would hide a dropped response.
    /// </summary>
    public async Task<Reply> SendAsync(HttpMethod method, string path, string? body, string? signature = null,
        TimeSpan? timeout = null, bool freshConnection = false)
    {
        var bytes = Encoding.UTF8.GetBytes(body ?? "");
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        signature ??= Sign(secret, bytes);
        if (signature.Length > 0) request.Headers.TryAddWithoutValidation("X-Server-Authorization", signature);
        using var fresh = freshConnection || timeout is not null ? new HttpClient { BaseAddress = http.BaseAddress, Timeout = timeout ?? http.Timeout } : null;
        using var response = await (fresh ?? http).SendAsync(request);
        return new Reply(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task<Reply> AuthenticateAsync(string playerToken, string currency = "EUR", string operatorId = OperatorId, string brandId = BrandId) =>
        SendAsync(HttpMethod.Post, "/wallet/authenticate",
            Json(new { operator_id = operatorId, brand_id = brandId, player_token = playerToken, source_id = "casino-sitewide", currency }));

    public Task<Reply> BalanceAsync(string playerId) => SendAsync(HttpMethod.Get, "/wallet/balance?player_id=" + Uri.EscapeDataString(playerId), null);

    public async Task<decimal> BalanceOfAsync(Player player)
    {
        var reply = await BalanceAsync(player.Id);
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), reply.ToString());
        return reply.Balance;
    }

    public static string TransactionJson(Player player, string transactionId, string type, decimal amount, string? currency = null, string? token = null) =>
        Json(new
        {
            player_id = player.Id, transaction_id = transactionId, transaction_type = type, provider_id = "thrilltech", token,
            gameround_id = "round-" + transactionId, source_id = "casino-sitewide", amount, currency = currency ?? player.Currency,
            close_round = type == "Credit", reference_transaction_id = (string?)null,
        });

    public Task<Reply> TransactionAsync(string json, TimeSpan? timeout = null, bool freshConnection = false) =>
        SendAsync(HttpMethod.Post, "/wallet/transaction", json, timeout: timeout, freshConnection: freshConnection);

    public Task<Reply> DebitAsync(Player player, string transactionId, decimal amount) =>
        TransactionAsync(TransactionJson(player, transactionId, "Debit", amount));

    public Task<Reply> CreditAsync(Player player, string transactionId, decimal amount) =>
        TransactionAsync(TransactionJson(player, transactionId, "Credit", amount));

    public Task<Reply> CancelAsync(string transactionId, string? playerId) =>
        SendAsync(HttpMethod.Delete, "/wallet/cancel", Json(new { transaction_id = transactionId, player_id = playerId }));

    // --- simulation controls ---

    public async Task<Reply> AdminAsync(HttpMethod method, string path, object? body = null, string? token = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token ?? adminToken);
        if (body is not null) request.Content = new StringContent(Json(body), Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        return new Reply(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<Player> NewPlayerAsync(decimal balance, string currency = "EUR")
    {
        var player = new Player("player-" + Guid.NewGuid().ToString("N"), "token-" + Guid.NewGuid().ToString("N"), currency);
        var reply = await AdminAsync(HttpMethod.Put, "/sim/players/" + player.Id, new
        {
            token = player.Token, currency, balance, operator_id = OperatorId, brand_id = BrandId, country = "MT", nickname = "Tester",
        });
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), reply.ToString());
        return player;
    }

    public async Task<List<JsonElement>> LedgerAsync(Player player)
    {
        var reply = await AdminAsync(HttpMethod.Get, "/sim/transactions?player_id=" + Uri.EscapeDataString(player.Id));
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), reply.ToString());
        return [.. reply.Json.EnumerateArray()];
    }

    public async Task ArmFaultAsync(object fault)
    {
        var reply = await AdminAsync(HttpMethod.Put, "/sim/faults", fault);
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), reply.ToString());
    }

    public void Dispose() => http.Dispose();
}
