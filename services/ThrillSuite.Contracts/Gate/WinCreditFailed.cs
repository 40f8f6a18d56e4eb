namespace ThrillSuite.Contracts.Gate;

/// <summary>
/// A win's credit was refused by a rule that forbids retrying it (an <c>error_response_rules</c> entry with
/// <c>must_retry: false</c>, or no wallet for the brand): it stays owed, withheld, until an operator settles or re-drives it.
/// </summary>
public sealed record WinCreditFailed(Guid WinId, string TransactionId, Guid InstanceId, string BrandId, string PlayerId, string Currency,
    decimal Amount, int? WalletStatus, string? WalletCode, string Reason, long Timestamp);
