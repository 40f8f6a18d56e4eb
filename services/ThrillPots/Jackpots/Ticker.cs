using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Contributions;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Data.Outbox;

namespace ThrillPots.Jackpots;

public sealed class TickerOptions
{
    /// <summary>How often changed instances are announced (design.md §7: at most once a second).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>An unchanged, non-terminated instance is announced again after this long.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Once a second: starts instances whose start time came and terminates those whose end passed (spec §5), publishes a
/// JackpotUpdateEvent through the outbox for every instance that changed since its last one (pot values, state) and a
/// heartbeat for the rest every few seconds, and nudges writers whose MustDropByTime deadline passed. One replica ticks at
/// a time (a transaction-scoped advisory lock); what it announced is recorded in the same transaction as the events.
/// </summary>
public sealed class Ticker(NpgsqlDataSource db, ContributionEngine engine, Microsoft.Extensions.Options.IOptions<TickerOptions> options,
    ILogger<Ticker> logger) : BackgroundService
{
    const long LockKey = 0x7469_636b_6572;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Jackpot ticker failed; trying again next tick");
            }
        }
    }

    public async Task TickAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using (var tx = await c.BeginTransactionAsync(ct))
        {
            if (!await c.ExecuteScalarAsync<bool>(new CommandDefinition("select pg_try_advisory_xact_lock(@LockKey)", new { LockKey }, tx, cancellationToken: ct)))
                return;
            await ScheduleAsync(c, tx, ct);
            var candidates = (await c.QueryAsync<(Guid Id, string State, long Version, long? Published, DateTime? PublishedAt, bool Scheduled,
                string? PublishedStatus)>(new CommandDefinition(Candidates, cancellationToken: ct, transaction: tx))).ToList();
            // A Terminated instance is announced when it changed (its end, its final raffle draw), never as a heartbeat.
            var changed = candidates.Where(r => r.Published != r.Version
                    || r.State != InstanceEndpoints.Terminated && r.PublishedAt < DateTime.UtcNow - options.Value.Heartbeat)
                .Select(r => r.Id).ToHashSet();
            // Scheduled instances are looked at every tick: a window opening or closing is announced at once (status "Closed").
            var statuses = candidates.Where(r => r.Scheduled).ToDictionary(r => r.Id, r => r.PublishedStatus);
            var due = candidates.Where(r => changed.Contains(r.Id) || r.Scheduled).Select(r => r.Id).ToArray();
            if (due.Length > 0)
            {
                foreach (var view in await InstanceViews.LoadAsync(c, tx, due, ct))
                {
                    PotValueGauge.Update(view, options.Value.Heartbeat);
                    var update = Event(view);
                    if (!changed.Contains(view.Id) && statuses.GetValueOrDefault(view.Id) == update.Status) continue;
                    await Outbox.EnqueueAsync(tx, update, ct);
                    await c.ExecuteAsync(new CommandDefinition("""
                        insert into tickers (instance_id, version, published_at, status) values (@Id, @Version, now(), @Status)
                        on conflict (instance_id) do update set version = excluded.version, published_at = excluded.published_at,
                            status = excluded.status
                        """, new { view.Id, view.Version, update.Status }, tx, cancellationToken: ct));
                }
            }
            await tx.CommitAsync(ct);
        }

        var deadlines = await c.QueryAsync<Guid>(new CommandDefinition(Deadlines, new { now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
            cancellationToken: ct));
        foreach (var id in deadlines) _ = engine.TickAsync(id);
        // Raffle periods that ended are drawn by their writer (design.md §4).
        var draws = await c.QueryAsync<Guid>(new CommandDefinition(
            "select distinct instance_id from raffle_draws where status = 'open' and period_end <= now()", cancellationToken: ct));
        foreach (var id in draws) _ = engine.TickAsync(id);
    }

    // Each second's statements read what is live, not every instance ever made: Terminated instances pile up (a daily
    // jackpot leaves 365 a year), and reading them all (the version sum of their pots, for each) cost ≈ 32 ms a second at
    // 5,000 instances. Partial indexes instances_live and instances_ended (migration 0010) serve them; TickerPlanTests
    // checks PostgreSQL's plans against 5,000 instances.

    /// <summary>
    /// Instances to look at: every live one (changed, heartbeat or schedule window), and those that ended in the last day.
    /// A Terminated instance changes only at its end and at its final raffle draw, which the ticker starts within a second
    /// of the end; after a day it is not read again.
    /// </summary>
    internal const string Candidates = """
        select i.id, i.state, i.version + coalesce((select sum(p.version) from pots p where p.instance_id = i.id), 0)::bigint,
               t.version, t.published_at, i.schedule is not null and i.state = 'Active', t.status
        from instances i left join tickers t on t.instance_id = i.id
        where i.state <> 'Terminated' or i.state = 'Terminated' and i.updated_at > now() - interval '1 day'
        """;

    /// <summary>Active instances with a MustDropByTime deadline passed (@now, Unix ms): one probe of each one's pots.</summary>
    internal const string Deadlines = """
        select i.id from instances i
        cross join lateral (select 1 from pots p where p.instance_id = i.id and (p.drops -> 'time' ->> 'deadlineMs')::bigint <= @now limit 1) due
        where i.state = 'Active'
        """;

    /// <summary>Starts the instances whose start time came and ends those whose end passed.</summary>
    internal const string Schedule = """
        with started as (
            update instances set state = 'Active', version = version + 1, updated_at = now()
            where state = 'Pending' and start_at <= now() and (end_at is null or end_at > now())
            returning id, owner_id, 'Pending' as before, 'Active' as after),
        ended as (
            update instances i set state = 'Terminated', version = version + 1, updated_at = now()
            where state in ('Pending', 'Active', 'Paused') and end_at <= now()
            returning id, owner_id, (select state from instances o where o.id = i.id) as before, 'Terminated' as after)
        select * from started union all select * from ended
        """;

    public static JackpotUpdated Event(InstanceView v) => new(v.Id, v.OwnerId, v.Name,
        ThrillPots.Engine.Schedules.Status(v.State, v.Schedule, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), v.JackpotType, v.Currency, v.AllowedBrands,
        v.AllowedSources, [.. v.Pots.Select(p => new PotTicker(p.Id, p.IsProgressive, p.CurrentValue, p.DropCommitments))],
        v.TimestampStart, v.TimestampEnd, v.LastUpdated);

    /// <summary>Pending → Active at the start time, Active/Paused → Terminated at the end time, each audited as the system's act.</summary>
    static async Task ScheduleAsync(NpgsqlConnection c, NpgsqlTransaction tx, CancellationToken ct)
    {
        var changed = await c.QueryAsync<(Guid Id, string OwnerId, string Before, string After)>(new CommandDefinition(Schedule,
            transaction: tx, cancellationToken: ct));
        foreach (var (id, owner, before, after) in changed)
            await c.ExecuteAsync(new CommandDefinition("""
                insert into audit_log (actor_sub, action, resource_type, resource_id, owner_id, before, after)
                values ('system:schedule', 'instance.state', 'instance', @id, @owner, cast(@before as jsonb), cast(@after as jsonb))
                """, new
            {
                id = id.ToString(), owner,
                before = JsonSerializer.Serialize(new { state = before }), after = JsonSerializer.Serialize(new { state = after }),
            }, tx, cancellationToken: ct));
    }
}
