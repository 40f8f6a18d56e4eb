using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Webhooks;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Contributions;

/// <summary>
/// The asynchronous forms (spec §13.4, §14.2): the request is validated and owner-checked at once (400/403 as the
/// synchronous form), stored, and answered 202; a worker applies it exactly like the synchronous path and queues one webhook
/// event per result (v2: per instance) for the operator's configured webhook. Nothing accepted is lost: the request is
/// durable before the 202, and re-applying it after a crash is idempotent by its key.
/// </summary>
public static class AsyncContributions
{
    public sealed record Accepted(Guid RequestId, string Status, long Timestamp);

    /// <summary>The request as stored: the token is kept only until the request is applied.</summary>
    public sealed record Stored(TargetKind Kind, string TargetId, string BrandId, string PlayerId, string GameroundId, string? PlayerCountry,
        string Currency, decimal BaseWager, string? SourceId, string? Token, JsonElement? Metadata, bool Propagate = false)
    {
        public static Stored From(ContributionRequest r)
        {
            var c = r.Contribution;
            return new(r.Kind, r.TargetId, c.BrandId, c.PlayerId, c.GameroundId, c.PlayerCountry, c.Currency, c.BaseWager, c.SourceId, c.Token,
                c.MetadataJson is null ? null : JsonDocument.Parse(c.MetadataJson).RootElement.Clone(), r.Propagate);
        }

        public ContributionRequest ToRequest() => new(Kind, TargetId, new Contribution(BrandId, PlayerId, GameroundId, PlayerCountry, Currency,
            BaseWager, SourceId, Token, Metadata is { } m ? JsonSerializer.Serialize(m) : null), Propagate);
    }

    public static void MapAsyncContributionEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("").WithTags("Contributions").RequirePermission(Access.System, ContributionEndpoints.Resource, write: true);
        g.MapPost("/jackpots/contribute/source/async", (HttpContext http, NpgsqlDataSource db, AsyncContributionWorker worker, CancellationToken ct) =>
            AcceptAsync(http, db, worker, "source", async () => Validated(await JsonBody.ReadAsync<ContributeV1>(http.Request), b => ContributionRules.Validate(b, TargetKind.Source)), ct));
        g.MapPost("/jackpots/contribute/instance/async", (HttpContext http, NpgsqlDataSource db, AsyncContributionWorker worker, CancellationToken ct) =>
            AcceptAsync(http, db, worker, "instance", async () => Validated(await JsonBody.ReadAsync<ContributeV1>(http.Request), b => ContributionRules.Validate(b, TargetKind.Instance)), ct));
        g.MapPost("/v2/jackpots/contribute/async", (HttpContext http, NpgsqlDataSource db, AsyncContributionWorker worker, CancellationToken ct) =>
            AcceptAsync(http, db, worker, "v2", async () => Validated(await JsonBody.ReadAsync<ContributeV2>(http.Request), b => ContributionRules.Validate(b)), ct));
    }

    static (ContributionRequest?, IResult?) Validated<T>((T? Body, IResult? Error) read, Func<T, (ContributionRequest?, Dictionary<string, string[]>)> validate)
        where T : class
    {
        if (read.Error is not null) return (null, read.Error);
        var (request, errors) = validate(read.Body!);
        return request is null ? (null, Problems.BadRequest(errors)) : (request, null);
    }

    static async Task<IResult> AcceptAsync(HttpContext http, NpgsqlDataSource db, AsyncContributionWorker worker, string kind, Func<Task<(ContributionRequest?, IResult?)>> read,
        CancellationToken ct)
    {
        var (request, error) = await read();
        if (error is not null) return error;
        var c = request!.Contribution;
        if (!http.MayActFor(c.BrandId)) return TokenValidation.Forbidden($"The caller may not contribute for brand '{c.BrandId}'.");
        await using var conn = await db.OpenConnectionAsync(ct);
        // Results would have nowhere to go: refuse now rather than accept work nobody can be told about.
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select webhook_url is not null from operators where id = @OperatorId", new { c.OperatorId }, cancellationToken: ct)))
            return Problems.Conflict($"Operator '{c.OperatorId}' has no webhook configured (PUT /config/operators/{c.OperatorId}/webhook); " +
                "use the synchronous endpoint or configure one.");
        var id = Guid.CreateVersion7();
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into async_requests (id, operator_id, kind, request) values (@id, @OperatorId, @kind, cast(@request as jsonb))
            """, new { id, c.OperatorId, kind, request = JsonSerializer.Serialize(Stored.From(request), Audit.Json) }, cancellationToken: ct));
        worker.Wake();
        return Results.Json(new Accepted(id, "accepted", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), ContributionEndpoints.Json,
            statusCode: StatusCodes.Status202Accepted);
    }
}

/// <summary>
/// Applies stored asynchronous requests (several at once, so they share the writers' batches) and queues their results as
/// webhook deliveries in the transaction that marks them done. A request whose instance was unavailable is retried later.
/// </summary>
public sealed class AsyncContributionWorker(NpgsqlDataSource db, ContributionService service, WebhookSender sender, ILogger<AsyncContributionWorker> logger)
    : PollingService(logger)
{
    const int Batch = 200;
    protected override int RoundSize => Batch;

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var rows = (await conn.QueryAsync<(Guid Id, string Request)>(new CommandDefinition("""
            select id, request::text from async_requests where state = 'pending' and next_attempt_at <= now()
            order by next_attempt_at limit @Batch for update skip locked
            """, new { Batch }, tx, cancellationToken: ct))).ToList();
        if (rows.Count == 0) return 0;
        var outcomes = await Task.WhenAll(rows.Select(async row =>
        {
            var stored = JsonSerializer.Deserialize<AsyncContributions.Stored>(row.Request, Audit.Json)!;
            // The owner was checked when the request was accepted.
            var results = await service.ContributeAsync(stored.ToRequest(), _ => true, ct);
            return (row.Id, stored, results);
        }));
        var delivered = 0;
        foreach (var (id, stored, results) in outcomes)
        {
            if (results.Any(r => r.Outcome == Outcomes.Unavailable))
            {
                await conn.ExecuteAsync(new CommandDefinition("""
                    update async_requests set attempts = attempts + 1, last_error = @error,
                        next_attempt_at = now() + least(interval '1 second' * power(2, attempts), interval '5 minutes')
                    where id = @id
                    """, new { id, error = results.First(r => r.Outcome == Outcomes.Unavailable).Detail }, tx, cancellationToken: ct));
                continue;
            }
            foreach (var result in results) await sender.QueueAsync(conn, tx, id, stored, result, ct);
            await conn.ExecuteAsync(new CommandDefinition("""
                update async_requests set state = 'done', attempts = attempts + 1, completed_at = now(), request = request - 'token'
                where id = @id
                """, new { id }, tx, cancellationToken: ct));
            delivered++;
        }
        await tx.CommitAsync(ct);
        if (delivered > 0) sender.Wake();
        return rows.Count;
    }
}

