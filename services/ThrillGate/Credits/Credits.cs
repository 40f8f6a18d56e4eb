using System.Diagnostics;
using System.Diagnostics.Metrics;
using Dapper;
using MassTransit;
using Npgsql;
using ThrillGate.Debits;
using ThrillGate.Wallets;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Data.Inbox;
using ThrillSuite.Data.Outbox;
using ThrillSuite.ServiceDefaults.Hosting;

namespace ThrillGate.Credits;

/// <summary>
/// Takes in a win to pay: one credits row per win id (so a redelivered or re-published command changes nothing), committed
/// with the inbox row before the message is acknowledged. Paying is the <see cref="CreditSender"/>'s job, from the table.
/// </summary>
public sealed class CreditWinConsumer(NpgsqlDataSource db, CreditSender sender, ILogger<CreditWinConsumer> logger)
    : IdempotentConsumer<CreditWin>(db, logger)
{
    protected override async Task HandleAsync(ConsumeContext<CreditWin> context, NpgsqlTransaction transaction)
    {
        var m = context.Message;
        var (_, brand) = ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(m.BrandId);
        await transaction.Connection!.ExecuteAsync(new CommandDefinition("""
            insert into credits (win_id, transaction_id, instance_id, pot_id, operator_id, brand_id, player_id, currency, amount, gameround_id, trace_parent,
                won_at)
            values (@WinId, @TransactionId, @InstanceId, @PotId, @OperatorId, @brand, @PlayerId, @PlayerCurrency, @PlayerAmount, @GameroundId, @traceParent,
                @wonAt)
            on conflict (win_id) do nothing
            """, new { m.WinId, m.TransactionId, m.InstanceId, m.PotId, m.OperatorId, brand = brand ?? m.BrandId, m.PlayerId, m.PlayerCurrency,
            m.PlayerAmount, m.GameroundId, traceParent = Activity.Current?.IdFormat == ActivityIdFormat.W3C ? Activity.Current.Id : null,
            wonAt = m.WonAt is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime : (DateTime?)null },
            transaction, cancellationToken: context.CancellationToken));
        sender.Wake();
    }
}

/// <summary>
/// Pays owed credits from the database (spec §4.3, design.md §6): each due credit is leased, sent with its fixed transaction
/// id through the wallet's retries, and then marked paid (<see cref="WinCredited"/>), failed by a no-retry rule
/// (<see cref="WinCreditFailed"/>), or pending and re-driven with backoff — forever, across restarts — until the wallet
/// acknowledges it; <see cref="WinCreditPending"/> is published when a credit first becomes pending. A credit is never
/// cancelled. The same loop re-drives pending debit cancels.
/// </summary>
public sealed partial class CreditSender(NpgsqlDataSource db, WalletStore store, WalletClient client, DebitLog debits, ILogger<CreditSender> logger)
    : PollingService(logger)
{
    const int Batch = 50;
    /// <summary>Held while the wallet is looked up; then for as long as that wallet's call can take (<see cref="HoldAsync"/>).</summary>
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    /// <summary>Beyond the wallet's longest call: time to record the outcome.</summary>
    static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(5);
    protected override int RoundSize => Batch;

    public static readonly ActivitySource Source = new("ThrillSuite.ThrillGate");
    static readonly Meter Meter = new("ThrillSuite.ThrillGate");
    static readonly Histogram<double> PayoutLatency = Meter.CreateHistogram<double>("thrillgate.payout.latency", "s",
        "From a win (its commit in ThrillPots) to the wallet acknowledging its credit, retries included", advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
        });
    // Owed credits by state, as of the sender's last count (at most every PendingCountInterval; the gauge itself queries nothing).
    static readonly TimeSpan PendingCountInterval = TimeSpan.FromSeconds(5);
    static (long Queued, long Pending, long Failed) owed;
    static DateTime owedCountedAt = DateTime.MinValue;

    static CreditSender() =>
        Meter.CreateObservableGauge("thrillgate.credits.pending", () => new[]
        {
            new Measurement<long>(owed.Queued, new KeyValuePair<string, object?>("state", "queued")),
            new Measurement<long>(owed.Pending, new KeyValuePair<string, object?>("state", "pending")),
            new Measurement<long>(owed.Failed, new KeyValuePair<string, object?>("state", "failed")),
        }, "{credit}", "Credits owed to players and not yet acknowledged by their wallet, by state");

    sealed record Due(Guid WinId, string TransactionId, Guid InstanceId, string OperatorId, string BrandId, string PlayerId, string Currency,
        decimal Amount, string? GameroundId, string State, int Attempts, string? TraceParent, Guid? BatchId, DateTime WonAt);

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        List<Due> due;
        await using (var c = await db.OpenConnectionAsync(ct))
            due = (await c.QueryAsync<Due>(new CommandDefinition("""
                update credits d set next_attempt_at = now() + @Lease
                from (select win_id from credits where state in ('queued', 'pending') and next_attempt_at <= now()
                      -- A batch's queued items go together, in one call (PayBatchesAsync); re-drives go one by one.
                      and (batch_id is null or state <> 'queued')
                      order by next_attempt_at limit @Batch for update skip locked) due
                where d.win_id = due.win_id
                returning d.win_id as WinId, d.transaction_id as TransactionId, d.instance_id as InstanceId, d.operator_id as OperatorId,
                          d.brand_id as BrandId, d.player_id as PlayerId, d.currency as Currency, d.amount as Amount, d.gameround_id as GameroundId,
                          d.state as State, d.attempts as Attempts, d.trace_parent as TraceParent, d.batch_id as BatchId,
                          coalesce(d.won_at, d.created_at) as WonAt
                """, new { Lease, Batch }, cancellationToken: ct))).ToList();
        await CountOwedAsync(ct);
        var batched = await PayBatchesAsync(ct);
        await Task.WhenAll(due.Select(d => PayAsync(d, ct)));
        return due.Count + batched + await debits.RedriveAsync(ct);
    }

    /// <summary>Refreshes thrillgate.credits.pending from the table, at most every few seconds (every replica counts the same rows).</summary>
    async Task CountOwedAsync(CancellationToken ct)
    {
        if (DateTime.UtcNow - owedCountedAt < PendingCountInterval) return;
        owedCountedAt = DateTime.UtcNow;
        await using var c = await db.OpenConnectionAsync(ct);
        owed = await c.QuerySingleAsync<(long, long, long)>(new CommandDefinition(OwedCount, cancellationToken: ct));
    }

    /// <summary>
    /// The credits still owed, by state, through the partial index credits_owed: paid credits pile up for ever, and counting
    /// through them every few seconds read the whole table (147 ms at 1.2 million credits). PlanTests checks the plan.
    /// </summary>
    internal const string OwedCount = """
        select count(*) filter (where state = 'queued'), count(*) filter (where state = 'pending'), count(*) filter (where state = 'failed')
        from credits where state in ('queued', 'pending', 'failed')
        """;

    async Task PayAsync(Due d, CancellationToken ct)
    {
        // In the trace of the win (the contribution that won, through ThrillPots' outbox): the wallet call joins it.
        ActivityContext.TryParse(d.TraceParent, null, isRemote: true, out var parent);
        using var activity = Source.StartActivity("credit win", ActivityKind.Internal, parent);
        activity?.SetTag("thrillgate.win_id", d.WinId.ToString());
        activity?.SetTag("thrillgate.attempt", d.Attempts + 1);
        var wallet = await store.ForBrandAsync(d.OperatorId, d.BrandId, ct);
        if (wallet is null)
        {
            await FailAsync(d, null, null, $"No enabled wallet is configured for brand '{d.OperatorId}:{d.BrandId}'.");
            return;
        }
        // Nothing to move (a win that rounds to zero in the player's currency): settled without a wallet call.
        if (d.Amount == 0m)
        {
            await PaidAsync(d, null);
            return;
        }
        await HoldAsync(d, WalletClient.MaxDuration(wallet.Definition.Config) + LeaseMargin, ct);
        try
        {
            var answer = await client.CallAsync(wallet, wallet.Definition.Endpoints.ContainsKey("transaction") ? "transaction" : "credit",
                CreditBody(d, wallet), null, ct);
            await PaidAsync(d, answer.ValueKind == System.Text.Json.JsonValueKind.Object && answer.TryGetProperty("transaction_id", out var t) ? t.ToString() : null);
        }
        catch (WalletCallException ex) when (ex.Kind == WalletFailureKind.Refused && !ex.MustRetry)
        {
            await FailAsync(d, ex.Status, ex.Code, ex.Message);
        }
        catch (WalletCallException ex)
        {
            await PendingAsync(d, ex);
        }
    }

    /// <summary>The wallet's Credit body of a credit: the same alone or in a batch, so a re-drive is the same transaction.</summary>
    static object CreditBody(Due d, Wallet wallet) => new
    {
        player_id = d.PlayerId, transaction_id = d.TransactionId, transaction_type = "Credit", provider_id = Grpc.WalletsGrpc.ProviderId,
        gameround_id = d.GameroundId, amount = d.Amount, currency = d.Currency, close_round = wallet.Definition.Config.MustCloseGamerounds,
    };

    /// <summary>
    /// Leases the credit for as long as its wallet call can take. A lease is what keeps replicas from sending one credit together;
    /// it is also how long a credit waits after a crash mid-call, so it is no longer than the call can take.
    /// </summary>
    async Task HoldAsync(Due d, TimeSpan lease, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("update credits set next_attempt_at = now() + @lease where win_id = @WinId",
            new { d.WinId, lease }, cancellationToken: ct));
    }

    // The outcomes below change only a credit still owed: with leases this short, a slow replica may finish after another has
    // re-sent the same transaction (the wallet answers it once), and it must neither undo a payment nor announce it twice.
    const string Owed = "state in ('queued', 'pending')";

    async Task PaidAsync(Due d, string? walletTransactionId)
    {
        await using var c = await db.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        if (await RecordPaidAsync(tx, d, walletTransactionId)) await tx.CommitAsync();
    }

    /// <summary>The credit paid and WinCredited in the outbox, in <paramref name="tx"/>; false when it was no longer owed.</summary>
    static async Task<bool> RecordPaidAsync(NpgsqlTransaction tx, Due d, string? walletTransactionId)
    {
        if (await tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            update credits set state = 'paid', attempts = attempts + 1, paid_at = now(), wallet_transaction_id = @walletTransactionId,
                last_error = null where win_id = @WinId and {Owed}
            """, new { d.WinId, walletTransactionId }, tx)) == 0) return false;
        PayoutLatency.Record(Math.Max(0, (DateTime.UtcNow - DateTime.SpecifyKind(d.WonAt, DateTimeKind.Utc)).TotalSeconds),
            new KeyValuePair<string, object?>("kind", d.BatchId is null ? "win" : "batch"));
        await Outbox.EnqueueAsync(tx, new WinCredited(d.WinId, d.TransactionId, d.InstanceId, $"{d.OperatorId}:{d.BrandId}", d.PlayerId, d.Currency,
            d.Amount, walletTransactionId, d.Attempts + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        return true;
    }

    async Task PendingAsync(Due d, WalletCallException ex)
    {
        await using var c = await db.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        if (await RecordPendingAsync(tx, d, ex.Status, ex.Code, ex.Message)) await tx.CommitAsync();
    }

    /// <summary>The credit pending with backoff (WinCreditPending when it first becomes so), in <paramref name="tx"/>; false when no longer owed.</summary>
    async Task<bool> RecordPendingAsync(NpgsqlTransaction tx, Due d, int? status, string? code, string message)
    {
        logger.LogWarning("Credit {TransactionId} of win {WinId} not acknowledged ({Error}); pending", d.TransactionId, d.WinId, message);
        var c = tx.Connection!;
        var ex = (Status: status, Code: code, Message: message);
        // Backoff grows with the attempts (1 s, 2 s, 4 s … 5 min), with jitter so that a recovered wallet is not stormed.
        var backoff = TimeSpan.FromMilliseconds(Math.Min(300_000, 1000 * Math.Pow(2, d.Attempts)) * (0.8 + Random.Shared.NextDouble() * 0.4));
        if (await c.ExecuteAsync(new CommandDefinition($"""
            update credits set state = 'pending', attempts = attempts + 1, next_attempt_at = now() + @backoff, last_status = @Status,
                last_code = @Code, last_error = @Message where win_id = @WinId and {Owed}
            """, new { d.WinId, backoff, ex.Status, ex.Code, ex.Message }, tx)) == 0) return false;
        if (d.State == "queued")
            await Outbox.EnqueueAsync(tx, new WinCreditPending(d.WinId, d.TransactionId, d.InstanceId, $"{d.OperatorId}:{d.BrandId}", d.PlayerId, d.Currency,
                d.Amount, ex.Message, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        return true;
    }

    async Task FailAsync(Due d, int? status, string? code, string reason)
    {
        await using var c = await db.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        if (await RecordFailedAsync(tx, d, status, code, reason)) await tx.CommitAsync();
    }

    /// <summary>The credit failed (owed until re-driven by hand) and WinCreditFailed, in <paramref name="tx"/>; false when no longer owed.</summary>
    async Task<bool> RecordFailedAsync(NpgsqlTransaction tx, Due d, int? status, string? code, string reason)
    {
        logger.LogError("Credit {TransactionId} of win {WinId} refused without retry ({Reason}); it stays owed", d.TransactionId, d.WinId, reason);
        if (await tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            update credits set state = 'failed', attempts = attempts + 1, last_status = @status, last_code = @code, last_error = @reason
            where win_id = @WinId and {Owed}
            """, new { d.WinId, status, code, reason }, tx)) == 0) return false;
        await Outbox.EnqueueAsync(tx, new WinCreditFailed(d.WinId, d.TransactionId, d.InstanceId, $"{d.OperatorId}:{d.BrandId}", d.PlayerId, d.Currency,
            d.Amount, status, code, reason, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        return true;
    }
}
