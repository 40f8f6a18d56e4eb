using System.Globalization;
using Dapper;
using Npgsql;
using ThrillGate.Grpc;
using ThrillGate.Wallets;

namespace ThrillGate.Debits;

/// <summary>
/// The debits ThrillGate took and their cancellations (spec §4.3: only debits are ever cancelled). A cancel the wallet
/// does not acknowledge is kept as cancel_pending and re-driven with the same transaction id until it does, so a
/// contribution that failed never keeps the player's money.
/// </summary>
public sealed class DebitLog(NpgsqlDataSource db, WalletClient client, WalletStore store, ILogger<DebitLog> logger)
{
    public async Task RecordAsync(WalletDefinition wallet, string? playerId, string transactionId, string? currency, decimal? amount, string state,
        string? error, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            insert into debits (transaction_id, operator_id, brand_id, player_id, currency, amount, state, last_error, next_attempt_at)
            values (@transactionId, @OperatorId, @BrandId, @playerId, @currency, @amount, @state, @error,
                    case when @state = 'cancel_pending' then now() + interval '1 second' end)
            on conflict (transaction_id) do update set
                player_id = coalesce(debits.player_id, excluded.player_id), currency = coalesce(debits.currency, excluded.currency),
                amount = coalesce(debits.amount, excluded.amount), last_error = excluded.last_error, updated_at = now(),
                next_attempt_at = excluded.next_attempt_at,
                attempts = debits.attempts + case when excluded.state = 'cancel_pending' then 1 else 0 end,
                -- A cancelled debit stays cancelled: a late debit answer must not revive it.
                state = case when debits.state = 'cancelled' then 'cancelled' else excluded.state end
            """, new { transactionId, wallet.OperatorId, wallet.BrandId, playerId, currency, amount, state, error }, cancellationToken: ct));
    }

    /// <summary>Cancels now if the wallet answers; otherwise leaves it to the re-drive. The balance, or null when pending.</summary>
    public async Task<string?> CancelAsync(Wallet wallet, string? playerId, string transactionId, string? currency, decimal? amount, CancellationToken ct)
    {
        try
        {
            var answer = await client.CallAsync(wallet, "cancel_bet", new { transaction_id = transactionId, player_id = playerId }, null, ct);
            await RecordAsync(wallet.Definition, playerId, transactionId, currency, amount, "cancelled", null, CancellationToken.None);
            return WalletsGrpc.Balance(answer);
        }
        catch (WalletCallException ex)
        {
            logger.LogWarning("Cancel of debit {TransactionId} not acknowledged ({Error}); it will be re-driven", transactionId, ex.Message);
            await RecordAsync(wallet.Definition, playerId, transactionId, currency, amount, "cancel_pending", ex.Message, CancellationToken.None);
            return null;
        }
    }

    /// <summary>One round of the re-drive: due pending cancels, leased so that replicas do not send the same one together.</summary>
    public async Task<int> RedriveAsync(CancellationToken ct)
    {
        List<(string TransactionId, string OperatorId, string BrandId, string? PlayerId, string? Currency, decimal? Amount, int Attempts)> due;
        await using (var c = await db.OpenConnectionAsync(ct))
            due = (await c.QueryAsync<(string, string, string, string?, string?, decimal?, int)>(new CommandDefinition("""
                update debits d set next_attempt_at = now() + interval '2 minutes'
                from (select transaction_id from debits where state = 'cancel_pending' and next_attempt_at <= now()
                      order by next_attempt_at limit 50 for update skip locked) due
                where d.transaction_id = due.transaction_id
                returning d.transaction_id, d.operator_id, d.brand_id, d.player_id, d.currency, d.amount, d.attempts
                """, cancellationToken: ct))).ToList();
        foreach (var d in due)
        {
            if (await store.ForBrandAsync(d.OperatorId, d.BrandId, ct) is not { } wallet) continue;
            if (await CancelAsync(wallet, d.PlayerId, d.TransactionId, d.Currency, d.Amount, ct) is null)
            {
                // Still not acknowledged: back off (the upsert in CancelAsync set one second; widen it with the attempts).
                await using var c = await db.OpenConnectionAsync(ct);
                await c.ExecuteAsync(new CommandDefinition(
                    "update debits set next_attempt_at = now() + least(interval '1 second' * power(2, attempts), interval '5 minutes') where transaction_id = @TransactionId",
                    new { d.TransactionId }, cancellationToken: ct));
            }
        }
        return due.Count;
    }

    public static string Format(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);
}
