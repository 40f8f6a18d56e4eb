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
/// millisecond.) The ledger's time never goes back per instance, whatever a replica's clock says and however long it waited
/// for the instance's lock, so contributor totals folded up to a mark never miss a row. And the folds (TotalsFolder) run
/// beside the writer: a fold in progress holds no contribution, and a fold that raced another keeps nothing.
/// </summary>
[NonParallelizable]
public class InProcessWriterTests
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

    string database = null!, connectionString = null!;
    NpgsqlDataSource db = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync()
    {
        connectionString = TestEnvironment.UniqueDatabase("tp_raffle_ms", out database);
        await MigrationRunner.MigrateAsync(connectionString, MigrationRunner.Load(typeof(ContributionEngine).Assembly), NullLogger.Instance,
            CancellationToken.None);
        db = NpgsqlDataSource.Create(connectionString);
    }

    [OneTimeTearDown]
    public async Task DropDatabaseAsync()
    {
        foreach (var folder in folders) await folder.StopAsync(CancellationToken.None);
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
            insert into instances (id, template_id, owner_id, name, currency, state, allowed_brands, start_at, totals_through)
            values (@instanceId, @templateId, 'tpa', 'Raffle', 'EUR', 'Active', '{tpa:b1}', @start, @start);
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

    /// <summary>An engine as a replica runs it, with its own totals folder (started here, stopped at the end).</summary>
    ContributionEngine Engine(TimeProvider clock, WriterOptions? options = null)
    {
        var settings = Options.Create(options ?? new WriterOptions());
        var folder = new TotalsFolder(db, settings, NullLogger<TotalsFolder>.Instance);
        folders.Add(folder);
        folder.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        return new(db, CryptoRandomSource.Instance, settings, NullLogger<ContributionEngine>.Instance, new Running(), clock, folder);
    }

    readonly List<TotalsFolder> folders = [];

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
        // Two replicas, each folding after every batch; the second's clock is an hour behind the first's.
        var ahead = Engine(new SetClock(Start.AddSeconds(1)), Folding);
        var behind = Engine(new SetClock(Start.AddSeconds(1).AddHours(-1)), Folding);

        foreach (var (engine, round) in new[] { (ahead, "r1"), (behind, "r2"), (behind, "r3"), (ahead, "r4"), (behind, "r5") })
            Accepted(await engine.SubmitAsync(instance, By("p", round)));

        await using var c = await db.OpenConnectionAsync();
        var times = (await c.QueryAsync<DateTime>("select created_at from contributions where instance_id = @instance order by gameround_id",
            new { instance })).ToList();
        var first = Start.AddSeconds(1).UtcDateTime;
        Assert.That(times, Is.EqualTo(new[] { first, first.AddTicks(10), first.AddTicks(20), first.AddTicks(30), first.AddTicks(40) }),
            "each batch 1 µs after the latest row: the clock an hour behind never writes before it, nor does the one ahead");
        // The replicas' folders raced over the same instance; the last fold reaches the last row and has counted each row once.
        var (count, _) = await FoldedAsync(instance, first.AddTicks(40));
        Assert.That(count, Is.EqualTo(5L));
    }

    [Test]
    public async Task A_batch_that_waited_for_another_replicas_lock_writes_after_that_replicas_rows()
    {
        var instance = await RaffleAsync();
        // The other replica's batch, holding the instance's lock: a ledger row a day after this replica's clock.
        var later = Start.AddDays(1).UtcDateTime;
        await using var other = await db.OpenConnectionAsync();
        await using var tx = await other.BeginTransactionAsync();
        await other.ExecuteAsync("select 1 from instances where id = @instance for update", new { instance }, tx);
        await other.ExecuteAsync("""
            insert into contributions (id, instance_id, brand_id, player_id, gameround_id, request_hash, player_currency, base_wager, value,
                player_value, base_currency, player_multiplier, jackpot_multiplier, house_share, pot_shares, created_at)
            values (gen_random_uuid(), @instance, 'tpa:b1', 'other', 'r-other', '\x00', 'EUR', 1, 0, 0, 'EUR', 1, 1, 0, '{0}', @later)
            """, new { instance, later }, tx);

        var submitted = Engine(new SetClock(Start.AddSeconds(1))).SubmitAsync(instance, By("p", "r1"));
        await Eventually.TrueAsync(async () => await WaitingForLocksAsync() > 0, TimeSpan.FromSeconds(30), "the writer to wait for the instance's lock");
        await tx.CommitAsync();
        Accepted(await submitted.WaitAsync(TimeSpan.FromSeconds(30)));

        var written = await other.ExecuteScalarAsync<DateTime>("select created_at from contributions where instance_id = @instance and gameround_id = 'r1'",
            new { instance });
        Assert.That(written, Is.EqualTo(later.AddTicks(10)), "read before the lock, the latest row would have been missed and r1 written a day before it");
    }

    [Test]
    public async Task A_fold_in_progress_holds_neither_the_writer_nor_the_instances_contributions()
    {
        var instance = await TwoUnfoldedRowsAsync();

        // A fold in progress: its lock taken, p's and q's totals upserted and locked, the mark not moved yet.
        await using var folding = await db.OpenConnectionAsync();
        await using var tx = await folding.BeginTransactionAsync();
        await folding.ExecuteAsync(Positional(TotalsFolder.Lock), new { p1 = instance }, tx);
        var (mark, latest) = await folding.QuerySingleAsync<(DateTime, DateTime)>(Positional(TotalsFolder.Probe), new { p1 = instance }, tx);
        Assert.That((mark, latest), Is.EqualTo((Start.UtcDateTime, Start.AddSeconds(1).AddTicks(10).UtcDateTime)));
        await folding.ExecuteAsync(Positional(TotalsFolder.FoldTotals), new { p1 = instance, p2 = mark, p3 = latest }, tx);

        // Meanwhile contributions of both players commit through a writer that asks for a fold after every batch; its fold
        // waits for the one in progress.
        var writer = Engine(new SetClock(Start.AddSeconds(3)), Folding);
        Accepted(await writer.SubmitAsync(instance, By("p", "r3")).WaitAsync(TimeSpan.FromSeconds(30)));
        Accepted(await writer.SubmitAsync(instance, By("q", "r4")).WaitAsync(TimeSpan.FromSeconds(30)));
        await Eventually.TrueAsync(async () => await WaitingForLocksAsync() > 0, TimeSpan.FromSeconds(30), "the writer's fold to wait");

        // The fold in progress ends; the waiting one folds what came after it.
        Assert.That(await folding.ExecuteAsync(Positional(TotalsFolder.MoveMark), new { p1 = instance, p2 = mark, p3 = latest }, tx), Is.EqualTo(1));
        await tx.CommitAsync();
        Assert.That((await FoldedAsync(instance, Start.AddSeconds(3).AddTicks(10).UtcDateTime)).Count, Is.EqualTo(4L));
    }

    [Test]
    public async Task A_fold_that_raced_another_over_the_same_rows_keeps_nothing()
    {
        var instance = await TwoUnfoldedRowsAsync();

        // Another fold of the same rows that does not take the fold's lock (a replica of the version that folded in its writer,
        // during a rolling upgrade): its totals upserted, not committed.
        await using var first = await db.OpenConnectionAsync();
        await using var tx = await first.BeginTransactionAsync();
        var (mark, latest) = (Start.UtcDateTime, Start.AddSeconds(1).AddTicks(10).UtcDateTime);
        await first.ExecuteAsync(Positional(TotalsFolder.FoldTotals), new { p1 = instance, p2 = mark, p3 = latest }, tx);

        // This fold aggregates the same rows and waits for the first's totals rows; the first then moves the mark and commits.
        await using var second = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "second-fold" }.ConnectionString);
        var folded = TotalsFolder.FoldAsync(second, instance, TimeSpan.Zero, CancellationToken.None);
        await Eventually.TrueAsync(async () => await WaitingForLocksAsync("second-fold") > 0, TimeSpan.FromSeconds(30), "the second fold to wait");
        Assert.That(await first.ExecuteAsync(Positional(TotalsFolder.MoveMark), new { p1 = instance, p2 = mark, p3 = latest }, tx), Is.EqualTo(1));
        await tx.CommitAsync();

        Assert.That(await folded.WaitAsync(TimeSpan.FromSeconds(30)), Is.False, "the mark was no longer the one it folded from");
        var (count, _) = await FoldedAsync(instance, latest);
        Assert.That(count, Is.EqualTo(2L), "each row counted once");
    }

    /// <summary>A raffle instance with two ledger rows, p's at 1 s and q's 1 µs later, within a minute of its mark (its start): the
    /// default options fold neither.</summary>
    async Task<Guid> TwoUnfoldedRowsAsync()
    {
        var instance = await RaffleAsync();
        var engine = Engine(new SetClock(Start.AddSeconds(1)));
        Accepted(await engine.SubmitAsync(instance, By("p", "r1")));
        Accepted(await engine.SubmitAsync(instance, By("q", "r2")));
        return instance;
    }

    static readonly WriterOptions Folding = new() { TotalsLag = TimeSpan.Zero, TotalsInterval = TimeSpan.Zero };

    static void Accepted(Contributions.ContributionResult result) => Assert.That(result.Outcome, Is.EqualTo(Outcomes.Accepted), result.Detail);

    /// <summary>A statement with $1, $2, $3 for Dapper's @p1, @p2, @p3.</summary>
    static string Positional(string sql) => sql.Replace("$1", "@p1").Replace("$2", "@p2").Replace("$3", "@p3");

    /// <summary>Backends of this database (of <paramref name="application"/>, if given) waiting for a lock.</summary>
    async Task<long> WaitingForLocksAsync(string? application = null)
    {
        await using var c = await db.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("""
            select count(*) from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and (@application::text is null or application_name = @application)
            """, new { application });
    }

    /// <summary>
    /// Awaits the instance's mark reaching <paramref name="mark"/>; then the totals must be exactly the ledger up to it. Returns
    /// the totals' count of contributions and the mark.
    /// </summary>
    async Task<(long Count, DateTime Mark)> FoldedAsync(Guid instance, DateTime mark)
    {
        await using var c = await db.OpenConnectionAsync();
        await Eventually.TrueAsync(async () => await c.ExecuteScalarAsync<DateTime>("select totals_through from instances where id = @instance",
            new { instance }) >= mark, TimeSpan.FromSeconds(30), $"the mark to reach {mark:O}");
        var (folded, ledger, moved) = await c.QuerySingleAsync<(long, long, DateTime)>("""
            select (select coalesce(sum(contributions), 0) from contributors where instance_id = i.id),
                   (select count(*) from contributions where instance_id = i.id and created_at <= i.totals_through), i.totals_through
            from instances i where i.id = @instance
            """, new { instance });
        Assert.That((folded, moved), Is.EqualTo((ledger, mark)), "the totals are the ledger up to the mark");
        return (folded, moved);
    }
}
