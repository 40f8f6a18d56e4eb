using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Mail;
using System.Security.Cryptography;
using System.Text;
using BitBridge.Dispatchers;
using RabbitMQ.Client;

namespace BitBridge.Deliveries;

/// <summary>A rendered message for one delivery. <see cref="Body"/> is the whole payload for Webhook and Amqp, the text otherwise.</summary>
public sealed record Outgoing(Guid DeliveryId, Guid EventId, string EventType, string? To, string? Subject, string Body, bool BodyIsJson);

/// <summary>
/// A failed attempt. Permanent: retrying cannot help (refused by the peer, bad settings, no template) → dead at once.
/// <see cref="RetryAfter"/>: the peer asked to wait (Telegram's 429 <c>retry_after</c>) → the dispatcher pauses, no attempt counted.
/// </summary>
public sealed class DeliveryFailure(string message, bool permanent = false, TimeSpan? retryAfter = null, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

public interface ISender
{
    Task SendAsync(Dispatcher dispatcher, Outgoing message, CancellationToken ct);
}

/// <summary>
/// POST of the body with <c>X-BitBridge-Signature</c> = hex HMAC-SHA256(secret, "{timestamp}.{body}") and
/// <c>X-BitBridge-Timestamp</c> (Unix seconds) so receivers can refuse replays, and <c>X-BitBridge-Delivery</c> (also as
/// <c>Idempotency-Key</c>): the same on every attempt, so a receiver can drop the copy a crash between send and mark-sent resends.
/// 2xx is delivered; 408, 429 and 5xx are retried; any other status is permanent.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory http) : ISender
{
    public const string SignatureHeader = "X-BitBridge-Signature", TimestampHeader = "X-BitBridge-Timestamp", DeliveryHeader = "X-BitBridge-Delivery";

    public static string Sign(string secret, string timestamp, byte[] body)
    {
        var signed = Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray();
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    public async Task SendAsync(Dispatcher d, Outgoing m, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(m.Body);
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, d.Definition.Config.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(m.BodyIsJson ? "application/json" : "text/plain") { CharSet = "utf-8" };
        request.Headers.Add(SignatureHeader, Sign(d.Secrets.Secret!, timestamp, body));
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(DeliveryHeader, m.DeliveryId.ToString());
        request.Headers.Add("Idempotency-Key", m.DeliveryId.ToString());
        request.Headers.Add("X-BitBridge-Event", m.EventType);
        using var response = await Send(http, request, ct);
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        throw new DeliveryFailure($"The webhook answered {status}.", permanent: status is >= 400 and < 500 and not (408 or 429),
            retryAfter: status == 429 ? response.Headers.RetryAfter?.Delta : null);
    }

    internal static async Task<HttpResponseMessage> Send(IHttpClientFactory http, HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await http.CreateClient("dispatch").SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new DeliveryFailure($"{request.RequestUri!.GetLeftPart(UriPartial.Authority)} unreachable: {ex.Message}", inner: ex);
        }
    }
}

/// <summary>
/// Bot API <c>sendMessage</c> (plain text, no parse mode, so nothing in an event can break the markup) to the configured chat.
/// A 429 pauses the whole dispatcher for <c>parameters.retry_after</c>; 400/401/403/404 (bad chat or token) are permanent.
/// </summary>
public sealed class TelegramSender(IHttpClientFactory http) : ISender
{
    public async Task SendAsync(Dispatcher d, Outgoing m, CancellationToken ct)
    {
        var c = d.Definition.Config;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{c.BaseUrl}/bot{d.Secrets.Token}/sendMessage")
        {
            Content = JsonContent.Create(new { chat_id = c.ChatId, text = m.Body }),
        };
        using var response = await WebhookSender.Send(http, request, ct);
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        string? description = null;
        TimeSpan? retryAfter = null;
        try
        {
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            description = answer.TryGetProperty("description", out var text) ? text.GetString() : null;
            if (answer.TryGetProperty("parameters", out var p) && p.TryGetProperty("retry_after", out var after) && after.TryGetInt32(out var seconds))
                retryAfter = TimeSpan.FromSeconds(seconds);
        }
        catch (JsonException) { }
        if (status == 429) retryAfter ??= response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
        throw new DeliveryFailure($"Telegram answered {status}{(description is null ? "" : ": " + description)}.",
            permanent: status is 400 or 401 or 403 or 404, retryAfter: retryAfter);
    }
}

/// <summary>
/// Plain-text mail through System.Net.Mail.SmtpClient: no TLS or STARTTLS (SmtpClient cannot do implicit TLS), AUTH when a
/// user is configured and the server offers it. 5xx replies are permanent; connection failures and 4xx are retried.
/// </summary>
public sealed class SmtpSender : ISender
{
    public async Task SendAsync(Dispatcher d, Outgoing m, CancellationToken ct)
    {
        var c = d.Definition.Config;
        using var client = new SmtpClient(c.Host!, c.Port!.Value)
        {
            EnableSsl = c.Tls == "starttls",
            DeliveryMethod = SmtpDeliveryMethod.Network,
            Credentials = c.User is null ? null : new NetworkCredential(c.User, d.Secrets.Pass),
        };
        using var mail = new MailMessage { From = new MailAddress(c.From!), Subject = m.Subject, Body = m.Body, BodyEncoding = Encoding.UTF8,
            SubjectEncoding = Encoding.UTF8 };
        try
        {
            foreach (var to in m.To!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) mail.To.Add(to);
        }
        catch (FormatException ex)
        {
            throw new DeliveryFailure($"Not a mail address: '{m.To}'.", permanent: true, inner: ex);
        }
        mail.Headers.Add("X-BitBridge-Delivery", m.DeliveryId.ToString());
        mail.Headers.Add("X-BitBridge-Event", m.EventType);
        try
        {
            await client.SendMailAsync(mail, ct);
        }
        catch (SmtpException ex)
        {
            throw new DeliveryFailure($"SMTP {c.Host}:{c.Port}: {ex.Message}", permanent: (int)ex.StatusCode >= 500, inner: ex);
        }
    }
}

/// <summary>
/// Publishes to an exchange on the operator's broker with publisher confirms (persistent, MessageId = delivery id, the event
/// type as routing key unless one is configured). One connection per dispatcher version, reopened after a failure.
/// </summary>
public sealed class AmqpSender : ISender, IAsyncDisposable
{
    readonly ConcurrentDictionary<(string Id, int Version), Lazy<Task<IConnection>>> connections = new();

    public async Task SendAsync(Dispatcher d, Outgoing m, CancellationToken ct)
    {
        var key = (d.Definition.Id, d.Version);
        var c = d.Definition.Config;
        try
        {
            var connection = await connections.GetOrAdd(key, _ => new Lazy<Task<IConnection>>(() => ConnectAsync(d))).Value;
            await using var channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
            var properties = new BasicProperties
            {
                MessageId = m.DeliveryId.ToString(), ContentType = m.BodyIsJson ? "application/json" : "text/plain", Persistent = true,
                Type = m.EventType, Headers = new Dictionary<string, object?> { ["x-bitbridge-event-id"] = m.EventId.ToString() },
            };
            await channel.BasicPublishAsync(c.Exchange!, c.RoutingKey ?? m.EventType, mandatory: false, properties, Encoding.UTF8.GetBytes(m.Body), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (connections.TryRemove(key, out var stale) && stale.IsValueCreated && stale.Value.IsCompletedSuccessfully)
                await stale.Value.Result.DisposeAsync();
            throw new DeliveryFailure($"AMQP {new Uri(c.Uri!).Host}, exchange '{c.Exchange}': {ex.Message}", inner: ex);
        }
    }

    static Task<IConnection> ConnectAsync(Dispatcher d)
    {
        var uri = new UriBuilder(d.Definition.Config.Uri!) { Password = Uri.EscapeDataString(d.Secrets.Password ?? "") }.Uri;
        return new ConnectionFactory { Uri = uri, ClientProvidedName = "bitbridge:" + d.Definition.Id }.CreateConnectionAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in connections.Values.Where(c => c.IsValueCreated && c.Value.IsCompletedSuccessfully))
            await c.Value.Result.DisposeAsync();
    }
}
