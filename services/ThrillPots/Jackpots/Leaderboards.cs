using Dapper;
using Npgsql;

namespace ThrillPots.Jackpots;

public sealed record LeaderboardEntry(int Rank, string PlayerId, string BrandId, long ContributionCount, decimal ContributionValue,
    DateTime FirstAt, DateTime LastAt);

public sealed record LeaderboardResult(Guid InstanceId, string Scope, string Currency, DateTime? Since, IReadOnlyList<LeaderboardEntry> Entries);

/// <summary>
/// Top contributors of an instance: ranked by Σ value in the jackpot currency, ties to the earlier first contribution (the
/// community payouts' rule). "lifetime" reads the players' totals and the ledger's last seconds (<see cref="TopLifetime"/>);
/// "since_last_win" counts the ledger rows after the instance's most recent win of any pot (index (instance_id,
/// created_at)), and the lifetime totals when it never won. A model switch starts a new instance, so its board starts empty.
/// </summary>
public static class Leaderboards
{
    public const string Lifetime = "lifetime", SinceLastWin = "since_last_win";
    public const int MaxLimit = 100, DefaultLimit = 10;

    /// <summary>
    /// The top contributors among the instance's ledger rows after the last win. Its own statement, not the lifetime one with
    /// "(@since is null or created_at > @since)": Dapper prepares statements it runs often, and the generic plan of that form
    /// could not bound created_at in the (instance_id, created_at) index, so it read the instance's whole ledger (1.0–1.5 s
    /// at 3 million rows instead of 76 ms). LeaderboardPlanTests checks the plans.
    /// </summary>
    internal const string TopSince = """
        select player_id, brand_id, count(*), sum(value), min(created_at), max(created_at)
        from contributions
        where instance_id = @instanceId and created_at > @since
        group by brand_id, player_id
        order by sum(value) desc, min(created_at), player_id
        limit @limit
        """;

    /// <summary>
    /// An instance's whole ledger per player without reading it whole: the players' totals (contributors, one row per player
    /// through its primary key) and the ledger rows after the instance's totals mark (seconds of them, through (instance_id,
    /// created_at)), as (brand_id, player_id, count n, Σ value v, first f, last l, currency c). The mark is a parameter, not
    /// a subquery, so the plan knows how few rows follow it. LeaderboardPlanTests checks the plans of both users.
    /// </summary>
    internal const string LifetimeRows = """
        select brand_id, player_id, contributions as n, value as v, first_at as f, last_at as l, player_currency as c
        from contributors where instance_id = @instanceId
        union all
        select brand_id, player_id, 1, value, created_at, created_at, player_currency
        from contributions where instance_id = @instanceId and created_at > @totalsThrough
        """;

    internal const string TopLifetime = $"""
        select player_id, brand_id, sum(n), sum(v), min(f), max(l)
        from ({LifetimeRows}) x
        group by brand_id, player_id
        order by sum(v) desc, min(f), player_id
        limit @limit
        """;

    /// <summary>Null when the instance does not exist.</summary>
    public static async Task<LeaderboardResult?> LoadAsync(NpgsqlConnection c, Guid instanceId, string scope, int limit, CancellationToken ct)
    {
        await using var tx = await c.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var instance = await c.QuerySingleOrDefaultAsync<(string Currency, DateTime TotalsThrough)?>(new CommandDefinition(
            "select currency, greatest(totals_through, '0001-01-01Z') from instances where id = @instanceId", new { instanceId }, tx, cancellationToken: ct));
        if (instance is not { Currency: var currency, TotalsThrough: var totalsThrough }) return null;
        DateTime? since = scope == SinceLastWin
            ? await c.ExecuteScalarAsync<DateTime?>(new CommandDefinition("select max(created_at) from wins where instance_id = @instanceId",
                new { instanceId }, tx, cancellationToken: ct))
            : null;
        // A win is committed with the contribution that won it (same created_at): that contribution belongs to the old cycle.
        var rows = (await c.QueryAsync<(string PlayerId, string BrandId, long Count, decimal Value, DateTime FirstAt, DateTime LastAt)>(new CommandDefinition(
            since is null ? TopLifetime : TopSince,
            new { instanceId, since, limit, totalsThrough }, tx, cancellationToken: ct))).ToList();
        await tx.CommitAsync(ct);
        return new LeaderboardResult(instanceId, scope, currency, since,
            [.. rows.Select((r, i) => new LeaderboardEntry(i + 1, r.PlayerId, r.BrandId, r.Count, r.Value, r.FirstAt, r.LastAt))]);
    }
}
