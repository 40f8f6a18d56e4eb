using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillSuite.ServiceDefaults.Hosting;

namespace ThrillPots.Contributions;

/// <summary>
/// Folds an instance's ledger rows into its players' totals (contributors, 0011_contributors.sql) and moves the instance's
/// mark, outside the instance's writer: a writer asks after a commit once the rows after the mark span more than
/// <see cref="WriterOptions.TotalsLag"/> + <see cref="WriterOptions.TotalsInterval"/>, and this folds them on a connection
/// of its own, one instance at a time (a <see cref="PollingService"/> woken by the writers). The fold aggregates and upserts without the instance's lock, then moves the mark in
/// its last statement, so a writer waits for at most that one update and the commit, never for the aggregate (in the
/// writer's batch a fold of 10 s of the benchmark's rows held the instance for 26–40 ms).
/// </summary>
public sealed class TotalsFolder(NpgsqlDataSource db, IOptions<WriterOptions> options, ILogger<TotalsFolder> logger) : PollingService(logger)
{
    readonly WriterOptions o = options.Value;
    // The instances asked for and not folded yet, each once however often it is asked.
    readonly ConcurrentDictionary<Guid, byte> queued = new();

    protected override int RoundSize => 1;
    protected override TimeSpan PollInterval => TimeSpan.FromMinutes(1);

    /// <summary>Called by the writer after it committed ledger rows at <paramref name="latest"/>.</summary>
    internal void Committed(Guid instanceId, DateTime totalsThrough, DateTime latest)
    {
        if (latest - o.TotalsLag <= totalsThrough + o.TotalsInterval || !queued.TryAdd(instanceId, 0)) return;
        Wake();
    }

    /// <summary>Folds one instance asked for; dequeued before folding, so a batch that commits during the fold asks again.</summary>
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        foreach (var instanceId in queued.Keys)
        {
            if (!queued.TryRemove(instanceId, out _)) continue;
            try { await FoldAsync(db, instanceId, o.TotalsLag, ct); }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // Nothing applied; the instance's next batch asks again.
                logger.LogWarning(ex, "Folding the contributor totals of instance {InstanceId} failed", instanceId);
            }
            return 1;
        }
        return 0;
    }

    /// <summary>
    /// Folds the instance's ledger rows after its mark up to <paramref name="lag"/> before its latest row and moves the mark
    /// there, in one transaction, after any other fold of the instance (its lock). False when there was nothing to fold or the
    /// mark moved while this one aggregated (then nothing of it is kept).
    /// </summary>
    public static async Task<bool> FoldAsync(NpgsqlDataSource db, Guid instanceId, TimeSpan lag, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        DateTime mark, latest;
        await using (var probe = new NpgsqlBatch(c, tx)
        {
            BatchCommands =
            {
                // Planned for the ledger as it is now (see InstanceWriter.LatestRow); the pool's connections would settle on generic plans.
                new("set local plan_cache_mode = force_custom_plan"),
                new(Lock) { Parameters = { new() { Value = instanceId } } },
                new(Probe) { Parameters = { new() { Value = instanceId } } },
            },
        })
        await using (var r = await probe.ExecuteReaderAsync(ct))
        {
            // The lock's result (a statement without one, like the set, is skipped by the reader), then the probe's.
            await r.NextResultAsync(ct);
            if (!await r.ReadAsync(ct) || r.IsDBNull(1)) return false;
            (mark, latest) = (r.GetDateTime(0), r.GetDateTime(1));
        }
        var through = latest - lag;
        if (through <= mark) return false;
        await using (var fold = Command(FoldTotals, c, tx, instanceId, mark, through))
            await fold.ExecuteNonQueryAsync(ct);
        await using var move = Command(MoveMark, c, tx, instanceId, mark, through);
        if (await move.ExecuteNonQueryAsync(ct) != 1)
        {
            await tx.RollbackAsync(ct);
            return false;
        }
        await tx.CommitAsync(ct);
        return true;
    }

    static NpgsqlCommand Command(string sql, NpgsqlConnection c, NpgsqlTransaction tx, Guid instanceId, DateTime mark, DateTime through) =>
        new(sql, c, tx) { Parameters = { new() { Value = instanceId }, new() { Value = mark }, new() { Value = through } } };

    /// <summary>
    /// The instance's fold lock ($1): replicas fold an instance one after the other, each from where the one before left the
    /// mark. Waited for in a statement of its own, so the <see cref="Probe"/> after it sees what the one before committed.
    /// </summary>
    internal const string Lock = "select pg_advisory_xact_lock(hashtextextended('thrillpots.contributors:' || $1::text, 0))";

    /// <summary>The instance's mark and latest ledger time (one probe of (instance_id, created_at)), without the instance's lock.</summary>
    internal const string Probe = """
        select greatest(totals_through, '0001-01-01Z'),
               (select created_at from contributions where instance_id = $1 order by created_at desc limit 1)
        from instances where id = $1
        """;

    /// <summary>
    /// The instance's ledger rows after the mark ($2, as probed) up to $3, added to its players' totals. Exact: a writer's batch
    /// writes after the latest committed row (InstanceWriter), so every row up to $3 (at or before the latest row the probe
    /// saw) is committed and in this statement's snapshot.
    /// </summary>
    internal const string FoldTotals = """
        insert into contributors as t (instance_id, brand_id, player_id, contributions, value, first_at, last_at, player_currency)
        select $1, brand_id, player_id, count(*), sum(value), min(created_at), max(created_at),
               (array_agg(player_currency order by created_at desc, id desc))[1]
        from contributions
        where instance_id = $1 and created_at > $2 and created_at <= $3
        group by brand_id, player_id
        on conflict (instance_id, brand_id, player_id) do update set
            contributions = t.contributions + excluded.contributions, value = t.value + excluded.value,
            first_at = least(t.first_at, excluded.first_at), last_at = excluded.last_at, player_currency = excluded.player_currency
        """;

    /// <summary>
    /// The mark moved from $2 to $3, if it is still $2: this waits for the writer's batch in flight (the instance row's lock) and
    /// then holds the writer only until the commit. Readers see totals and mark change together (one transaction): a writer
    /// reads the mark under the instance's lock, the leaderboard in one repeatable-read snapshot. When another fold moved the
    /// mark meanwhile (a replica of the version that folded in the writer, during a rolling upgrade), no row is updated and
    /// the fold rolls back. (An instance never folded has the mark -infinity, read as 0001-01-01 and sent back as -infinity.)
    /// </summary>
    internal const string MoveMark = """
        update instances set totals_through = $3 where id = $1 and greatest(totals_through, '0001-01-01Z') = greatest($2, '0001-01-01Z')
        """;
}
