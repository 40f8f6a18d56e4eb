using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Jackpots;

/// <summary>
/// Proves design.md §3's invariant from the ledger alone: per pot, initial seed + Σ pot shares + Σ seed deficits + Σ boosts
/// + Σ transfers in − Σ transfers out (model switches) − Σ wins paid (raffle prizes counted with the wins) must equal the stored
/// value + reseed fund + unused boosts; per contribution, value = house share + Σ pot shares; per win with a community part,
/// player portion + Σ community payouts = win amount; per player, the folded totals = the count and Σ value of their ledger
/// rows up to the instance's mark. Any difference is reported (and makes <c>balanced</c> false).
/// </summary>
public static class ReconciliationEndpoints
{
    public sealed record PotReport(string PotId, decimal InitialSeed, decimal Shares, decimal SeedDeficits, decimal Boosts, decimal Wins,
        decimal TransfersIn, decimal TransfersOut, decimal Expected, decimal Value, decimal ReseedFund, decimal SeedBoost, decimal Actual, decimal Difference);
    public sealed record LedgerReport(long Contributions, decimal ContributionValue, decimal HouseShares, decimal PotShares, long UnbalancedRows,
        long Wins, decimal WinAmount);
    public sealed record Report(Guid InstanceId, string OwnerId, bool Balanced, IReadOnlyList<string> Errors, LedgerReport Ledger,
        IReadOnlyList<PotReport> Pots, long GeneratedTimestamp);

    public static void MapReconciliationEndpoints(this WebApplication app)
    {
        app.MapGet("/instances/{id:guid}/reconciliation", OneAsync).WithTags("Instances").RequirePermission(Access.System, "instances", write: false);
        app.MapGet("/reconciliation", AllAsync).WithTags("Instances").RequirePermission(Access.System, "instances", write: false);
    }

    static async Task<IResult> OneAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var owner = await c.ExecuteScalarAsync<string?>(new CommandDefinition("select owner_id from instances where id = @id", new { id }, cancellationToken: ct));
        if (owner is null) return Problems.NotFound($"No instance {id}.");
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The instance belongs to '{owner}'.");
        return Results.Ok(await ReconcileAsync(c, id, ct));
    }

    static async Task<IResult> AllAsync(string? owner_id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var instances = (await c.QueryAsync<(Guid Id, string OwnerId)>(new CommandDefinition(
            "select id, owner_id from instances where @owner_id::text is null or owner_id = @owner_id order by created_at, id",
            new { owner_id }, cancellationToken: ct))).Where(i => http.MayActFor(i.OwnerId)).ToList();
        var reports = new List<Report>();
        foreach (var (id, _) in instances) reports.Add(await ReconcileAsync(c, id, ct));
        return Results.Ok(new { balanced = reports.All(r => r.Balanced), instances = reports });
    }

    /// <summary>One consistent snapshot (repeatable read) of the ledger, the wins and the pots of an instance.</summary>
    public static async Task<Report> ReconcileAsync(NpgsqlConnection c, Guid id, CancellationToken ct)
    {
        await using var tx = await c.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var owner = await c.ExecuteScalarAsync<string>(new CommandDefinition("select owner_id from instances where id = @id", new { id }, tx, cancellationToken: ct));
        var ledger = await c.QuerySingleAsync<LedgerReport>(new CommandDefinition("""
            select count(*) as Contributions, coalesce(sum(value), 0) as ContributionValue, coalesce(sum(house_share), 0) as HouseShares,
                   coalesce(sum((select sum(s) from unnest(pot_shares) s)), 0) as PotShares,
                   count(*) filter (where value <> house_share + (select coalesce(sum(s), 0) from unnest(pot_shares) s)) as UnbalancedRows,
                   (select count(*) from wins where instance_id = @id) as Wins,
                   (select coalesce(sum(win_amount), 0) from wins where instance_id = @id) as WinAmount
            from contributions where instance_id = @id
            """, new { id }, tx, cancellationToken: ct));
        var pots = (await c.QueryAsync<PotReport>(new CommandDefinition("""
            with shares as (
                select s.ord, sum(s.share) as total
                from contributions c cross join lateral unnest(c.pot_shares) with ordinality s(share, ord)
                where c.instance_id = @id group by s.ord),
            won as (
                -- raffle prizes leave the pot like wins (money out, no seed deficit)
                select pot_id, sum(win_amount) as wins, sum(seed_deficit) as deficits from (
                    select pot_id, win_amount, seed_deficit from wins where instance_id = @id
                    union all
                    select pot_id, amount, 0 from payouts where instance_id = @id and kind = 'raffle') x
                group by pot_id),
            boosted as (
                select pot_id, sum(amount) as boosts from seed_boosts where instance_id = @id group by pot_id),
            moved_in as (
                select target_pot as pot_id, sum(amount) as amount from pot_transfers where target_instance = @id group by target_pot),
            moved_out as (
                select source_pot as pot_id, sum(amount) as amount from pot_transfers where source_instance = @id group by source_pot),
            expected as (
                select p.pot_id, p.initial_seed + coalesce(s.total, 0) + coalesce(w.deficits, 0) + coalesce(b.boosts, 0)
                       + coalesce(mi.amount, 0) - coalesce(mo.amount, 0) - coalesce(w.wins, 0) as amount
                from pots p
                left join shares s on s.ord = p.position + 1
                left join won w on w.pot_id = p.pot_id
                left join boosted b on b.pot_id = p.pot_id
                left join moved_in mi on mi.pot_id = p.pot_id
                left join moved_out mo on mo.pot_id = p.pot_id
                where p.instance_id = @id)
            select p.pot_id as PotId, p.initial_seed as InitialSeed, coalesce(s.total, 0) as Shares, coalesce(w.deficits, 0) as SeedDeficits,
                   coalesce(b.boosts, 0) as Boosts, coalesce(w.wins, 0) as Wins, coalesce(mi.amount, 0) as TransfersIn,
                   coalesce(mo.amount, 0) as TransfersOut, e.amount as Expected,
                   p.value as Value, p.reseed_fund as ReseedFund, p.seed_boost as SeedBoost,
                   p.value + p.reseed_fund + p.seed_boost as Actual,
                   p.value + p.reseed_fund + p.seed_boost - e.amount as Difference
            from pots p
            join expected e on e.pot_id = p.pot_id
            left join shares s on s.ord = p.position + 1
            left join won w on w.pot_id = p.pot_id
            left join boosted b on b.pot_id = p.pot_id
            left join moved_in mi on mi.pot_id = p.pot_id
            left join moved_out mo on mo.pot_id = p.pot_id
            where p.instance_id = @id
            order by p.position
            """, new { id }, tx, cancellationToken: ct))).ToList();
        // Community payouts are part of their win, not money out beside it: the triggering player's portion and the
        // community credits must add up to the win (issue 8).
        var community = (await c.QueryAsync<(Guid WinId, decimal WinAmount, decimal? Portion, decimal Payouts)>(new CommandDefinition("""
            select w.id, w.win_amount, w.player_portion, coalesce(sum(p.amount), 0)
            from wins w left join payouts p on p.win_id = w.id and p.kind = 'community'
            where w.instance_id = @id and (w.player_portion is not null or p.id is not null)
            group by w.id, w.win_amount, w.player_portion
            having coalesce(w.player_portion, w.win_amount) + coalesce(sum(p.amount), 0) <> w.win_amount
            """, new { id }, tx, cancellationToken: ct))).ToList();
        // The players' totals (lifetime leaderboard, HighestLifetimeContributor) against the ledger rows up to the instance's mark.
        var contributors = (await c.QueryAsync<(string BrandId, string PlayerId, long? LedgerCount, decimal? LedgerValue, long? Count, decimal? Value)>(
            new CommandDefinition("""
            select brand_id, player_id, l.n, l.v, t.contributions, t.value
            from (select brand_id, player_id, count(*) as n, sum(value) as v from contributions
                  where instance_id = @id and created_at <= (select totals_through from instances where id = @id)
                  group by brand_id, player_id) l
            full join (select brand_id, player_id, contributions, value from contributors where instance_id = @id) t using (brand_id, player_id)
            where l.n is distinct from t.contributions or l.v is distinct from t.value
            order by brand_id, player_id
            """, new { id }, tx, cancellationToken: ct))).ToList();
        await tx.CommitAsync(ct);

        var errors = new List<string>();
        foreach (var p in pots.Where(p => p.Difference != 0))
            errors.Add($"Pot '{p.PotId}': the ledger says {p.Expected}, the pot holds {p.Actual} (difference {p.Difference}).");
        foreach (var w in community)
            errors.Add($"Win {w.WinId}: the player's portion {w.Portion ?? w.WinAmount} + community payouts {w.Payouts} ≠ the win {w.WinAmount}.");
        foreach (var p in contributors)
            errors.Add($"Player '{p.PlayerId}' of '{p.BrandId}': the totals count {p.Count ?? 0} contributions worth {p.Value ?? 0m}, " +
                $"the ledger up to the mark {p.LedgerCount ?? 0} worth {p.LedgerValue ?? 0m}.");
        if (ledger.UnbalancedRows > 0)
            errors.Add($"{ledger.UnbalancedRows} contributions whose value is not house share + pot shares.");
        if (ledger.ContributionValue != ledger.HouseShares + ledger.PotShares)
            errors.Add($"Σ contributions {ledger.ContributionValue} ≠ Σ house shares {ledger.HouseShares} + Σ pot shares {ledger.PotShares}.");
        return new Report(id, owner ?? "", errors.Count == 0, errors, ledger, pots, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }
}
