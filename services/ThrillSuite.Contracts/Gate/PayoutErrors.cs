namespace ThrillSuite.Contracts.Gate;

/// <summary>One credit of a batch that the wallet did not take: it stays owed and ThrillGate keeps re-driving it (or an
/// operator settles it) until it is paid.</summary>
public sealed record FailedPayout(Guid PayoutId, string TransactionId, string PlayerId, string BrandId, string Currency, decimal WinAmount,
    int? WalletStatus, string? WalletCode, string Reason);

/// <summary>
/// A community payout batch partly or wholly failed (spec §8 / §18 CommunityPayoutErrorEvent: instance_id, gameround_id,
/// tx_credit_id, failed_payouts). Published by ThrillGate once per batch attempt that left items unpaid.
/// </summary>
public sealed record CommunityPayoutError(Guid BatchId, Guid InstanceId, string BrandId, string? GameroundId, string TxCreditId,
    IReadOnlyList<FailedPayout> FailedPayouts, long Timestamp)
{
    public const string EventType = "CommunityPayoutErrorEvent";
}

/// <summary>A raffle prize batch partly or wholly failed (spec §9 RafflePayoutErrorEvent, shaped like the community one).</summary>
public sealed record RafflePayoutError(Guid BatchId, Guid InstanceId, string BrandId, string? GameroundId, string TxCreditId,
    IReadOnlyList<FailedPayout> FailedPayouts, long Timestamp)
{
    public const string EventType = "RafflePayoutErrorEvent";
}
