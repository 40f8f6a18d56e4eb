using System.Diagnostics;
using System.Text.Json;
using Dapper;
using MassTransit;
using Npgsql;
using ThrillGate.Wallets;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Data.Inbox;
using ThrillSuite.Data.Outbox;

namespace ThrillGate.Credits;

/// <summary>
/// Takes in a batch credit (community payouts, raffle prizes): the batch row and one credits row per item (keyed by its payout
/// id), committed with the inbox row before the message is acknowledged, so a redelivered command changes nothing.
/// </summary>
public sealed class CreditBatchConsumer(NpgsqlDataSource db, CreditSender sender, ILogger<CreditBatchConsumer> logger)
    : IdempotentConsumer<CreditBatch>(db, logger)
{
    protected override async Task HandleAsync(ConsumeContext<CreditBatch> context, NpgsqlTransaction transaction)
    {
        var m = context.Message;
        var (_, brand) = ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(m.BrandId);
        var c = transaction.Connection!;
        await c.ExecuteAsync(new CommandDefinition("""
            insert into credit_batches (batch_id, batch_transaction_id, kind, instance_id, operator_id, brand_id, gameround_id)
            values (@BatchId, @BatchTransactionId, @Kind, @InstanceId, @OperatorId, @brand, @GameroundId)
            on conflict (batch_id) do nothing
            """, new { m.BatchId, m.BatchTransactionId, m.Kind, m.InstanceId, m.OperatorId, brand = brand ?? m.BrandId, m.GameroundId },
            transaction, cancellationToken: context.CancellationToken));
        await c.ExecuteAsync(new CommandDefinition("""
            insert into credits (win_id, transaction_id, instance_id, pot_id, operator_id, brand_id, player_id, currency, amount, gameround_id,
                trace_parent, batch_id, kind)
            select u.id, u.tx, @InstanceId, u.pot, @OperatorId, @brand, u.player, u.currency, u.amount, @GameroundId, @traceParent, @BatchId, @Kind
            from unnest(@ids, @transactionIds, @pots, @players, @currencies, @amounts) as u(id, tx, pot, player, currency, amount)
            on conflict (win_id) do nothing
            """, new
        {
            m.InstanceId, m.OperatorId, brand = brand ?? m.BrandId, m.GameroundId, m.BatchId, m.Kind,
            traceParent = Activity.Current?.IdFormat == ActivityIdFormat.W3C ? Activity.Current.Id : null,
            ids = m.Items.Select(i => i.PayoutId).ToArray(), transactionIds = m.Items.Select(i => i.TransactionId).ToArray(),
            pots = m.Items.Select(i => i.PotId).ToArray(), players = m.Items.Select(i => i.PlayerId).ToArray(),
            currencies = m.Items.Select(i => i.PlayerCurrency).ToArray(), amounts = m.Items.Select(i => i.PlayerAmount).ToArray(),
        }, transaction, cancellationToken: context.CancellationToken));
        sender.Wake();
    }
}

/// <summary>
/// Batch credits (wallet spec §3.7): a batch's queued items are paid with ONE <c>transaction_batch</c> call when the wallet
/// defines it, else one by one; each item keeps its own transaction id and outcome (paid, pending with backoff, failed by a
/// no-retry rule) exactly as a single credit. An attempt that leaves items unpaid publishes CommunityPayoutError (or
/// RafflePayoutError) naming them, with the items' outcomes, in one transaction. Unpaid items are re-driven singly after.
/// </summary>
public sealed partial class CreditSender
{
    sealed record BatchHead(Guid BatchId, string BatchTransactionId, string Kind, Guid InstanceId, string OperatorId, string BrandId, string? GameroundId);

    /// <summary>What one attempt did with an item; <see cref="Outcome"/> is paid, pending or failed.</summary>
    sealed record ItemOutcome(Due Item, string Outcome, string? WalletTransactionId = null, int? Status = null, string? Code = null, string Reason = "");

    async Task<int> PayBatchesAsync(CancellationToken ct)
    {
        List<(Due Item, Guid BatchId)> leased;
        await using (var c = await db.OpenConnectionAsync(ct))
            leased = (await c.QueryAsync<Due>(new CommandDefinition("""
                update credits d set next_attempt_at = now() + @Lease
                from (select win_id from credits
                      where batch_id in (select batch_id from credits where state = 'queued' and batch_id is not null and next_attempt_at <= now()
                                         order by next_attempt_at limit @Batch)
                        and state = 'queued' and next_attempt_at <= now()
                      for update skip locked) due
                where d.win_id = due.win_id
                returning d.win_id as WinId, d.transaction_id as TransactionId, d.instance_id as InstanceId, d.operator_id as OperatorId,
                          d.brand_id as BrandId, d.player_id as PlayerId, d.currency as Currency, d.amount as Amount, d.gameround_id as GameroundId,
                          d.state as State, d.attempts as Attempts, d.trace_parent as TraceParent, d.batch_id as BatchId,
                          coalesce(d.won_at, d.created_at) as WonAt
                """, new { Lease, Batch }, cancellationToken: ct))).Select(d => (d, d.BatchId!.Value)).ToList();
        if (leased.Count == 0) return 0;
        var groups = leased.GroupBy(l => l.BatchId).ToList();
        await Task.WhenAll(groups.Select(g => PayBatchAsync(g.Key, [.. g.Select(l => l.Item)], ct)));
        return leased.Count;
    }

    async Task PayBatchAsync(Guid batchId, IReadOnlyList<Due> items, CancellationToken ct)
    {
        BatchHead head;
        await using (var c = await db.OpenConnectionAsync(ct))
            head = await c.QuerySingleAsync<BatchHead>(new CommandDefinition("""
                select batch_id as BatchId, batch_transaction_id as BatchTransactionId, kind as Kind, instance_id as InstanceId,
                       operator_id as OperatorId, brand_id as BrandId, gameround_id as GameroundId
                from credit_batches where batch_id = @batchId
                """, new { batchId }, cancellationToken: ct));
        ActivityContext.TryParse(items[0].TraceParent, null, isRemote: true, out var parent);
        using var activity = Source.StartActivity("credit batch", ActivityKind.Internal, parent);
        activity?.SetTag("thrillgate.batch_id", batchId.ToString());
        activity?.SetTag("thrillgate.batch_items", items.Count);

        var outcomes = new List<ItemOutcome>();
        var wallet = await store.ForBrandAsync(head.OperatorId, head.BrandId, ct);
        if (wallet is null)
            outcomes.AddRange(items.Select(d => new ItemOutcome(d, "failed", Reason: $"No enabled wallet is configured for brand '{head.OperatorId}:{head.BrandId}'.")));
        else
        {
            // Nothing to move (rounds to zero in the player's currency): settled without a wallet call.
            outcomes.AddRange(items.Where(d => d.Amount == 0m).Select(d => new ItemOutcome(d, "paid")));
            var send = items.Where(d => d.Amount != 0m).ToList();
            if (send.Count > 0)
            {
                var call = WalletClient.MaxDuration(wallet.Definition.Config) + LeaseMargin;
                if (wallet.Definition.Endpoints.ContainsKey("transaction_batch"))
                {
                    await HoldAllAsync(send, call, ct);
                    outcomes.AddRange(await SendBatchAsync(wallet, head, send, ct));
                }
                else
                {
                    await HoldAllAsync(send, call * send.Count, ct);
                    foreach (var d in send) outcomes.Add(await SendOneAsync(wallet, d, ct));
                }
            }
        }
        await RecordBatchAsync(head, outcomes);
    }

    async Task HoldAllAsync(IReadOnlyList<Due> items, TimeSpan lease, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("update credits set next_attempt_at = now() + @lease where win_id = any(@ids)",
            new { ids = items.Select(d => d.WinId).ToArray(), lease }, cancellationToken: ct));
    }

    /// <summary>
    /// One transaction_batch call: {batch_id, transactions: [Credit bodies]} answered by per-item results {transaction_id,
    /// status "ok" | "error", code, message, http_status}. An item the answer does not mention is pending (not known paid).
    /// </summary>
    async Task<List<ItemOutcome>> SendBatchAsync(Wallet wallet, BatchHead head, IReadOnlyList<Due> items, CancellationToken ct)
    {
        JsonElement answer;
        try
        {
            answer = await client.CallAsync(wallet, "transaction_batch",
                new { batch_id = head.BatchTransactionId, transactions = items.Select(d => CreditBody(d, wallet)).ToArray() }, null, ct);
        }
        catch (WalletCallException ex)
        {
            var outcome = ex.Kind == WalletFailureKind.Refused && !ex.MustRetry ? "failed" : "pending";
            return [.. items.Select(d => new ItemOutcome(d, outcome, null, ex.Status, ex.Code, ex.Message))];
        }
        var results = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("results", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var r in list.EnumerateArray())
                if (r.ValueKind == JsonValueKind.Object && r.TryGetProperty("transaction_id", out var id) && id.ValueKind == JsonValueKind.String)
                    results[id.GetString()!] = r;
        return [.. items.Select(d =>
        {
            if (!results.TryGetValue(d.TransactionId, out var r))
                return new ItemOutcome(d, "pending", Reason: "transaction_batch: the wallet's answer does not mention this transaction.");
            var status = Text(r, "status");
            if (status is "ok" or "success" or "paid")
                return new ItemOutcome(d, "paid", Text(r, "wallet_transaction_id"));
            var code = Text(r, "code");
            var message = $"transaction_batch: the wallet refused the item: {code} {Text(r, "message")}".TrimEnd();
            if (!r.TryGetProperty("http_status", out var s) || !s.TryGetInt32(out var httpStatus))
                return new ItemOutcome(d, "pending", null, null, code, message);
            var rule = wallet.Definition.RuleFor(httpStatus, code);
            return new ItemOutcome(d, rule.MustRetry == false ? "failed" : "pending", null, httpStatus, code, message);
        })];
    }

    static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ValueKind == JsonValueKind.Null ? null : v.ToString() : null;

    /// <summary>An item sent alone (the wallet has no transaction_batch), with the single credit's rules.</summary>
    async Task<ItemOutcome> SendOneAsync(Wallet wallet, Due d, CancellationToken ct)
    {
        try
        {
            var answer = await client.CallAsync(wallet, wallet.Definition.Endpoints.ContainsKey("transaction") ? "transaction" : "credit",
                CreditBody(d, wallet), null, ct);
            return new ItemOutcome(d, "paid", answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("transaction_id", out var t) ? t.ToString() : null);
        }
        catch (WalletCallException ex)
        {
            return new ItemOutcome(d, ex.Kind == WalletFailureKind.Refused && !ex.MustRetry ? "failed" : "pending", null, ex.Status, ex.Code, ex.Message);
        }
    }

    /// <summary>Every item's outcome and, when some are left unpaid, the batch's payout error event: one transaction.</summary>
    async Task RecordBatchAsync(BatchHead head, IReadOnlyList<ItemOutcome> outcomes)
    {
        await using var c = await db.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        var failed = new List<FailedPayout>();
        var brand = $"{head.OperatorId}:{head.BrandId}";
        foreach (var o in outcomes)
        {
            var changed = o.Outcome switch
            {
                "paid" => await RecordPaidAsync(tx, o.Item, o.WalletTransactionId),
                "failed" => await RecordFailedAsync(tx, o.Item, o.Status, o.Code, o.Reason),
                _ => await RecordPendingAsync(tx, o.Item, o.Status, o.Code, o.Reason),
            };
            if (changed && o.Outcome != "paid")
                failed.Add(new FailedPayout(o.Item.WinId, o.Item.TransactionId, o.Item.PlayerId, brand, o.Item.Currency, o.Item.Amount, o.Status, o.Code,
                    o.Reason));
        }
        if (failed.Count > 0)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            if (head.Kind == CreditBatch.Raffle)
                await Outbox.EnqueueAsync(tx, new RafflePayoutError(head.BatchId, head.InstanceId, brand, head.GameroundId, head.BatchTransactionId, failed, now));
            else
                await Outbox.EnqueueAsync(tx, new CommunityPayoutError(head.BatchId, head.InstanceId, brand, head.GameroundId, head.BatchTransactionId, failed, now));
        }
        await tx.CommitAsync();
    }
}
