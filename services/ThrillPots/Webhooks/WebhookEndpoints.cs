using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillPots.Admin;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;
using ThrillSuite.ServiceDefaults.Secrets;

namespace ThrillPots.Webhooks;

/// <summary>
/// An operator's webhook for asynchronous contribution results (spec §13.4 leaves its configuration open): URL and signing
/// secret (write-only, encrypted at rest), plus the deliveries, so an operator can see what failed and have it sent again.
/// </summary>
public static class WebhookEndpoints
{
    public const int MinSecretLength = 16;

    public sealed record WebhookBody(string? Url, string? Secret);
    public sealed record WebhookDoc(string OperatorId, string? Url, bool SecretSet);
    public sealed record DeliveryDoc(Guid Id, Guid RequestId, string State, int Attempts, int? LastStatus, string? LastError,
        long CreatedTimestamp, long? DeliveredTimestamp, long NextAttemptTimestamp);

    public static void MapWebhookEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/config/operators/{operatorId}/webhook").WithTags("Config: operators");
        g.MapGet("", GetAsync).RequirePermission(Access.System, "operators", write: false);
        g.MapPut("", PutAsync).RequirePermission(Access.System, "operators", write: true);
        g.MapDelete("", DeleteAsync).RequirePermission(Access.System, "operators", write: true);
        g.MapGet("/deliveries", DeliveriesAsync).RequirePermission(Access.System, "operators", write: false);
        g.MapPost("/deliveries/{deliveryId:guid}/retry", RetryAsync).RequirePermission(Access.System, "operators", write: true);
    }

    static async Task<IResult> GetAsync(string operatorId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!http.MayActFor(operatorId)) return TokenValidation.Forbidden($"The caller may not act for operator '{operatorId}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        var doc = await LoadAsync(c, null, operatorId, ct);
        return doc is null ? Problems.NotFound($"No operator '{operatorId}'.") : Results.Ok(doc);
    }

    static async Task<IResult> PutAsync(string operatorId, HttpContext http, NpgsqlDataSource db, IOptions<WebhookOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<WebhookBody>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!Uri.TryCreate(body!.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || body.Url!.Length > 2000)
            errors["url"] = ["Required: an absolute http(s) URL."];
        if (body.Secret is not { Length: >= MinSecretLength and <= 512 }) errors["secret"] = [$"Required: {MinSecretLength}-512 characters."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!http.MayActFor(operatorId)) return TokenValidation.Forbidden($"The caller may not act for operator '{operatorId}'.");
        if (options.Value.EncryptionKey is not { } key)
            return Problems.Conflict("Webhooks are not available: this deployment has no Webhooks:EncryptionKey to keep their secrets with.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, operatorId, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No operator '{operatorId}'.");
        await c.ExecuteAsync(new CommandDefinition("update operators set webhook_url = @url, webhook_secret = @secret where id = @operatorId",
            new { operatorId, url = body.Url, secret = SecretBox.FromBase64(key).Seal(Encoding.UTF8.GetBytes(body.Secret!)) }, tx, cancellationToken: ct));
        var after = (await LoadAsync(c, tx, operatorId, ct))!;
        // The audit records that the secret changed, never the secret.
        await Audit.WriteAsync(c, tx, http.User, "operator.webhook", "operator", operatorId, operatorId, before, after, ct);
        await tx.CommitAsync(ct);
        return Results.Ok(after);
    }

    static async Task<IResult> DeleteAsync(string operatorId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!http.MayActFor(operatorId)) return TokenValidation.Forbidden($"The caller may not act for operator '{operatorId}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await LoadAsync(c, tx, operatorId, ct, forUpdate: true);
        if (before is null) return Problems.NotFound($"No operator '{operatorId}'.");
        await c.ExecuteAsync(new CommandDefinition("update operators set webhook_url = null, webhook_secret = null where id = @operatorId",
            new { operatorId }, tx, cancellationToken: ct));
        var after = (await LoadAsync(c, tx, operatorId, ct))!;
        await Audit.WriteAsync(c, tx, http.User, "operator.webhook.delete", "operator", operatorId, operatorId, before, after, ct);
        await tx.CommitAsync(ct);
        return Results.Ok(after);
    }

    static async Task<IResult> DeliveriesAsync(string operatorId, string? state, Guid? request_id, HttpContext http, NpgsqlDataSource db,
        CancellationToken ct)
    {
        if (state is not (null or "pending" or "delivered" or "failed")) return Problems.BadRequest("state", "One of pending, delivered, failed.");
        if (!http.MayActFor(operatorId)) return TokenValidation.Forbidden($"The caller may not act for operator '{operatorId}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<(Guid Id, Guid RequestId, string State, int Attempts, int? LastStatus, string? LastError, DateTime CreatedAt,
            DateTime? DeliveredAt, DateTime NextAttemptAt)>(new CommandDefinition("""
            select id, request_id, state, attempts, last_status, last_error, created_at, delivered_at, next_attempt_at
            from webhook_deliveries
            where operator_id = @operatorId and (@state::text is null or state = @state) and (@request_id::uuid is null or request_id = @request_id)
            order by created_at desc limit 500
            """, new { operatorId, state, request_id }, cancellationToken: ct));
        return Results.Ok(rows.Select(r => new DeliveryDoc(r.Id, r.RequestId, r.State, r.Attempts, r.LastStatus, r.LastError, Time.Ms(r.CreatedAt),
            Time.Ms(r.DeliveredAt), Time.Ms(r.NextAttemptAt))).ToList());
    }

    /// <summary>A failed (parked) delivery goes back to the queue with a fresh set of attempts.</summary>
    static async Task<IResult> RetryAsync(string operatorId, Guid deliveryId, HttpContext http, NpgsqlDataSource db, WebhookSender sender,
        CancellationToken ct)
    {
        if (!http.MayActFor(operatorId)) return TokenValidation.Forbidden($"The caller may not act for operator '{operatorId}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var state = await c.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select state from webhook_deliveries where id = @deliveryId and operator_id = @operatorId for update", new { deliveryId, operatorId }, tx,
            cancellationToken: ct));
        if (state is null) return Problems.NotFound($"No delivery {deliveryId} for operator '{operatorId}'.");
        if (state != "failed") return Problems.Conflict($"Delivery {deliveryId} is {state}; only failed deliveries are retried by hand.");
        await c.ExecuteAsync(new CommandDefinition(
            "update webhook_deliveries set state = 'pending', attempts = 0, next_attempt_at = now() where id = @deliveryId",
            new { deliveryId }, tx, cancellationToken: ct));
        await Audit.WriteAsync(c, tx, http.User, "webhook.retry", "webhook_delivery", deliveryId.ToString(), operatorId, new { state }, new { state = "pending" }, ct);
        await tx.CommitAsync(ct);
        sender.Wake();
        return Results.Ok(new { id = deliveryId, state = "pending" });
    }

    static async Task<WebhookDoc?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string operatorId, CancellationToken ct, bool forUpdate = false)
    {
        var row = await c.QuerySingleOrDefaultAsync<(string Id, string? Url, bool SecretSet)>(new CommandDefinition(
            "select id, webhook_url, webhook_secret is not null from operators where id = @operatorId" + (forUpdate ? " for update" : ""),
            new { operatorId }, tx, cancellationToken: ct));
        return row.Id is null ? null : new WebhookDoc(row.Id, row.Url, row.SecretSet);
    }
}
