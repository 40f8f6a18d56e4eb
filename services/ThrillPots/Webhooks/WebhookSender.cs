using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Contributions;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Secrets;

namespace ThrillPots.Webhooks;

public sealed class WebhookOptions
{
    /// <summary>Base64 of 32 random bytes: encrypts operators' webhook secrets at rest. Without it webhooks cannot be configured.</summary>
    public string? EncryptionKey { get; set; }
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Attempts before a delivery is parked as failed (visible and retryable through the admin API).</summary>
    public int MaxAttempts { get; set; } = 12;
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Delivers queued webhook events to operators (POST, JSON). Each request carries <c>X-ThrillSuite-Event-Id</c> (the
/// receiver's idempotency key: a delivery may arrive more than once), <c>X-ThrillSuite-Timestamp</c> (Unix seconds) and
/// <c>X-ThrillSuite-Signature: sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))</c>. A 2xx answer delivers it;
/// anything else is retried with exponential backoff and jitter up to <see cref="WebhookOptions.MaxAttempts"/>, then
/// parked as failed. A delivery is leased while in flight, so replicas never send the same one at the same time and a
/// crashed sender's lease simply runs out.
/// </summary>
public sealed class WebhookSender(NpgsqlDataSource db, IHttpClientFactory httpFactory, IOptions<WebhookOptions> options, ILogger<WebhookSender> logger)
    : PollingService(logger)
{
    public const string EventIdHeader = "X-ThrillSuite-Event-Id", TimestampHeader = "X-ThrillSuite-Timestamp", SignatureHeader = "X-ThrillSuite-Signature";
    const int Batch = 50;
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    protected override int RoundSize => Batch;

    /// <summary>One result of an asynchronous request as a webhook event, in the caller's transaction.</summary>
    public Task QueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid requestId, AsyncContributions.Stored request, ContributionResult result,
        CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var payload = new
        {
            event_type = "ContributionResult",
            event_id = id,
            request_id = requestId,
            timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            success = result.Succeeded,
            data = result,
            // Echoed on errors as on results (spec §13.4: async errors carry the request's metadata).
            request = new
            {
                target = new { type = request.Kind.ToString().ToLowerInvariant(), id = request.TargetId },
                brand_id = request.BrandId, player_id = request.PlayerId, gameround_id = request.GameroundId, currency = request.Currency,
                base_wager = request.BaseWager, metadata = request.Metadata,
            },
        };
        return conn.ExecuteAsync(new CommandDefinition("""
            insert into webhook_deliveries (id, request_id, operator_id, payload)
            values (@id, @requestId, @operatorId, cast(@payload as jsonb))
            """, new
        {
            id, requestId, operatorId = request.BrandId[..request.BrandId.IndexOf(':')],
            payload = JsonSerializer.Serialize(payload, ContributionEndpoints.Json),
        }, tx, cancellationToken: ct));
    }

    sealed record Due(Guid Id, string OperatorId, string Payload, int Attempts, string? Url, byte[]? Secret);

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        List<Due> due;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            due = (await conn.QueryAsync<Due>(new CommandDefinition("""
                update webhook_deliveries d set next_attempt_at = now() + @Lease
                from (select id from webhook_deliveries where state = 'pending' and next_attempt_at <= now()
                      order by next_attempt_at limit @Batch for update skip locked) due, operators o
                where d.id = due.id and o.id = d.operator_id
                returning d.id as Id, d.operator_id as OperatorId, d.payload::text as Payload, d.attempts as Attempts,
                          o.webhook_url as Url, o.webhook_secret as Secret
                """, new { Lease, Batch }, cancellationToken: ct))).ToList();
        }
        await Task.WhenAll(due.Select(d => SendAsync(d, ct)));
        return due.Count;
    }

    async Task SendAsync(Due d, CancellationToken ct)
    {
        int? status = null;
        string? error = null;
        if (d.Url is null || d.Secret is null || options.Value.EncryptionKey is not { } key)
            error = "The operator has no webhook configured.";
        else
        {
            try
            {
                var secret = SecretBox.FromBase64(key).Open(d.Secret);
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
                var body = Encoding.UTF8.GetBytes(d.Payload);
                using var request = new HttpRequestMessage(HttpMethod.Post, d.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Add(EventIdHeader, d.Id.ToString());
                request.Headers.Add(TimestampHeader, timestamp);
                request.Headers.Add(SignatureHeader, "sha256=" + Sign(secret, timestamp, body));
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(options.Value.Timeout);
                using var response = await httpFactory.CreateClient("webhooks").SendAsync(request, timeout.Token);
                status = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode) error = $"HTTP {status}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or CryptographicException)
            {
                if (ct.IsCancellationRequested) return; // the lease runs out and another attempt follows
                error = ex is TaskCanceledException ? $"No answer within {options.Value.Timeout.TotalSeconds:0} s." : ex.Message;
            }
        }
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        if (error is null)
        {
            await conn.ExecuteAsync("""
                update webhook_deliveries set state = 'delivered', attempts = attempts + 1, last_status = @status, last_error = null, delivered_at = now()
                where id = @Id
                """, new { d.Id, status });
            return;
        }
        var attempts = d.Attempts + 1;
        var backoff = TimeSpan.FromMilliseconds(Math.Min(options.Value.MaxBackoff.TotalMilliseconds,
            1000 * Math.Pow(2, attempts - 1) * (0.8 + Random.Shared.NextDouble() * 0.4)));
        var failed = attempts >= options.Value.MaxAttempts;
        await conn.ExecuteAsync("""
            update webhook_deliveries set attempts = @attempts, last_status = @status, last_error = @error,
                state = case when @failed then 'failed' else 'pending' end, next_attempt_at = now() + @backoff
            where id = @Id
            """, new { d.Id, attempts, status, error, failed, backoff });
        if (failed) logger.LogWarning("Webhook delivery {DeliveryId} to operator {OperatorId} failed {Attempts} times ({Error}); parked",
            d.Id, d.OperatorId, attempts, error);
        Activity.Current?.SetTag("thrillpots.webhook.error", error);
    }

    public static string Sign(byte[] secret, string timestamp, byte[] body)
    {
        using var hmac = new HMACSHA256(secret);
        hmac.TransformBlock(Encoding.UTF8.GetBytes(timestamp + "."), 0, timestamp.Length + 1, null, 0);
        hmac.TransformFinalBlock(body, 0, body.Length);
        return Convert.ToHexStringLower(hmac.Hash!);
    }
}
