using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Engine;
using ThrillPots.Templates;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Data.Outbox;

namespace ThrillPots.Raffles;

/// <summary>What the writer knows of a raffle instance in a batch.</summary>
public sealed record RaffleInstance(Guid Id, string OwnerId, string Name, string Currency, RaffleDefinition Raffle, Schedule? Schedule, long Anchor,
    decimal MinReseed)
{
    public RafflePeriod Period { get; } = RaffleMath.Period(Raffle);
}

/// <summary>One accepted contribution's part in a raffle: its cost basis in the jackpot currency.</summary>
public sealed record TicketCost(string BrandId, string PlayerId, string PlayerCurrency, decimal Cost);

/// <summary>
/// The raffle steps of the instance writer's batch transaction (design.md §4): ending periods are drawn before the batch's
/// contributions are applied, and the batch's contributions buy tickets in the period of the batch's time — one clock for
/// both, so a contribution in the last millisecond of a period counts in it and none falls between two periods.
/// Synchronous like the writer (its own thread and connection).
/// </summary>
static class RaffleWriter
{
    /// <summary>Draws every open period of the instance that ended at or before <paramref name="now"/>, oldest first, and
    /// returns the pots as they are after the payouts. <paramref name="resolved"/> is true when anything was written.</summary>
    public static IReadOnlyList<PotState> ResolveDue(NpgsqlConnection conn, NpgsqlTransaction tx, RaffleInstance raffle, IReadOnlyList<PotState> pots,
        DateTimeOffset now, IRandomSource random, out bool resolved)
    {
        resolved = false;
        var due = conn.Query<(Guid Id, string PotId, DateTime Start, DateTime End)>(new CommandDefinition("""
            select id, pot_id, period_start, period_end from raffle_draws
            where instance_id = @Id and status = 'open' and period_end <= @now order by period_start
            """, new { raffle.Id, now = now.UtcDateTime }, tx)).ToList();
        if (due.Count == 0) return pots;
        resolved = true;
        var list = pots.ToList();
        foreach (var period in due)
        {
            var i = list.FindIndex(p => p.PotId == period.PotId);
            list[i] = Draw(conn, tx, raffle, period.Id, list[i], Time.Ms(period.Start), Time.Ms(period.End), now, random);
        }
        return list;
    }

    sealed record Holder(string BrandId, string PlayerId, string PlayerCurrency, long Tickets);

    static PotState Draw(NpgsqlConnection conn, NpgsqlTransaction tx, RaffleInstance raffle, Guid drawId, PotState pot, long start, long end,
        DateTimeOffset now, IRandomSource random)
    {
        var holders = conn.Query<Holder>(new CommandDefinition("""
            select brand_id as BrandId, player_id as PlayerId, player_currency as PlayerCurrency, ticket_count as Tickets from raffle_tickets
            where instance_id = @Id and period_start = @start and ticket_count > 0
            """, new { raffle.Id, start = Time.At(start) }, tx)).ToList();
        var pool = pot.Value;
        var total = holders.Sum(h => h.Tickets);
        if (holders.Count == 0)
        {
            // Nobody held a ticket: no draw, the pool carries over to the next period.
            conn.Execute(new CommandDefinition("""
                update raffle_draws set status = 'no_tickets', pool = @pool, paid = 0, total_tickets = 0, resolved_at = @at where id = @drawId
                """, new { pool, drawId, at = now.UtcDateTime }, tx));
            return pot;
        }

        var places = RaffleMath.Draw([.. holders.Select(h => (h.BrandId, h.PlayerId, h.Tickets))], pool, raffle.Raffle.Prizes!, raffle.Currency, random);
        var byPlayer = holders.ToDictionary(h => (h.BrandId, h.PlayerId));
        var defaults = CurrencyEndpoints.LoadAsync(conn, tx, "", CancellationToken.None).GetAwaiter().GetResult()!;
        var paid = 0m;
        var records = new List<(RafflePlace Place, Guid PayoutId, string PlayerCurrency, decimal PlayerAmount)>();
        foreach (var brandPlaces in places.Where(p => p.Prize > 0m).GroupBy(p => p.BrandId))
        {
            var brandId = brandPlaces.Key;
            var set = CurrencyEndpoints.Effective(defaults, CurrencyEndpoints.LoadAsync(conn, tx, brandId, CancellationToken.None).GetAwaiter().GetResult());
            var integrated = conn.ExecuteScalar<bool>(new CommandDefinition(Contributions.WalletDebits.WalletIntegrationSql, new { brandId }, tx));
            var batchId = Guid.CreateVersion7();
            var items = new List<BatchCredit>();
            var winners = new List<PayoutRecord>();
            var placesWon = new List<RafflePlaceWon>();
            foreach (var place in brandPlaces)
            {
                var currency = byPlayer[(place.BrandId, place.PlayerId)].PlayerCurrency;
                // A currency the brand no longer converts is paid in the jackpot currency.
                if (currency != raffle.Currency && !set.Multipliers.ContainsKey(currency) && currency != set.BaseCurrency) currency = raffle.Currency;
                var playerAmount = Money.RoundDown(set.Convert(place.Prize, raffle.Currency, currency), currency);
                var payoutId = Guid.CreateVersion7();
                conn.Execute(new CommandDefinition("""
                    insert into payouts (id, kind, instance_id, pot_id, draw_id, batch_id, brand_id, player_id, jackpot_currency, amount,
                        player_currency, player_amount, detail, win_withheld, created_at)
                    values (@payoutId, 'raffle', @Id, @PotId, @drawId, @batchId, @BrandId, @PlayerId, @jackpotCurrency, @Prize, @playerCurrency, @playerAmount,
                        cast(@detail as jsonb), @withheld, @at)
                    """, new
                {
                    payoutId, raffle.Id, pot.PotId, drawId, batchId, place.BrandId, place.PlayerId, jackpotCurrency = raffle.Currency, place.Prize,
                    playerCurrency = currency, playerAmount,
                    detail = JsonSerializer.Serialize(new { place = place.Place, tickets = place.Tickets, total_tickets = total }), withheld = !integrated,
                    at = now.UtcDateTime,
                }, tx));
                paid += place.Prize;
                records.Add((place, payoutId, currency, playerAmount));
                items.Add(new BatchCredit(payoutId, TransactionId(payoutId), place.PlayerId, raffle.Currency, place.Prize, currency, playerAmount, pot.PotId));
                winners.Add(new PayoutRecord(place.PlayerId, place.BrandId, currency, playerAmount));
                placesWon.Add(new RafflePlaceWon(place.Place, place.PlayerId, place.BrandId, place.Tickets, place.Prize, payoutId));
            }
            Outbox.EnqueueAsync(tx, new RaffleWon(drawId, raffle.OwnerId, brandId, raffle.Id, raffle.Name, raffle.Currency,
                new CurrencyMultipliers(brandId, set.BaseCurrency, set.Multipliers), now.ToUnixTimeMilliseconds(), winners, !integrated, pot.PotId,
                start, end, total, pool, placesWon)).GetAwaiter().GetResult();
            // Without wallet integration the operator pays its players itself: the payouts stay withheld, owed.
            if (integrated)
                Outbox.SendAsync(tx, CreditBatch.Queue, new CreditBatch(batchId, $"batch-{batchId:N}", CreditBatch.Raffle, raffle.Id,
                    ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(brandId).Org!, brandId, null, items)).GetAwaiter().GetResult();
        }

        // What is not paid (rounding, places without a distinct holder) stays in the pot; then the reseed fund tops it up
        // toward min_reseed_value as after a win, without ever creating money (no seed deficit).
        var value = pot.Value - paid;
        var fund = pot.ReseedFund;
        if (value < raffle.MinReseed)
        {
            var move = Math.Min(fund, raffle.MinReseed - value);
            value += move;
            fund -= move;
        }
        var after = pot with { Value = value, ReseedFund = fund };
        conn.Execute(new CommandDefinition("""
            update pots set value = @Value, reseed_fund = @ReseedFund, version = version + 1, updated_at = @at, last_win_at = @at
            where instance_id = @Id and pot_id = @PotId
            """, new { after.Value, after.ReseedFund, raffle.Id, pot.PotId, at = now.UtcDateTime }, tx));
        conn.Execute(new CommandDefinition("""
            update raffle_draws set status = 'drawn', pool = @pool, paid = @paid, total_tickets = @total, places = cast(@places as jsonb),
                resolved_at = @at where id = @drawId
            """, new
        {
            pool, paid, total, drawId, at = now.UtcDateTime,
            places = JsonSerializer.Serialize(records.Select(r => new
            {
                place = r.Place.Place, brand_id = r.Place.BrandId, player_id = r.Place.PlayerId, tickets = r.Place.Tickets, win_amount = r.Place.Prize,
                player_currency = r.PlayerCurrency, player_win_amount = r.PlayerAmount, payout_id = r.PayoutId,
            })),
        }, tx));
        return after;
    }

    /// <summary>The wallet transaction id of a raffle payout: a pure function of the payout id (design.md §6).</summary>
    public static string TransactionId(Guid payoutId) => $"raffle-{payoutId:N}";

    /// <summary>
    /// Adds the batch's contributions to their players' tickets in the period of <paramref name="now"/> (opening the period's
    /// draw row with its first contribution). Accounts are computed in memory under the instance lock and written absolute.
    /// </summary>
    public static void Accrue(NpgsqlConnection conn, NpgsqlTransaction tx, RaffleInstance raffle, string potId, IReadOnlyList<TicketCost> costs,
        DateTimeOffset now)
    {
        if (costs.Count == 0) return;
        if (RaffleMath.PeriodAt(raffle.Period, raffle.Schedule, raffle.Anchor, now.ToUnixTimeMilliseconds()) is not { } period) return;
        var start = Time.At(period.Start);
        var end = Time.At(period.End);
        conn.Execute(new CommandDefinition("""
            insert into raffle_draws (id, instance_id, pot_id, period_start, period_end) values (@drawId, @instanceId, @potId, @start, @end)
            on conflict (instance_id, period_start) do nothing
            """, new { drawId = Guid.CreateVersion7(), instanceId = raffle.Id, potId, start, end }, tx));
        var players = costs.Select(c => (c.BrandId, c.PlayerId)).Distinct().ToList();
        var accounts = conn.Query<(string BrandId, string PlayerId, long Tickets, decimal Accumulated, decimal Total)>(new CommandDefinition("""
            select t.brand_id, t.player_id, t.ticket_count, t.accumulated_cost, t.total_cost
            from unnest(@brands, @players) k(b, p)
            join raffle_tickets t on t.instance_id = @Id and t.period_start = @start and t.brand_id = k.b and t.player_id = k.p
            """, new { raffle.Id, start, brands = players.Select(p => p.BrandId).ToArray(), players = players.Select(p => p.PlayerId).ToArray() }, tx))
            .ToDictionary(a => (a.BrandId, a.PlayerId), a => new TicketAccount(a.Tickets, a.Accumulated, a.Total));
        var currencies = new Dictionary<(string, string), string>();
        foreach (var c in costs)
        {
            var key = (c.BrandId, c.PlayerId);
            accounts[key] = RaffleMath.Accrue(accounts.GetValueOrDefault(key) ?? new TicketAccount(0, 0m, 0m), c.Cost, raffle.Raffle.TicketPrice!.Value);
            currencies[key] = c.PlayerCurrency;
        }
        var rows = players.Select(p => (p.BrandId, p.PlayerId, Account: accounts[p], Currency: currencies[p])).ToList();
        conn.Execute(new CommandDefinition("""
            insert into raffle_tickets (instance_id, period_start, period_end, brand_id, player_id, player_currency, ticket_count, accumulated_cost,
                total_cost, updated_at)
            select @Id, @start, @end, u.b, u.p, u.c, u.n, u.a, u.t, @at
            from unnest(@brands, @players, @currencies, @tickets, @accumulated, @totals) u(b, p, c, n, a, t)
            on conflict (instance_id, period_start, brand_id, player_id) do update set ticket_count = excluded.ticket_count,
                accumulated_cost = excluded.accumulated_cost, total_cost = excluded.total_cost, player_currency = excluded.player_currency,
                updated_at = excluded.updated_at
            """, new
        {
            raffle.Id, start, end, at = now.UtcDateTime, brands = rows.Select(r => r.BrandId).ToArray(), players = rows.Select(r => r.PlayerId).ToArray(),
            currencies = rows.Select(r => r.Currency).ToArray(), tickets = rows.Select(r => r.Account.Tickets).ToArray(),
            accumulated = rows.Select(r => r.Account.AccumulatedCost).ToArray(), totals = rows.Select(r => r.Account.TotalCost).ToArray(),
        }, tx));
    }
}
