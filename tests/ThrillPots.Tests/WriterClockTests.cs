using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillPots.Contributions;
using ThrillPots.Engine;
using ThrillSuite.Data.Migrations;
using ThrillSuite.Testing;

namespace ThrillPots.Tests;

/// <summary>
/// ThrillPots' real contribution engine and instance writer, in this process on a real PostgreSQL database with ThrillPots'
/// migrations, driven by clocks the test sets. The raffle boundary to the millisecond (issue 8): a ticket bought at the
/// last millisecond of a period is that period's and takes part in its draw; one bought at the period's end belongs to the
/// next. (The service's integration tests show the same with the real clock, but cannot pin a contribution to one
/// millisecond.) And the ledger's time never goes back per instance, whatever a replica's clock says, so contributor totals
/// folded up to a mark never miss a row.
/// </summary>
[NonParallelizable]
public class WriterClockTests
{
    static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    const long PeriodMs = 10_000;

    sealed class SetClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>The host's lifetime as the engine sees it: never stopping during the test.</summary>
    sealed class Running : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }

    string database = null!;
    NpgsqlDataSource db = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync()
    {
        var connectionString = TestEnvironment.UniqueDatabase("tp_raffle_ms", out database);
        await MigrationRunner.MigrateAsync(connectionString, MigrationRunner.Load(typeof(ContributionEngine).Assembly), NullLogger.Instance,
            CancellationToken.None);
        db = NpgsqlDataSource.Create(connectionString);
    }

    [OneTimeTearDown]
    public async Task DropDatabaseAsync()
    {
        await db.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
    }

    /// <summary>A published raffle of 10-second periods from <see cref="Start"/>: one pot "pool" taking 0.8 of every Fixed 0.3 EUR
    /// contribution, a ticket per 0.1 of contribution, one prize of the whole pool.</summary>
    async Task<Guid> RaffleAsync()
    {
        await using var c = await db.OpenConnectionAsync();
        await c.ExecuteAsync("""
            insert into operators (id, name) values ('tpa', 'Operator A') on conflict do nothing;
            insert into brands (operator_id, id, name) values ('tpa', 'b1', 'Brand 1') on conflict do nothing;
            """);
        var templateId = Guid.NewGuid();
        var instanceId = Guid.NewGuid();
        await c.ExecuteAsync("""
            insert into templates (id, owner_id, name, currency, jackpot_type, definition, published_at)
            values (@templateId, 'tpa', 'Raffle', 'EUR', 'Raffle', cast(@definition as jsonb), now());
            insert into instances (id, template_id, owner_id, name, currency, state, allowed_brands, start_at)
            values (@instanceId, @templateId, 'tpa', 'Raffle', 'EUR', 'Active', '{tpa:b1}', @start);
            insert into pots (instance_id, pot_id, position, initial_seed, value) values (@instanceId, 'pool', 0, 0, 0);
            """, new { templateId, instanceId, start = Start.UtcDateTime, definition = """
            {
              "name": "Raffle", "owner_id": "tpa", "currency": "EUR", "jackpot_type": "Raffle",
              "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.3 }, "operator_contribution_percentage": 0 },
              "house_hold_contribution": { "Percentage": 0.2 },
              "win_selector_strategy": "Highest",
              "raffle": { "ticket_price": 0.1, "ticket_basis": "Contribution", "period": { "Seconds": 10 }, "prizes": [1] },
              "pots": [
                { "id": "pool", "contribution": { "Percentage": 0.8 }, "seed_contribution": { "Percentage": 0 },
                  "seed_strategy": { "initial_seed_value": 0, "min_reseed_value": 0, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
                  "is_progressive": true, "pot_types": [] }
              ]
            }
            """ });
        return instanceId;
    }

    ContributionEngine Engine(TimeProvider clock, WriterOptions? options = null) => new(db, CryptoRandomSource.Instance,
        Options.Create(options ?? new WriterOptions()), NullLogger<ContributionEngine>.Instance, new Running(), clock);

    static Contribution By(string player, string round) => new("tpa:b1", player, round, "MT", "EUR", 1m, null, null, null);

    [Test]
    public async Task A_ticket_bought_in_the_last_millisecond_of_a_period_is_drawn_in_that_period()
    {
        var instance = await RaffleAsync();
        var clock = new SetClock(Start.AddMilliseconds(PeriodMs - 1));
        var engine = Engine(clock);

        // 09.999 s: the last millisecond of the first period [0 s, 10 s).
        var last = await engine.SubmitAsync(instance, By("last-ms", "r1"));
        Assert.That(last.Outcome, Is.EqualTo(Outcomes.Accepted), last.Detail);
        // 10.000 s: the second period's first millisecond. The writer draws the first period before applying it.
        clock.Now = Start.AddMilliseconds(PeriodMs);
        var next = await engine.SubmitAsync(instance, By("next-period", "r2"));
        Assert.That(next.Outcome, Is.EqualTo(Outcomes.Accepted), next.Detail);

        await using var c = await db.OpenConnectionAsync();
        var tickets = (await c.QueryAsync<(string Player, DateTime Start, DateTime End, long Tickets)>("""
            select player_id, period_start, period_end, ticket_count from raffle_tickets where instance_id = @instance order by period_start
            """, new { instance })).ToList();
        Assert.That(tickets, Is.EqualTo(new[]
        {
            ("last-ms", Start.UtcDateTime, Start.AddMilliseconds(PeriodMs).UtcDateTime, 3L),
            ("next-period", Start.AddMilliseconds(PeriodMs).UtcDateTime, Start.AddMilliseconds(2 * PeriodMs).UtcDateTime, 3L),
        }));

        var draws = (await c.QueryAsync<(DateTime Start, string Status, long? Tickets, decimal? Pool)>("""
            select period_start, status, total_tickets, pool from raffle_draws where instance_id = @instance order by period_start
            """, new { instance })).ToList();
        Assert.That(draws[0], Is.EqualTo((Start.UtcDateTime, "drawn", (long?)3, (decimal?)0.24m)), "the first period drawn with the last millisecond's tickets");
        Assert.That(draws.Count(d => d.Status != "open"), Is.EqualTo(1), "only the first period is drawn; the second is still open");
        var winner = await c.QuerySingleAsync<(string Player, decimal Amount)>(
            "select player_id, amount from payouts where instance_id = @instance and kind = 'raffle'", new { instance });
        Assert.That(winner, Is.EqualTo(("last-ms", 0.24m)), "the only ticket holder of the first period wins its whole pool");
        // The second period's pool holds only the second contribution's share: nothing crossed the boundary.
        Assert.That(await c.ExecuteScalarAsync<decimal>("select value from pots where instance_id = @instance", new { instance }), Is.EqualTo(0.24m));
    }

    [Test]
    public async Task A_replica_whose_clock_is_behind_writes_after_the_latest_ledger_row_and_folds_miss_nothing()
    {
        var instance = await RaffleAsync();
        // Two replicas folding in every batch; the second's clock is an hour behind the first's.
        var folding = new WriterOptions { TotalsLag = TimeSpan.Zero, TotalsInterval = TimeSpan.Zero };
        var ahead = Engine(new SetClock(Start.AddSeconds(1)), folding);
        var behind = Engine(new SetClock(Start.AddSeconds(1).AddHours(-1)), folding);

        foreach (var (engine, round) in new[] { (ahead, "r1"), (behind, "r2"), (behind, "r3"), (ahead, "r4"), (behind, "r5") })
        {
            var result = await engine.SubmitAsync(instance, By("p", round));
            Assert.That(result.Outcome, Is.EqualTo(Outcomes.Accepted), result.Detail);
        }

        await using var c = await db.OpenConnectionAsync();
        var times = (await c.QueryAsync<DateTime>("select created_at from contributions where instance_id = @instance order by gameround_id",
            new { instance })).ToList();
        var first = Start.AddSeconds(1).UtcDateTime;
        Assert.That(times, Is.EqualTo(new[] { first, first.AddTicks(10), first.AddTicks(20), first.AddTicks(30), first.AddTicks(40) }),
            "each batch 1 µs after the latest row: the clock an hour behind never writes before it, nor does the one ahead");
        var (count, mark) = await c.QuerySingleAsync<(long, DateTime)>("""
            select t.contributions, i.totals_through from instances i join contributors t on t.instance_id = i.id where i.id = @instance
            """, new { instance });
        Assert.That((count, mark), Is.EqualTo((4L, first.AddTicks(30))), "the last batch folded the four rows before it");
    }
}
