namespace ThrillSuite.Contracts.Pots;

/// <summary>
/// The durable command that pays a win (design.md §6): sent by ThrillPots to ThrillGate's queue in the transaction that
/// recorded the win. <see cref="TransactionId"/> is derived from the win id, so no redelivery can create a second wallet
/// transaction. <see cref="PlayerAmount"/> is the win in the player's currency, rounded down to its minor unit. <see cref="WonAt"/>
/// is when the win was recorded (epoch milliseconds; null from a publisher that predates it): payout latency runs from it.
/// </summary>
public sealed record CreditWin(
    Guid WinId,
    string TransactionId,
    Guid InstanceId,
    string PotId,
    string OperatorId,
    string BrandId,
    string PlayerId,
    string JackpotCurrency,
    decimal Amount,
    string PlayerCurrency,
    decimal PlayerAmount,
    string? GameroundId,
    Guid? ContributionId,
    long? WonAt = null)
{
    /// <summary>The queue ThrillGate consumes credits from.</summary>
    public const string Queue = "thrillgate-credit-win";
}
