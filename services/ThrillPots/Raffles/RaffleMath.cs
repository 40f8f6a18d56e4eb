using System.Text.Json;
using ThrillPots.Engine;
using ThrillPots.Templates;

namespace ThrillPots.Raffles;

/// <summary>A raffle's period: a fixed length from the instance's start, or the instance's schedule windows.</summary>
public sealed record RafflePeriod(long? LengthMs)
{
    public bool BySchedule => LengthMs is null;
}

/// <summary>One player's tickets in one period: whole tickets and the cost accrued toward the next one.</summary>
public sealed record TicketAccount(long Tickets, decimal AccumulatedCost, decimal TotalCost);

/// <summary>A place of a draw: its winner (with the tickets they held) and prize in the jackpot currency.</summary>
public sealed record RafflePlace(int Place, string BrandId, string PlayerId, long Tickets, decimal Prize);

/// <summary>
/// The pure rules of raffles (design.md §4): which period an instant belongs to, how tickets accrue, and the draw. The
/// writer calls them inside its batch transaction with the batch's time.
/// </summary>
public static class RaffleMath
{
    static readonly Dictionary<string, long> Units = new(StringComparer.Ordinal)
    {
        ["Seconds"] = 1000, ["Minutes"] = 60_000, ["Hours"] = 3_600_000, ["Days"] = 86_400_000, ["Weeks"] = 604_800_000,
    };
    public const long MaxCount = 1_000_000;

    /// <summary>The period of a valid template, or null with the reason when the JSON is not one.</summary>
    public static RafflePeriod? ParsePeriod(JsonElement? period, out string? error)
    {
        error = null;
        if (period is { ValueKind: JsonValueKind.String } s && s.GetString() == RaffleDefinition.Schedule) return new RafflePeriod((long?)null);
        if (period is { ValueKind: JsonValueKind.Object } o && o.EnumerateObject().ToList() is [var only] && Units.TryGetValue(only.Name, out var unit))
        {
            if (only.Value.ValueKind == JsonValueKind.Number && only.Value.TryGetInt64(out var n) && n is >= 1 and <= MaxCount)
                return new RafflePeriod(n * unit);
            error = $"{only.Name}: an integer from 1 to {MaxCount}.";
            return null;
        }
        error = "Required: \"Schedule\" or one of {\"Seconds\": n}, {\"Minutes\": n}, {\"Hours\": n}, {\"Days\": n}, {\"Weeks\": n}.";
        return null;
    }

    public static RafflePeriod Period(RaffleDefinition raffle) =>
        ParsePeriod(raffle.Period, out var error) ?? throw new InvalidOperationException("Invalid raffle period: " + error);

    /// <summary>
    /// The period [Start, End) containing <paramref name="t"/>: fixed-length periods count from <paramref name="anchor"/>
    /// (the instance's start) and the last one is cut at the schedule's end; "Schedule" periods are the schedule's open
    /// stretches (a schedule without recurrence rules is one period from its start to its end). Null: no period at t.
    /// </summary>
    public static (long Start, long End)? PeriodAt(RafflePeriod period, Schedule? schedule, long anchor, long t)
    {
        if (period.LengthMs is { } length)
        {
            var from = schedule?.TimestampStart ?? anchor;
            if (t < from || schedule?.TimestampEnd is { } end0 && t >= end0) return null;
            var start = from + (t - from) / length * length;
            var end = start + length;
            if (schedule?.TimestampEnd is { } cut && end > cut) end = cut;
            return (start, end);
        }
        return schedule is null ? null : Schedules.WindowAt(schedule, t);
    }

    /// <summary>Adds <paramref name="cost"/> to an account: tickets = floor((accumulated + cost) / price), the rest kept.</summary>
    public static TicketAccount Accrue(TicketAccount account, decimal cost, decimal price)
    {
        var total = account.AccumulatedCost + cost;
        var whole = decimal.Floor(total / price);
        return new TicketAccount(account.Tickets + (long)whole, total - whole * price, account.TotalCost + cost);
    }

    /// <summary>
    /// One draw per place, each weighted by tickets among the holders not yet drawn (a player wins at most once); places
    /// beyond the number of holders stay empty. Prize = pool × fraction rounded down to the currency's minor unit.
    /// Holders are ordered by (brand, player) before drawing so that a given random source gives one result.
    /// </summary>
    public static IReadOnlyList<RafflePlace> Draw(IReadOnlyList<(string BrandId, string PlayerId, long Tickets)> holders, decimal pool,
        IReadOnlyList<decimal> prizes, string currency, IRandomSource random)
    {
        var left = holders.Where(h => h.Tickets > 0).OrderBy(h => h.BrandId, StringComparer.Ordinal).ThenBy(h => h.PlayerId, StringComparer.Ordinal).ToList();
        var places = new List<RafflePlace>();
        for (var place = 0; place < prizes.Count && left.Count > 0; place++)
        {
            var total = left.Sum(h => h.Tickets);
            var r = random.NextInt64(total);
            var i = 0;
            while (r >= left[i].Tickets) r -= left[i++].Tickets;
            var winner = left[i];
            left.RemoveAt(i);
            places.Add(new RafflePlace(place + 1, winner.BrandId, winner.PlayerId, winner.Tickets, Money.RoundDown(pool * prizes[place], currency)));
        }
        return places;
    }

    /// <summary>The template rules of a raffle (JSON paths as posted).</summary>
    public static void Check(TemplateDefinition t, Action<string, string> error)
    {
        var isRaffle = t.JackpotType == TemplateDefinition.RaffleType;
        if (!isRaffle)
        {
            if (t.Raffle is not null) error("raffle", "Only a template with jackpot_type \"Raffle\" has a raffle.");
            return;
        }
        if (t.Raffle is not { } r)
        {
            error("raffle", "Required for jackpot_type \"Raffle\": {ticket_price, ticket_basis, period, prizes}.");
            return;
        }
        if (r.TicketPrice is not > 0) error("raffle.ticket_price", "Required: a price greater than 0 in the template's currency.");
        if (r.TicketBasis is not (RaffleDefinition.Contribution or RaffleDefinition.BaseWager))
            error("raffle.ticket_basis", "Required: \"Contribution\" or \"BaseWager\".");
        if (ParsePeriod(r.Period, out var periodError) is null) error("raffle.period", periodError!);
        if (r.Prizes is not { Count: > 0 } prizes) error("raffle.prizes", "Required: the fraction of the pot for each place, in order.");
        else
        {
            for (var i = 0; i < prizes.Count; i++)
                if (prizes[i] is <= 0m or > 1m) error($"raffle.prizes[{i}]", "A fraction in (0, 1].");
            if (Math.Abs(prizes.Sum() - 1m) > TemplateRules.ShareTolerance) error("raffle.prizes", "The places' fractions must add up to 1.");
        }
        if (t.Pots is { Count: not 1 }) error("pots", "A raffle has exactly one pot: its prize pool.");
    }
}
