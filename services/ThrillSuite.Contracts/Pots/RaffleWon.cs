namespace ThrillSuite.Contracts.Pots;

/// <summary>
/// A raffle period was drawn (spec §18.3 RaffleWinEvent). One event per brand that has winners in the draw, carrying that
/// brand's <see cref="Winners"/> (player currency and amount) and <see cref="CurrencyMultipliers"/>; <see cref="Places"/>
/// lists that brand's places with the tickets held and the prize in the jackpot currency. <see cref="WinWithheld"/> is true
/// when the brand has no wallet integration (the operator pays its players itself).
/// </summary>
public sealed record RaffleWon(
    Guid DrawId,
    string OwnerId,
    string BrandId,
    Guid InstanceId,
    string JackpotName,
    string JackpotCurrency,
    CurrencyMultipliers CurrencyMultipliers,
    long Timestamp,
    IReadOnlyList<PayoutRecord> Winners,
    bool WinWithheld,
    string PotId,
    long PeriodStart,
    long PeriodEnd,
    long TotalTickets,
    decimal Pool,
    IReadOnlyList<RafflePlaceWon> Places)
{
    public const string EventType = "RaffleWinEvent";
}

/// <summary>A place of a raffle draw: its winner, the tickets they held, the prize (jackpot currency) and the payout id.</summary>
public sealed record RafflePlaceWon(int Place, string PlayerId, string BrandId, long Tickets, decimal WinAmount, Guid PayoutId);
