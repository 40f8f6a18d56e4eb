using System.Net.WebSockets;
using System.Text;

namespace ThrillConnect.IntegrationTests;

/// <summary>
/// What a client sends that the server cannot act on (README "Client → server messages"): an Error naming why, and the
/// connection stays open; only an oversized message (1009) and a flood (4429) close it.
/// </summary>
public class MessageTests
{
    static async Task<Ws> PlayerAsync() => await Ws.PlayerAsync(await Servers.PlayerAsync());

    static async Task<Frame> ErrorAsync(Ws ws) => await ws.NextAsync(f => f.Type == "Error", "an Error");

    static void AssertError(Frame error, string name, string code)
    {
        Assert.That(error.Name, Is.EqualTo(name), error.ToString());
        Assert.That(error.Data.GetProperty("code").GetString(), Is.EqualTo(code), error.ToString());
    }

    [TestCase("not json at all")]
    [TestCase("{\"SubscribeRequest\": ")]
    [TestCase("[{\"SubscribeRequest\": {}}]")]
    [TestCase("42")]
    [TestCase("{}")]
    [TestCase("{\"SubscribeRequest\": {\"events\": []}, \"PlayerOptInRequest\": {}}")]
    public async Task A_message_that_is_not_one_JSON_request_is_an_invalid_message_error_and_the_socket_stays_open(string text)
    {
        await using var ws = await PlayerAsync();
        await ws.SendAsync(text);
        AssertError(await ErrorAsync(ws), "InvalidMessage", "invalid_message");
        await ws.BarrierAsync();
        Assert.That(ws.IsOpen);
    }

    [Test]
    public async Task An_unknown_request_is_an_unknown_message_error_echoing_its_request_id()
    {
        await using var ws = await PlayerAsync();
        await ws.SendAsync("""{"UnsubscribeRequest": {"request_id": "r-17"}}""");
        var error = await ErrorAsync(ws);
        AssertError(error, "InvalidMessage", "unknown_message");
        Assert.That(error.Data.GetProperty("request_id").GetString(), Is.EqualTo("r-17"));
        Assert.That(error.Json.GetProperty("player_id").GetString(), Is.Not.Null, "a reply is addressed to its player");
    }

    [TestCase("""{"PlayerOptInRequest": "opt me in"}""", "PlayerOptInRequest", "invalid_request")]
    [TestCase("""{"PlayerOptInRequest": {"instance_id": 7, "player_id": "p", "brand_id": "cna:a1", "player_country": "MT", "opt_in": true}}""",
        "PlayerOptInRequest", "invalid_request")]
    [TestCase("""{"PlayerOptInRequest": {"instance_id": "01a2358e-c331-7bb6-8dc4-7b2c585a52a1", "player_id": "p", "brand_id": "cna:a1", "opt_in": "yes"}}""",
        "PlayerOptInRequest", "invalid_request")]
    [TestCase("""{"PlayerOptInRequestV2": {"target": "src", "operator_id": "cna", "player": {"id": "p", "brand_id": "a1"}, "opt_in": true}}""",
        "PlayerOptInRequestV2", "invalid_request")]
    [TestCase("""{"PlayerRaffleTicketsRequest": {"player_id": "p", "instance_id": 7, "brand_id": "cna:a1"}}""",
        "PlayerRaffleTicketsRequest", "invalid_request")]
    public async Task A_request_with_wrong_types_is_an_error_named_after_the_request(string text, string name, string code)
    {
        await using var ws = await PlayerAsync();
        await ws.SendAsync(text);
        AssertError(await ErrorAsync(ws), name, code);
        await ws.BarrierAsync();
        Assert.That(ws.IsOpen);
    }

    [Test]
    public async Task A_binary_frame_is_an_invalid_message_error()
    {
        await using var ws = await PlayerAsync();
        await ws.SendAsync(Encoding.UTF8.GetBytes("""{"SubscribeRequest": {"events": [{"source": "thrillpots", "event_type": "*"}]}}"""),
            WebSocketMessageType.Binary);
        var error = await ErrorAsync(ws);
        AssertError(error, "InvalidMessage", "invalid_message");
        Assert.That(error.Data.GetProperty("message").GetString(), Does.Contain("text"));
    }

    /// <summary>An unknown request with a request_id, padded with spaces to exactly <paramref name="bytes"/> bytes.</summary>
    static string Padded(int bytes)
    {
        const string body = """{"Padded": {"request_id": "big"}}""";
        return body[..^1] + new string(' ', bytes - body.Length) + "}";
    }

    [Test]
    public async Task A_message_of_16_KiB_is_read()
    {
        await using var ws = await PlayerAsync();
        await ws.SendAsync(Padded(16 * 1024));
        var error = await ErrorAsync(ws);
        AssertError(error, "InvalidMessage", "unknown_message");
        Assert.That(error.Data.GetProperty("request_id").GetString(), Is.EqualTo("big"));
    }

    [Test]
    public async Task A_message_over_16_KiB_closes_the_socket_1009()
    {
        await using var ws = await PlayerAsync();
        await ws.SendAsync(Padded(16 * 1024 + 1));
        Assert.That(await ws.ClosedAsync(), Is.EqualTo((1009, "message too big: at most 16384 bytes")));
        Assert.That(ws.Read.Where(f => f.Type == "Error"), Is.Empty, "no answer to the oversized message");
    }

    [Test]
    public async Task Past_20_messages_a_second_a_message_is_answered_rate_limited_and_not_acted_on()
    {
        await using var ws = await PlayerAsync();
        // 40 at once: at least one second-long window gets more than 20 (unless the window turns exactly at the 20th), none more than 40.
        for (var i = 0; i < 40; i++) await ws.SendJsonAsync(new Dictionary<string, object> { ["Ping"] = new { request_id = $"m{i}" } });
        var answers = await ws.CountAsync(f => f.Type == "Error", 40, "an answer to each message");
        var limited = answers.Where(f => f.Name == "RateLimited").ToList();
        Assert.That(limited, Is.Not.Empty);
        Assert.That(limited.Select(f => f.Data.GetProperty("code").GetString()), Is.All.EqualTo("rate_limited"));
        Assert.That(answers.Count(f => f.Name == "InvalidMessage"), Is.EqualTo(40 - limited.Count), "the others were acted on");
        Assert.That(answers.Take(20).Select(f => f.Name), Is.All.EqualTo("InvalidMessage"), "the first 20 are within the allowance");
        Assert.That(ws.IsOpen);
    }

    [Test]
    public async Task A_flood_of_more_than_40_messages_a_second_closes_the_socket_4429()
    {
        await using var ws = await PlayerAsync();
        try
        {
            // 100 at once: whichever way the windows fall, one gets more than 40.
            for (var i = 0; i < 100; i++) await ws.SendJsonAsync(new Dictionary<string, object> { ["Ping"] = new { request_id = $"m{i}" } });
        }
        catch (WebSocketException) { }  // the server may close before the last is sent
        Assert.That(await ws.ClosedAsync(), Is.EqualTo((4429, "429 more than 40 messages a second")));
        Assert.That(ws.Read.Count(f => f.Name == "RateLimited"), Is.GreaterThan(0), "rate limited before closed");
    }
}
