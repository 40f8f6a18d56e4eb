using MassTransit;
using ThrillSuite.Contracts.Pots;

namespace ThrillConnect.Realtime;

/// <summary>RaffleWinEvent's data (spec §18.3), with the draw's period and places.</summary>
public sealed record RaffleWinData(string BrandId, Guid InstanceId, string JackpotName, string JackpotCurrency, CurrencyMultipliers CurrencyMultipliers,
    long Timestamp, IReadOnlyList<PayoutRecord> Winners, bool WinWithheld, Guid DrawId, string PotId, long PeriodStart, long PeriodEnd, long TotalTickets,
    decimal Pool, IReadOnlyList<RafflePlaceWon> Places)
{
    public static RaffleWinData Of(RaffleWon r) => new(r.BrandId, r.InstanceId, r.JackpotName, r.JackpotCurrency, r.CurrencyMultipliers, r.Timestamp,
        r.Winners, r.WinWithheld, r.DrawId, r.PotId, r.PeriodStart, r.PeriodEnd, r.TotalTickets, r.Pool, r.Places);
}

/// <summary>Spec §9 ticket record, as PlayerRaffleTicketResponse lists it.</summary>
public sealed record RaffleTicketData(Guid InstanceId, string BrandId, string PlayerId, string ExtPlayerId, long TicketCount, string AccumulatedCost,
    long TimestampStart, long TimestampEnd);

public sealed record RaffleTicketsResponse(IReadOnlyList<RaffleTicketData> Tickets,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? RequestId);

/// <summary>A raffle draw's winners, pushed like a jackpot win: never coalesced, once per draw and brand.</summary>
public sealed class RaffleWonConsumer(Hub hub) : IConsumer<RaffleWon>
{
    public Task Consume(ConsumeContext<RaffleWon> context)
    {
        hub.Publish(context.Message);
        return Task.CompletedTask;
    }
}
