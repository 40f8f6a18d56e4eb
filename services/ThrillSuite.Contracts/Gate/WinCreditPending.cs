namespace ThrillSuite.Contracts.Gate;

/// <summary>
/// A win's credit failed its retries and is kept as pending (spec §4.3): ThrillGate re-drives it from its database until the
/// wallet acknowledges it; meanwhile the win is withheld. Published once, when the credit first becomes pending.
/// </summary>
public sealed record WinCreditPending(Guid WinId, string TransactionId, Guid InstanceId, string BrandId, string PlayerId, string Currency,
    decimal Amount, string Reason, long Timestamp);
