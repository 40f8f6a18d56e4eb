using Dapper;
using Npgsql;
using ThrillSuite.Contracts.Pots;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// Raffles (spec §9, design.md §4) on a real ThrillPots, PostgreSQL and RabbitMQ: tickets accrued by the writer in the
/// period of its batch time, periods drawn by the writer at their end (weighted by tickets, one place per player),
/// payouts with RaffleWinEvent and CreditBatch commands, reconciliation, ticket queries.
/// </summary>
[NonParallelizable]
public class RaffleTests
{
    /// <summary>One pot "pool" taking 0.8 of every contribution of Fixed 0.3 EUR (no reseed share, no trigger).</summary>
    public static JsonObject Template(string period, decimal price = 0.5m, string basis = "Contribution", string prizes = "[0.5, 0.3, 0.2]") => JsonNode.Parse($$"""
        {
          "name": "Raffle test", "owner_id": "tpa", "currency": "EUR", "jackpot_type": "Raffle",
          "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.3 }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.2 },
          "win_selector_strategy": "Highest",
          "raffle": { "ticket_price": {{price}}, "ticket_basis": "{{basis}}", "period": {{period}}, "prizes": {{prizes}} },
          "pots": [
            { "id": "pool", "contribution": { "Percentage": 0.8 }, "seed_contribution": { "Percentage": 0 },
              "seed_strategy": { "initial_seed_value": 0, "min_reseed_value": 0, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null, "pot_types": [] }
          ]
        }
        """)!.AsObject();

    static NpgsqlConnection Db() => new(Servers.PotsDatabase);

    sealed record TicketRow(DateTime PeriodStart, DateTime PeriodEnd, string BrandId, string PlayerId, long TicketCount, decimal AccumulatedCost, decimal TotalCost);
    sealed record DrawRow(Guid Id, DateTime PeriodStart, DateTime PeriodEnd, string Status, decimal? Pool, decimal? Paid, long? TotalTickets);
    sealed record PayoutRow(Guid Id, Guid DrawId, Guid BatchId, string BrandId, string PlayerId, decimal Amount, string PlayerCurrency, decimal PlayerAmount,
        bool WinWithheld, string Detail);

    static async Task<List<TicketRow>> TicketsAsync(Jackpot j)
    {
        await using var c = Db();
        return [.. await c.QueryAsync<TicketRow>("""
            select period_start as PeriodStart, period_end as PeriodEnd, brand_id as BrandId, player_id as PlayerId, ticket_count as TicketCount,
                   accumulated_cost as AccumulatedCost, total_cost as TotalCost
            from raffle_tickets where instance_id = @id order by period_start, brand_id, player_id
            """, new { id = j.Guid })];
    }

    static async Task<List<DrawRow>> DrawsAsync(Jackpot j)
    {
        await using var c = Db();
        return [.. await c.QueryAsync<DrawRow>("""
            select id as Id, period_start as PeriodStart, period_end as PeriodEnd, status as Status, pool as Pool, paid as Paid, total_tickets as TotalTickets
            from raffle_draws where instance_id = @id order by period_start
            """, new { id = j.Guid })];
    }

    static async Task<List<PayoutRow>> PayoutsAsync(Jackpot j)
    {
        await using var c = Db();
        return [.. await c.QueryAsync<PayoutRow>("""
            select id as Id, draw_id as DrawId, batch_id as BatchId, brand_id as BrandId, player_id as PlayerId, amount as Amount,
                   player_currency as PlayerCurrency, player_amount as PlayerAmount, win_withheld as WinWithheld, detail::text as Detail
            from payouts where instance_id = @id and kind = 'raffle'
            """, new { id = j.Guid })];
    }

    static async Task ContributeAsync(Jackpot j, string player, int times, string brand = "tpa:b1", decimal wager = 1m)
    {
        for (var i = 0; i < times; i++)
            (await Jackpots.ContributeAsync(Jackpots.Body(j, player: player, brand: brand, wager: wager))).Expect(HttpStatusCode.OK);
    }

    [Test]
    public async Task Tickets_accrue_with_the_remainder_kept_and_the_operator_api_lists_them()
    {
        var raffle = await SchedulingTests.InstantiateAsync(null, Template("""{"Minutes": 30}""", prizes: "[1]"));
        string p1 = Fixtures.Unique("p"), p2 = Fixtures.Unique("p"), p3 = Fixtures.Unique("p");
        await ContributeAsync(raffle, p1, 3);              // 0.9 → 1 ticket, 0.4 toward the next
        await ContributeAsync(raffle, p2, 1);              // 0.3 → none yet
        await ContributeAsync(raffle, p3, 4, "tpa:b2");    // 1.2 → 2 tickets, 0.2 left

        var rows = await TicketsAsync(raffle);
        Assert.That(rows.Select(r => (r.PlayerId, r.TicketCount, r.AccumulatedCost, r.TotalCost)), Is.EquivalentTo(new[]
        {
            (p1, 1L, 0.4m, 0.9m), (p2, 0L, 0.3m, 0.3m), (p3, 2L, 0.2m, 1.2m),
        }));
        Assert.That(rows.Select(r => r.PeriodStart).Distinct().Count(), Is.EqualTo(1));
        Assert.That(rows[0].PeriodEnd - rows[0].PeriodStart, Is.EqualTo(TimeSpan.FromMinutes(30)));

        var list = (await Servers.Pots.GetAsync($"/jackpots/instances/{raffle.Id}/raffle/tickets", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(list.GetProperty("total").GetInt64(), Is.EqualTo(3));
        Assert.That(list.GetProperty("timestamp_start").GetInt64(), Is.EqualTo(new DateTimeOffset(rows[0].PeriodStart, TimeSpan.Zero).ToUnixTimeMilliseconds()));
        var tickets = list.GetProperty("tickets").EnumerateArray().ToList();
        Assert.That(tickets.Select(t => t.GetProperty("player_id").GetString()), Is.EqualTo(new[] { p3, p1, p2 }), "most tickets first by default");
        var first = tickets[0];
        Assert.That(first.GetProperty("instance_id").GetString(), Is.EqualTo(raffle.Id));
        Assert.That(first.GetProperty("brand_id").GetString(), Is.EqualTo("tpa:b2"));
        Assert.That(first.GetProperty("ext_player_id").GetString(), Is.EqualTo(p3));
        Assert.That(first.GetProperty("ticket_count").GetInt64(), Is.EqualTo(2));
        Assert.That(decimal.Parse(first.GetProperty("accumulated_cost").GetString()!, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(0.2m));
        Assert.That(first.GetProperty("timestamp_end").GetInt64() - first.GetProperty("timestamp_start").GetInt64(), Is.EqualTo(1_800_000));

        var byPlayer = (await Servers.Pots.GetAsync($"/jackpots/instances/{raffle.Id}/raffle/tickets?brand_id=tpa:b1&sort_field=player_id&sort_direction=1",
            Servers.OperatorA)).Expect(HttpStatusCode.OK).Json.GetProperty("tickets").EnumerateArray().Select(t => t.GetProperty("player_id").GetString());
        Assert.That(byPlayer, Is.EqualTo(new[] { p1, p2 }.Order(StringComparer.Ordinal)));
        var page2 = (await Servers.Pots.GetAsync($"/jackpots/instances/{raffle.Id}/raffle/tickets?page=2&limit=1", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(page2.GetProperty("tickets").EnumerateArray().Single().GetProperty("player_id").GetString(), Is.EqualTo(p1));

        var mine = (await Servers.Pots.GetAsync($"/jackpots/instances/{raffle.Id}/raffle/tickets/brand/tpa:b1/{p1}", Servers.BrandB1)).Expect(HttpStatusCode.OK).Json;
        Assert.That(mine.EnumerateArray().Single().GetProperty("ticket_count").GetInt64(), Is.EqualTo(1));
        var across = (await Servers.Pots.GetAsync($"/jackpots/instances/raffle/tickets/brand/tpa:b2/{p3}", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(across.EnumerateArray().Select(t => (t.GetProperty("instance_id").GetString(), t.GetProperty("ticket_count").GetInt64())),
            Is.EqualTo(new[] { (raffle.Id, 2L) }));
        Assert.That((await Servers.Pots.GetAsync($"/jackpots/instances/raffle/tickets/brand/tpa:b1/{Fixtures.Unique("nobody")}", Servers.OperatorA))
            .Expect(HttpStatusCode.OK).Json.GetArrayLength(), Is.Zero);

        // Bad input: 400 naming the field; not a raffle or unknown: 404; another operator, or a brand account for another brand: 403.
        var path = $"/jackpots/instances/{raffle.Id}/raffle/tickets";
        (await Servers.Pots.GetAsync(path + "?sort_direction=2", Servers.OperatorA)).ExpectInvalid("sort_direction");
        (await Servers.Pots.GetAsync(path + "?sort_field=secret", Servers.OperatorA)).ExpectInvalid("sort_field");
        (await Servers.Pots.GetAsync(path + "?page=0", Servers.OperatorA)).ExpectInvalid("page");
        (await Servers.Pots.GetAsync(path + "?limit=5000", Servers.OperatorA)).ExpectInvalid("limit");
        (await Servers.Pots.GetAsync(path + "?brand_id=b1", Servers.OperatorA)).ExpectInvalid("brand_id");
        (await Servers.Pots.GetAsync("/jackpots/instances/not-a-uuid/raffle/tickets", Servers.OperatorA)).ExpectInvalid("instance_id");
        (await Servers.Pots.GetAsync($"/jackpots/instances/raffle/tickets/brand/tpa/{p1}", Servers.OperatorA)).ExpectInvalid("brand_id");
        (await Servers.Pots.GetAsync($"/jackpots/instances/{Guid.NewGuid()}/raffle/tickets", Servers.OperatorA)).ExpectProblem(HttpStatusCode.NotFound);
        var jackpot = await SchedulingTests.InstantiateAsync(null);
        (await Servers.Pots.GetAsync($"/jackpots/instances/{jackpot.Id}/raffle/tickets", Servers.OperatorA)).ExpectProblem(HttpStatusCode.NotFound);
        (await Servers.Pots.GetAsync(path, Servers.OperatorB)).ExpectProblem(HttpStatusCode.Forbidden);
        (await Servers.Pots.GetAsync(path + "?brand_id=tpa:b2", Servers.BrandB1)).ExpectProblem(HttpStatusCode.Forbidden);
        (await Servers.Pots.GetAsync(path, null)).Expect(HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task The_base_wager_basis_converts_the_wager_to_the_jackpot_currency()
    {
        var raffle = await SchedulingTests.InstantiateAsync(null, Template("""{"Hours": 1}""", price: 1m, basis: "BaseWager", prizes: "[1]"));
        var player = Fixtures.Unique("p");
        var body = Jackpots.Body(raffle, player: player, wager: 5.5m, currency: "USD"); // 5.5 USD = 5 EUR at 1.1
        (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK);
        (await Jackpots.ContributeAsync(Jackpots.Body(raffle, player: player, wager: 0.55m, currency: "USD"))).Expect(HttpStatusCode.OK);
        var row = (await TicketsAsync(raffle)).Single();
        Assert.That((row.TicketCount, row.AccumulatedCost, row.TotalCost), Is.EqualTo((5L, 0.5m, 5.5m)));
    }

    [Test]
    public async Task Each_period_is_drawn_at_its_end_by_tickets_paying_each_player_once_and_every_contribution_counts_in_its_period()
    {
        var raffle = await SchedulingTests.InstantiateAsync(null, Template("""{"Seconds": 1}"""));
        var players = Enumerable.Range(0, 4).Select(_ => Fixtures.Unique("p")).ToArray();
        var broke = Fixtures.Unique("p");
        // Contributions from several players at once for about three seconds: many batches, several period boundaries.
        var until = DateTime.UtcNow.AddSeconds(3);
        await Task.WhenAll(players.Select((p, i) => Task.Run(async () =>
        {
            while (DateTime.UtcNow < until) await ContributeAsync(raffle, p, 1 + i);
        })));
        await ContributeAsync(raffle, broke, 1); // 0.3: never a ticket, never a winner

        // Every period with contributions is drawn once it has ended (the ticker nudges the writer).
        var draws = await Eventually.ValueAsync(async () =>
        {
            var all = await DrawsAsync(raffle);
            return all.Count >= 3 && all.All(d => d.Status != "open") ? all : null;
        }, TimeSpan.FromSeconds(20), "every period drawn");
        Assert.That(draws.Select(d => d.PeriodEnd - d.PeriodStart), Is.All.EqualTo(TimeSpan.FromSeconds(1)));

        // Each contribution bought its tickets in the period of its batch's time, the last millisecond included: per player and
        // period, the ledger's contributions whose time lies in [start, end) add up exactly to the row's cost.
        var tickets = await TicketsAsync(raffle);
        await using (var c = Db())
        {
            var ledger = (await c.QueryAsync<(string PlayerId, decimal Value, DateTime At)>(
                "select player_id, value, created_at from contributions where instance_id = @id", new { id = raffle.Guid })).ToList();
            foreach (var row in tickets)
            {
                var inPeriod = ledger.Where(l => l.PlayerId == row.PlayerId && l.At >= row.PeriodStart && l.At < row.PeriodEnd).Sum(l => l.Value);
                Assert.That(row.TotalCost, Is.EqualTo(inPeriod), $"{row.PlayerId} in [{row.PeriodStart:O}, {row.PeriodEnd:O})");
                Assert.That(row.TicketCount * 0.5m + row.AccumulatedCost, Is.EqualTo(row.TotalCost));
            }
            Assert.That(tickets.Sum(t => t.TotalCost), Is.EqualTo(ledger.Sum(l => l.Value)), "no contribution lost between periods");
            var lastMs = ledger.Count(l => tickets.Any(t => t.PlayerId == l.PlayerId && (t.PeriodEnd - l.At).TotalMilliseconds is > 0 and <= 1));
            TestContext.Out.WriteLine($"{ledger.Count} contributions, {lastMs} in the last millisecond of their period, {draws.Count} periods");
        }

        var payouts = await PayoutsAsync(raffle);
        var events = Events.All<RaffleWon>().Where(e => e.InstanceId == raffle.Guid).ToList();
        foreach (var draw in draws)
        {
            var holders = tickets.Where(t => t.PeriodStart == draw.PeriodStart && t.TicketCount > 0).ToList();
            var paid = payouts.Where(p => p.DrawId == draw.Id).ToList();
            if (holders.Count == 0)
            {
                Assert.That(draw.Status, Is.EqualTo("no_tickets"));
                Assert.That(paid, Is.Empty);
                continue;
            }
            Assert.That(draw.Status, Is.EqualTo("drawn"));
            Assert.That(draw.TotalTickets, Is.EqualTo(holders.Sum(h => h.TicketCount)));
            Assert.That(paid.Select(p => p.PlayerId).Distinct().Count(), Is.EqualTo(paid.Count), "a player wins at most once per draw");
            Assert.That(paid.Count, Is.EqualTo(Math.Min(3, holders.Count)));
            Assert.That(paid.Select(p => p.PlayerId), Is.SubsetOf(holders.Select(h => h.PlayerId)), "only ticket holders win");
            Assert.That(paid.Select(p => p.Amount).Order(), Is.EqualTo(new[] { 0.5m, 0.3m, 0.2m }.Take(paid.Count)
                .Select(f => decimal.Floor(draw.Pool!.Value * f * 100m) / 100m).Order()));
            Assert.That(paid.Sum(p => p.Amount), Is.EqualTo(draw.Paid));
            Assert.That(paid, Is.All.Matches<PayoutRow>(p => p.WinWithheld && p.PlayerCurrency == "EUR" && p.PlayerAmount == p.Amount),
                "tpa:b1 has no wallet integration: withheld, owed");
            var won = await Events.WaitAsync<RaffleWon>(e => e.DrawId == draw.Id, "the draw's RaffleWinEvent");
            Assert.That(won.BrandId, Is.EqualTo("tpa:b1"));
            Assert.That(won.WinWithheld, Is.True);
            Assert.That(won.Winners.Select(w => (w.PlayerId, w.WinAmount)), Is.EquivalentTo(paid.Select(p => (p.PlayerId, p.PlayerAmount))));
            Assert.That(won.Places.Select(p => p.PayoutId), Is.EquivalentTo(paid.Select(p => p.Id)));
            Assert.That(won.PeriodEnd - won.PeriodStart, Is.EqualTo(1000));
        }
        Assert.That(payouts.Select(p => p.PlayerId), Has.None.EqualTo(broke));
        Assert.That(events.Select(e => e.DrawId).Distinct().Count(), Is.EqualTo(events.Count), "one event per brand and draw");

        await using (var c = Db())
            Assert.That(await c.ExecuteScalarAsync<long>(
                "select count(*) from outbox_all where destination = 'thrillgate-credit-batch' and body->>'instanceId' = @id",
                new { id = raffle.Id }), Is.Zero, "no CreditBatch for a brand without wallet integration");
        var report = await Jackpots.ReconcileAsync(raffle);
        Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, report.ToString());
        Assert.That(report.GetProperty("pots")[0].GetProperty("wins").GetDecimal(), Is.EqualTo(payouts.Sum(p => p.Amount)));
    }

    [Test]
    public async Task A_one_time_scheduled_raffle_resolves_at_its_end_and_credits_wallet_brands_in_one_batch_each()
    {
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var raffle = await SchedulingTests.InstantiateAsync(new { timestamp_start = start, timestamp_end = start + 12_000 },
            Template("\"Schedule\"", prizes: "[0.7, 0.3]"));
        // tpa:b2's players are the reference wallet's (zero balance), so ThrillGate can pay their prizes.
        await WalletIntegrationTests.EnsureWalletAsync();
        string b1 = Fixtures.Unique("p"), b2a = (await WalletIntegrationTests.PlayerAsync(0m)).Player, b2b = (await WalletIntegrationTests.PlayerAsync(0m)).Player;
        await Task.WhenAll(ContributeAsync(raffle, b1, 2), ContributeAsync(raffle, b2a, 4, "tpa:b2"), ContributeAsync(raffle, b2b, 2, "tpa:b2"));
        // Only tickets of tpa:b2 beyond one player each: both places go to distinct players, at least one of tpa:b2.
        await WalletIntegrationTests.SetIntegrationAsync(true);
        try
        {
            await Eventually.TrueAsync(async () => (await DrawsAsync(raffle)).SingleOrDefault()?.Status == "drawn", TimeSpan.FromSeconds(30),
                "the raffle drawn at its end");
        }
        finally
        {
            await WalletIntegrationTests.SetIntegrationAsync(false);
        }
        var draw = (await DrawsAsync(raffle)).Single();
        Assert.That(new DateTimeOffset(draw.PeriodStart, TimeSpan.Zero).ToUnixTimeMilliseconds(), Is.EqualTo(start));
        Assert.That(new DateTimeOffset(draw.PeriodEnd, TimeSpan.Zero).ToUnixTimeMilliseconds(), Is.EqualTo(start + 12_000));
        await Eventually.TrueAsync(async () => (await Servers.Pots.GetAsync($"/instances/{raffle.Id}", Servers.OperatorA)).Json
            .GetProperty("state").GetString() == "Terminated", TimeSpan.FromSeconds(10), "Terminated at the schedule's end");

        var payouts = await PayoutsAsync(raffle);
        Assert.That(payouts, Has.Count.EqualTo(2));
        Assert.That(payouts.Select(p => p.PlayerId).Distinct().Count(), Is.EqualTo(2));
        var wallet = payouts.Where(p => p.BrandId == "tpa:b2").ToList();
        Assert.That(wallet, Is.Not.Empty, "b1 holds one ticket of four: one of the two places at least is tpa:b2's");
        Assert.That(wallet, Is.All.Matches<PayoutRow>(p => !p.WinWithheld));
        Assert.That(payouts.Where(p => p.BrandId == "tpa:b1"), Is.All.Matches<PayoutRow>(p => p.WinWithheld));

        // The CreditBatch for tpa:b2 went through the outbox to ThrillGate's queue, one item per payout, ids derived from them.
        await using var c = Db();
        var batches = await Eventually.ValueAsync(async () =>
        {
            var rows = (await c.QueryAsync<(string Body, DateTime? PublishedAt)>(
                "select body::text, published_at from outbox_all where destination = 'thrillgate-credit-batch' and body->>'instanceId' = @id",
                new { id = raffle.Id })).ToList();
            return rows.Count > 0 && rows.All(r => r.PublishedAt is not null) ? rows : null;
        }, TimeSpan.FromSeconds(20), "the CreditBatch published to RabbitMQ");
        var batch = JsonDocument.Parse(batches.Single().Body).RootElement;
        Assert.That(batch.GetProperty("kind").GetString(), Is.EqualTo("raffle"));
        Assert.That(batch.GetProperty("brandId").GetString(), Is.EqualTo("tpa:b2"));
        Assert.That(batch.GetProperty("operatorId").GetString(), Is.EqualTo("tpa"));
        Assert.That(batch.GetProperty("batchId").GetGuid(), Is.EqualTo(wallet[0].BatchId));
        var items = batch.GetProperty("items").EnumerateArray().ToList();
        Assert.That(items.Select(i => i.GetProperty("payoutId").GetGuid()), Is.EquivalentTo(wallet.Select(p => p.Id)));
        Assert.That(items.Select(i => i.GetProperty("transactionId").GetString()), Is.EquivalentTo(wallet.Select(p => $"raffle-{p.Id:N}")));
        Assert.That(items.Select(i => i.GetProperty("amount").GetDecimal()), Is.EquivalentTo(wallet.Select(p => p.Amount)));

        // ThrillGate pays the batch: each tpa:b2 prize paid once, at the wallet, under its own transaction id.
        await Eventually.TrueAsync(async () => (await PayoutStatusesAsync(wallet.Select(p => p.Id))).All(s => s == "paid"), TimeSpan.FromSeconds(30),
            "tpa:b2's raffle prizes paid by ThrillGate");
        foreach (var p in wallet)
        {
            Assert.That(await WalletIntegrationTests.BalanceAsync(p.PlayerId), Is.EqualTo(p.PlayerAmount), $"{p.PlayerId}'s balance");
            var credits = (await WalletIntegrationTests.WalletTransactionsAsync(p.PlayerId))
                .Where(t => t.GetProperty("transaction_id").GetString() == $"raffle-{p.Id:N}").ToList();
            Assert.That(credits, Has.Count.EqualTo(1), $"{p.PlayerId}'s prize credited once");
        }

        var won = await Events.WaitAsync<RaffleWon>(e => e.DrawId == draw.Id && e.BrandId == "tpa:b2", "tpa:b2's RaffleWinEvent");
        Assert.That(won.WinWithheld, Is.False);
        Assert.That(won.JackpotCurrency, Is.EqualTo("EUR"));
        Assert.That(won.TotalTickets, Is.EqualTo(4));
        var report = await Jackpots.ReconcileAsync(raffle);
        Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, report.ToString());
    }

    static async Task<List<string>> PayoutStatusesAsync(IEnumerable<Guid> ids)
    {
        await using var c = Db();
        return (await c.QueryAsync<string>("select payout_status from payouts where id = any(@ids)", new { ids = ids.ToArray() })).ToList();
    }

    [Test]
    public async Task A_recurring_raffle_draws_each_schedule_window_and_refuses_between_them()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var second = (int)(now % 86_400_000 / 1000);
        Assume.That(second, Is.InRange(0, 86_399 - 60), "too close to midnight UTC for windows of today");
        var midnight = now / 86_400_000 * 86_400_000;
        object T(int s) => new { hour = s / 3600, minute = s / 60 % 60, sec = s % 60 };
        // Two windows of four seconds: [s+3, s+7) and [s+10, s+14).
        var (w1, w2) = (second + 3, second + 10);
        var raffle = await SchedulingTests.InstantiateAsync(new
        {
            timestamp_start = midnight, timestamp_end = midnight + 86_400_000,
            recurrence_rules = new[] { new { frequency = new { Daily = new { hours = new[] { new[] { T(w1), T(w1 + 3) }, new[] { T(w2), T(w2 + 3) } } } }, interval = 1 } },
        }, Template("\"Schedule\"", prizes: "[1]"));
        var (p1, p2) = (Fixtures.Unique("p"), Fixtures.Unique("p"));

        async Task InWindowAsync(string player, long opens)
        {
            var early = await Jackpots.ContributeAsync(Jackpots.Body(raffle, player: player));
            if (early.Status != HttpStatusCode.OK)
            {
                Assert.That(early.Json.GetProperty("reason").GetString(), Is.EqualTo("outside_schedule"));
                Assert.That(early.Json.GetProperty("next_open_timestamp").GetInt64(), Is.EqualTo(opens));
            }
            await Eventually.TrueAsync(async () => (await Jackpots.ContributeAsync(Jackpots.Body(raffle, player: player))).Status == HttpStatusCode.OK,
                TimeSpan.FromSeconds(15), "the window to open");
            if (early.Status != HttpStatusCode.OK) await ContributeAsync(raffle, player, 1);
        }
        await InWindowAsync(p1, midnight + w1 * 1000L);
        // Between the windows (no contribution of p2 may land in the first: it would take part in its draw).
        await Eventually.TrueAsync(() => Task.FromResult(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() >= midnight + (w1 + 4) * 1000L),
            TimeSpan.FromSeconds(15), "the first window's end");
        var between = await Jackpots.ContributeAsync(Jackpots.Body(raffle, player: p2));
        Assert.That(between.Status, Is.EqualTo(HttpStatusCode.Conflict), between.Text);
        Assert.That(between.Json.GetProperty("next_open_timestamp").GetInt64(), Is.EqualTo(midnight + w2 * 1000L));
        await InWindowAsync(p2, midnight + w2 * 1000L);

        var draws = await Eventually.ValueAsync(async () => (await DrawsAsync(raffle)) is { Count: 2 } all && all.All(d => d.Status == "drawn") ? all : null,
            TimeSpan.FromSeconds(20), "both windows drawn");
        Assert.That(draws.Select(d => (new DateTimeOffset(d.PeriodStart, TimeSpan.Zero).ToUnixTimeMilliseconds(),
            new DateTimeOffset(d.PeriodEnd, TimeSpan.Zero).ToUnixTimeMilliseconds())), Is.EqualTo(new[]
        {
            (midnight + w1 * 1000L, midnight + (w1 + 4) * 1000L), (midnight + w2 * 1000L, midnight + (w2 + 4) * 1000L),
        }));
        var payouts = await PayoutsAsync(raffle);
        Assert.That(payouts.OrderBy(p => draws.FindIndex(d => d.Id == p.DrawId)).Select(p => p.PlayerId), Is.EqualTo(new[] { p1, p2 }),
            "each window's only ticket holder wins it");
        Assert.That(payouts.Select(p => p.Amount), Is.EqualTo(draws.Select(d => d.Pool!.Value)), "prize [1]: the whole pool (whole cents here)");
        var report = await Jackpots.ReconcileAsync(raffle);
        Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, report.ToString());
    }

    [Test]
    public async Task A_period_without_tickets_is_not_drawn_and_its_pool_carries_over()
    {
        var raffle = await SchedulingTests.InstantiateAsync(null, Template("""{"Seconds": 1}""", price: 100m));
        await ContributeAsync(raffle, Fixtures.Unique("p"), 2);
        var draws = await Eventually.ValueAsync(async () => (await DrawsAsync(raffle)) is { Count: > 0 } all && all.All(d => d.Status != "open") ? all : null,
            TimeSpan.FromSeconds(15), "the periods resolved");
        // The two contributions may fall in one period or two: each period's pool is what was in the pot at its end.
        Assert.That(draws.Select(d => d.Status), Is.All.EqualTo("no_tickets"));
        Assert.That(draws[^1].Pool, Is.EqualTo(0.48m));
        Assert.That(draws[0].Pool, Is.EqualTo(draws.Count == 1 ? 0.48m : 0.24m));
        Assert.That(await PayoutsAsync(raffle), Is.Empty);
        Assert.That((await Jackpots.PotsAsync(raffle))["pool"].Value, Is.EqualTo(0.48m), "the pool stays for the next period");
    }

    [Test]
    public async Task Raffle_templates_and_instances_are_validated()
    {
        var bad = Template("""{"Fortnights": 2}""", price: 0m, basis: "Bet", prizes: "[0.5, 0.6]");
        var reply = (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, bad)).ExpectInvalid("raffle.period");
        reply.ExpectInvalid("raffle.ticket_price").ExpectInvalid("raffle.ticket_basis").ExpectInvalid("raffle.prizes");
        var jackpotWithRaffle = Jackpots.Template();
        jackpotWithRaffle["raffle"] = Template("""{"Seconds": 5}""")["raffle"]!.DeepClone();
        (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, jackpotWithRaffle)).ExpectInvalid("raffle");
        var noRaffle = Template("""{"Seconds": 5}""");
        noRaffle.Remove("raffle");
        (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, noRaffle)).ExpectInvalid("raffle");

        // A raffle drawn per schedule window needs a schedule.
        var templateId = (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, Template("\"Schedule\""))).Expect(HttpStatusCode.Created)
            .Json.GetProperty("id").GetString()!;
        (await Servers.Pots.PostAsync($"/templates/{templateId}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        (await Servers.Pots.PostAsync("/templates/instantiate", Servers.OperatorA, new { template_id = templateId, owner_id = "tpa", allowed_brands = new[] { "tpa:b1" } }))
            .ExpectInvalid("schedule");
    }
}
