namespace ThrillSuite.Contracts.Gate;

/// <summary>ThrillGate paid a win: the wallet acknowledged the credit <see cref="TransactionId"/>.</summary>
public sealed record WinCredited(Guid WinId, string TransactionId, Guid InstanceId, string BrandId, string PlayerId, string Currency,
    decimal Amount, string? WalletTransactionId, int Attempts, long Timestamp);
