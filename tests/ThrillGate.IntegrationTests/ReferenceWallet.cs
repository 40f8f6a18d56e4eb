using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace ThrillGate.IntegrationTests;

public sealed record Player(string Id, string Token, string Brand, string Currency = "EUR");

/// <summary>An armed fault as the wallet lists it: what is left of it tells how many calls of the operation arrived.</summary>
public sealed record Fault(string Operation, string Mode, int HttpStatus, string Code, int DelayMs, int Remaining);

/// <summary>An entry of the wallet's ledger: applied, cancelled, or a tombstone left by a cancel of a transaction it never saw.</summary>
public sealed record Entry(string TransactionId, string? TransactionType, decimal? Amount, string Status);

/// <summary>The reference wallet's simulation controls (/sim): the operator's side, which ThrillGate never sees.</summary>
public sealed class ReferenceWallet(HttpClient http, string adminToken) : IDisposable
{
    async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(expected), text);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A player of <paramref name="brand"/> (under gta) with the balance.</summary>
    public async Task<Player> NewPlayerAsync(string brand, decimal balance)
    {
        var player = new Player("player-" + Guid.NewGuid().ToString("N")[..12], "ptoken-" + Guid.NewGuid().ToString("N"), brand);
        await SendAsync(HttpMethod.Put, "/sim/players/" + player.Id, new
        {
            token = player.Token, currency = player.Currency, balance, operator_id = Servers.Operator, brand_id = brand, country = "MT", nickname = "Tester",
        });
        return player;
    }

    public async Task<decimal> BalanceAsync(Player player) =>
        (await SendAsync(HttpMethod.Get, "/sim/players/" + player.Id)).GetProperty("balance").GetDecimal();

    public async Task<List<Entry>> LedgerAsync(Player player) =>
        [.. (await SendAsync(HttpMethod.Get, "/sim/transactions?player_id=" + Uri.EscapeDataString(player.Id))).EnumerateArray().Select(Read)];

    /// <summary>The ledger row of one transaction id (tombstones have no player until a cancel names one), or null.</summary>
    public async Task<Entry?> EntryAsync(string transactionId) =>
        (await SendAsync(HttpMethod.Get, "/sim/transactions")).EnumerateArray().Select(Read).SingleOrDefault(e => e.TransactionId == transactionId);

    static Entry Read(JsonElement e) => new(e.GetProperty("transaction_id").GetString()!,
        e.GetProperty("transaction_type").ValueKind == JsonValueKind.String ? e.GetProperty("transaction_type").GetString() : null,
        e.GetProperty("amount").ValueKind == JsonValueKind.Number ? e.GetProperty("amount").GetDecimal() : null,
        e.GetProperty("status").GetString()!);

    /// <summary>Fails the next <paramref name="remaining"/> calls of the operation with the status and code.</summary>
    public Task ArmErrorAsync(string operation, int status, string code, int remaining) =>
        SendAsync(HttpMethod.Put, "/sim/faults", new { operation, mode = "http_error", http_status = status, code, remaining });

    /// <summary>Holds the next calls of the operation for <paramref name="delayMs"/>; each still completes after its caller gave up.</summary>
    public Task ArmDelayAsync(string operation, int delayMs, int remaining) =>
        SendAsync(HttpMethod.Put, "/sim/faults", new { operation, mode = "delay", delay_ms = delayMs, remaining });

    public async Task<List<Fault>> FaultsAsync() =>
        JsonSerializer.Deserialize<List<Fault>>((await SendAsync(HttpMethod.Get, "/sim/faults")).GetRawText(), Snake)!;

    /// <summary>How many calls the armed fault of <paramref name="operation"/> still awaits; 0 once it is used up.</summary>
    public async Task<int> RemainingAsync(string operation) => (await FaultsAsync()).SingleOrDefault(f => f.Operation == operation)?.Remaining ?? 0;

    public Task ClearFaultsAsync() => SendAsync(HttpMethod.Delete, "/sim/faults", expected: HttpStatusCode.NoContent);

    static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static decimal Parse(string amount) => decimal.Parse(amount, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    public void Dispose() => http.Dispose();
}
