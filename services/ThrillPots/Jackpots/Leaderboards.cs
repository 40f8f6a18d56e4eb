using Dapper;
using Npgsql;

namespace ThrillPots.Jackpots;

public sealed record LeaderboardEntry(int Rank, string PlayerId, string BrandId, long ContributionCount, decimal ContributionValue,
    DateTime FirstAt, DateTime LastAt);

public sealed record LeaderboardResult(Guid InstanceId, string Scope, string Currency, DateTime? Since, IReadOnlyList<LeaderboardEntry> Entries);

/// <summary>
/// Top contributors of an instance, from the ledger (contributions, index (instance_id, created_at)): ranked by Σ value in the
/// jackpot currency, ties to the earlier first contribution (the community payouts' rule). "since_last_win" counts from the
/// instance's most recent win of any pot (the whole ledger when it never won); a model switch starts a new instance, so its
/// board starts empty.
/// </summary>
public static class Leaderboards
{
    public const string Lifetime = "lifetime", SinceLastWin = "since_last_win";
    public const int MaxLimit = 100, DefaultLimit = 10;

    /// <summary>
    /// The top contributors among the instance's ledger rows matching <paramref name="where"/>. Two statements, not one with
    /// "(@since is null or created_at > @since)": Dapper prepares statements it runs often, and the generic plan of that one
    /// could not bound created_at in the (instance_id, created_at) index, so it read the instance's whole ledger ("since
    /// last win" took 1.0–1.5 s at 3 million rows instead of 76 ms). LeaderboardPlanTests checks the plans.
    /// </summary>
    internal static string Top(string where) => $"""
        select player_id, brand_id, count(*), sum(value), min(created_at), max(created_at)
        from contributions
        where {where}
        group by brand_id, player_id
        order by sum(value) desc, min(created_at), player_id
        limit @limit
        """;

    /// <summary>Null when the instance does not exist.</summary>
    public static async Task<LeaderboardResult?> LoadAsync(NpgsqlConnection c, Guid instanceId, string scope, int limit, CancellationToken ct)
    {
        await using var tx = await c.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var currency = await c.ExecuteScalarAsync<string?>(new CommandDefinition("select currency from instances where id = @instanceId",
            new { instanceId }, tx, cancellationToken: ct));
        if (currency is null) return null;
        DateTime? since = scope == SinceLastWin
            ? await c.ExecuteScalarAsync<DateTime?>(new CommandDefinition("select max(created_at) from wins where instance_id = @instanceId",
                new { instanceId }, tx, cancellationToken: ct))
            : null;
        // A win is committed with the contribution that won it (same created_at): that contribution belongs to the old cycle.
        var rows = (await c.QueryAsync<(string PlayerId, string BrandId, long Count, decimal Value, DateTime FirstAt, DateTime LastAt)>(new CommandDefinition(
            since is null ? Top("instance_id = @instanceId") : Top("instance_id = @instanceId and created_at > @since"),
            new { instanceId, since, limit }, tx, cancellationToken: ct))).ToList();
        await tx.CommitAsync(ct);
        return new LeaderboardResult(instanceId, scope, currency, since,
            [.. rows.Select((r, i) => new LeaderboardEntry(i + 1, r.PlayerId, r.BrandId, r.Count, r.Value, r.FirstAt, r.LastAt))]);
    }
}
