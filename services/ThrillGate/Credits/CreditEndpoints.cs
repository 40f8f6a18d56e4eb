using Dapper;
using Npgsql;
using ThrillGate.Wallets;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillGate.Credits;

/// <summary>What ThrillGate owes players: credits by state, and a hand re-drive of a failed (parked) one.</summary>
public static class CreditEndpoints
{
    public sealed record CreditDoc(Guid WinId, string TransactionId, Guid InstanceId, string PotId, string OperatorId, string BrandId, string PlayerId,
        string Currency, decimal Amount, string? GameroundId, string State, int Attempts, int? LastStatus, string? LastCode, string? LastError,
        string? WalletTransactionId, long CreatedTimestamp, long? PaidTimestamp, Guid? BatchId = null, string Kind = "win");

    sealed record Row(Guid WinId, string TransactionId, Guid InstanceId, string PotId, string OperatorId, string BrandId, string PlayerId,
        string Currency, decimal Amount, string? GameroundId, string State, int Attempts, int? LastStatus, string? LastCode, string? LastError,
        string? WalletTransactionId, DateTime CreatedAt, DateTime? PaidAt, Guid? BatchId, string Kind);

    const string Select = """
        select win_id as WinId, transaction_id as TransactionId, instance_id as InstanceId, pot_id as PotId, operator_id as OperatorId,
               brand_id as BrandId, player_id as PlayerId, currency as Currency, amount as Amount, gameround_id as GameroundId, state as State,
               attempts as Attempts, last_status as LastStatus, last_code as LastCode, last_error as LastError,
               wallet_transaction_id as WalletTransactionId, created_at as CreatedAt, paid_at as PaidAt, batch_id as BatchId, kind as Kind
        from credits
        """;

    public static void MapCreditEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/admin/credits").WithTags("Credits");
        g.MapGet("", ListAsync).RequirePermission(WalletEndpoints.System, "credits", write: false);
        g.MapPost("/{winId:guid}/retry", RetryAsync).RequirePermission(WalletEndpoints.System, "credits", write: true);
    }

    static async Task<IResult> ListAsync(string? state, string? operator_id, string? brand_id, Guid? win_id, Guid? batch_id, HttpContext http, NpgsqlDataSource db,
        CancellationToken ct)
    {
        if (state is not (null or "queued" or "pending" or "paid" or "failed")) return Problems.BadRequest("state", "One of queued, pending, paid, failed.");
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>(new CommandDefinition(Select + """
             where (@state::text is null or state = @state) and (@operator_id::text is null or operator_id = @operator_id)
               and (@brand_id::text is null or brand_id = @brand_id) and (@win_id::uuid is null or win_id = @win_id)
               and (@batch_id::uuid is null or batch_id = @batch_id)
             order by created_at desc limit 1000
            """, new { state, operator_id, brand_id, win_id, batch_id }, cancellationToken: ct));
        return Results.Ok(rows.Where(r => http.MayActFor($"{r.OperatorId}:{r.BrandId}")).Select(Doc).ToList());
    }

    /// <summary>A failed credit goes back to the queue (same transaction id, so it can still never be paid twice).</summary>
    static async Task<IResult> RetryAsync(Guid winId, HttpContext http, NpgsqlDataSource db, CreditSender sender, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(Select + " where win_id = @winId for update", new { winId }, tx, cancellationToken: ct));
        if (row is null) return Problems.NotFound($"No credit for win {winId}.");
        var owner = $"{row.OperatorId}:{row.BrandId}";
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The credit belongs to '{owner}'.");
        if (row.State is not ("failed" or "pending")) return Problems.Conflict($"The credit of win {winId} is {row.State}.");
        await c.ExecuteAsync(new CommandDefinition("update credits set state = 'pending', next_attempt_at = now() where win_id = @winId",
            new { winId }, tx, cancellationToken: ct));
        await Audit.WriteAsync(c, tx, http.User, "credit.retry", "credit", winId.ToString(), owner, new { row.State }, new { State = "pending" }, ct);
        await tx.CommitAsync(ct);
        sender.Wake();
        return Results.Ok(Doc(row with { State = "pending" }));
    }

    static CreditDoc Doc(Row r) => new(r.WinId, r.TransactionId, r.InstanceId, r.PotId, r.OperatorId, r.BrandId, r.PlayerId, r.Currency, r.Amount,
        r.GameroundId, r.State, r.Attempts, r.LastStatus, r.LastCode, r.LastError, r.WalletTransactionId, Time.Ms(r.CreatedAt), Time.Ms(r.PaidAt),
        r.BatchId, r.Kind);
}
