using System.Security.Cryptography;

namespace BitBridge.IntegrationTests;

/// <summary>Dispatchers and templates the tests need, created through the admin API as an operator would.</summary>
public static class Setup
{
    static int next;

    public static string NewId(string prefix) => $"{prefix}-{Interlocked.Increment(ref next)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    public static string NewSecret() => "hook-secret-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>A webhook dispatcher to the peer of the same name (its id); answers the dispatcher's id.</summary>
    public static async Task<string> WebhookAsync(string? brand, string[] events, int priority = 0, string? op = Servers.Operator, string? token = null)
    {
        var id = NewId("hook");
        var body = new JsonObject
        {
            ["id"] = id, ["dispatcher_type"] = "Webhook", ["operator_id"] = op, ["brand_id"] = brand,
            ["event_types"] = new JsonArray([.. events.Select(e => (JsonNode)e)]), ["priority"] = priority,
            ["config"] = new JsonObject { ["url"] = Servers.Peers.Hook(id, Secret(id)), ["secret"] = Secret(id) },
        };
        (await Servers.Bridge.PostAsync("/admin/dispatchers", token ?? Servers.OperatorA, body)).Expect(HttpStatusCode.Created);
        return id;
    }

    static readonly Dictionary<string, string> Secrets = [];

    /// <summary>The secret a webhook dispatcher was created with (one per id).</summary>
    public static string Secret(string id)
    {
        lock (Secrets)
        {
            if (!Secrets.TryGetValue(id, out var s)) Secrets[id] = s = NewSecret();
            return s;
        }
    }

    public static async Task<string> TelegramAsync(string brand, string[] events, string botToken, string chatId = "-100200300")
    {
        var id = NewId("tg");
        (await Servers.Bridge.PostAsync("/admin/dispatchers", Servers.OperatorA, new
        {
            id, dispatcher_type = "Telegram", operator_id = Servers.Operator, brand_id = brand, event_types = events,
            config = new { token = botToken, chat_id = chatId, base_url = Servers.Peers.BaseUrl },
        })).Expect(HttpStatusCode.Created);
        return id;
    }

    public static async Task<string> TemplateAsync(string dispatcherType, string eventType, string body, string? brand = null, string? subject = null,
        string op = Servers.Operator, string? token = null)
    {
        var id = NewId("tpl");
        (await Servers.Bridge.PostAsync("/admin/templates", token ?? Servers.OperatorA, new
        {
            id, operator_id = op, brand_id = brand, dispatcher_type = dispatcherType, event_type = eventType, subject, body,
        })).Expect(HttpStatusCode.Created);
        return id;
    }

    /// <summary>The deliveries of one event, as the admin API lists them.</summary>
    public static async Task<JsonElement[]> DeliveriesAsync(Guid eventId, string? token = null) =>
        [.. (await Servers.Bridge.GetAsync($"/admin/deliveries?event_id={eventId}", token ?? Servers.OperatorA)).Expect(HttpStatusCode.OK).Json.EnumerateArray()];

    /// <summary>Waits until the event's delivery to the dispatcher has the status, and answers it.</summary>
    public static async Task<JsonElement> WaitDeliveryAsync(Guid eventId, string dispatcherId, string status, string? token = null, int seconds = 30)
    {
        JsonElement found = default;
        await Eventually.TrueAsync(async () =>
        {
            found = (await DeliveriesAsync(eventId, token)).FirstOrDefault(d =>
                d.GetProperty("dispatcher_id").GetString() == dispatcherId && d.GetProperty("status").GetString() == status);
            return found.ValueKind == JsonValueKind.Object;
        }, TimeSpan.FromSeconds(seconds), $"the delivery of {eventId} to {dispatcherId} to be {status}");
        return found;
    }
}
