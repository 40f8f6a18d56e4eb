namespace ThrillSuite.Contracts.Pots;

/// <summary>
/// Pays several players of one brand in one wallet call (community payouts and raffle prizes; spec thrillpots-engine.md §8–§9,
/// wallet spec §3.7 <c>transaction_batch</c>). Sent by ThrillPots to ThrillGate's queue in the transaction that recorded the
/// payouts. Every item keeps its own <see cref="BatchCredit.TransactionId"/>, derived from its payout id, so an item re-driven
/// alone after a partial failure is still paid at most once. <see cref="BatchTransactionId"/> is derived from
/// <see cref="BatchId"/> (the wallet's <c>batch_id</c>, and <c>tx_credit_id</c> in the payout error events).
/// A payout spanning several brands is one batch per brand: a wallet belongs to a brand.
/// </summary>
public sealed record CreditBatch(
    Guid BatchId,
    string BatchTransactionId,
    string Kind,
    Guid InstanceId,
    string OperatorId,
    string BrandId,
    string? GameroundId,
    IReadOnlyList<BatchCredit> Items)
{
    /// <summary>The queue ThrillGate consumes batch credits from.</summary>
    public const string Queue = "thrillgate-credit-batch";

    public const string Community = "community", Raffle = "raffle";
}

/// <summary>One player's credit in a batch: <see cref="Amount"/> in the jackpot currency, <see cref="PlayerAmount"/> in the
/// player's currency rounded down to its minor unit (what the wallet is asked to credit).</summary>
public sealed record BatchCredit(
    Guid PayoutId,
    string TransactionId,
    string PlayerId,
    string JackpotCurrency,
    decimal Amount,
    string PlayerCurrency,
    decimal PlayerAmount,
    string? PotId);
