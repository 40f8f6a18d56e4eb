using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Jackpots;

/// <summary>
/// An instance's wins with their payout: owed, paid, pending or failed, and whether they are withheld. A win with a community
/// part lists its community credits: <c>win_amount</c> is the pot's whole payout, <c>player_portion</c> what the triggering
/// player keeps of it (jackpot currency; <c>player_win_amount</c> is that portion in the player's currency).
/// </summary>
public static class WinEndpoints
{
    public sealed record WinDoc(Guid Id, string PotId, Guid? ContributionId, string BrandId, string PlayerId, string? GameroundId, string Trigger,
        decimal WinAmount, string JackpotCurrency, decimal PlayerWinAmount, string PlayerCurrency, decimal Seed, decimal SeedDeficit,
        bool WinWithheld, string PayoutStatus, long Timestamp, decimal PlayerPortion = 0m, IReadOnlyList<CommunityPayoutDoc>? CommunityPayouts = null);

    /// <summary>One community credit carved from a win (jackpot and player currency) and where its payment stands.</summary>
    public sealed record CommunityPayoutDoc(Guid PayoutId, string Strategy, int Rank, string BrandId, string PlayerId, decimal Amount,
        string PlayerCurrency, decimal PlayerAmount, Guid BatchId, bool WinWithheld, string PayoutStatus);

    sealed record Row(Guid Id, string PotId, Guid? ContributionId, string BrandId, string PlayerId, string? GameroundId, string Trigger,
        decimal WinAmount, string JackpotCurrency, decimal PlayerWinAmount, string PlayerCurrency, decimal Seed, decimal SeedDeficit,
        bool WinWithheld, string PayoutStatus, DateTime CreatedAt, decimal? PlayerPortion);

    sealed record PayoutRow(Guid Id, Guid WinId, string Detail, string BrandId, string PlayerId, decimal Amount, string PlayerCurrency,
        decimal PlayerAmount, Guid BatchId, bool WinWithheld, string PayoutStatus);

    public static void MapWinEndpoints(this WebApplication app) =>
        app.MapGet("/instances/{id:guid}/wins", ListAsync).WithTags("Instances").RequirePermission(Admin.Access.System, "instances", write: false);

    static async Task<IResult> ListAsync(Guid id, string? payout_status, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var owner = await c.ExecuteScalarAsync<string?>(new CommandDefinition("select owner_id from instances where id = @id", new { id }, cancellationToken: ct));
        if (owner is null) return Problems.NotFound($"No instance {id}.");
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The instance belongs to '{owner}'.");
        var rows = (await c.QueryAsync<Row>(new CommandDefinition("""
            select id as Id, pot_id as PotId, contribution_id as ContributionId, brand_id as BrandId, player_id as PlayerId, gameround_id as GameroundId,
                   trigger as Trigger, win_amount as WinAmount, jackpot_currency as JackpotCurrency, player_win_amount as PlayerWinAmount,
                   player_currency as PlayerCurrency, seed as Seed, seed_deficit as SeedDeficit, win_withheld as WinWithheld,
                   payout_status as PayoutStatus, created_at as CreatedAt, player_portion as PlayerPortion
            from wins where instance_id = @id and (@payout_status::text is null or payout_status = @payout_status)
            order by created_at desc limit 1000
            """, new { id, payout_status }, cancellationToken: ct))).ToList();
        var community = (await c.QueryAsync<PayoutRow>(new CommandDefinition("""
            select id as Id, win_id as WinId, coalesce(detail::text, '{}') as Detail, brand_id as BrandId, player_id as PlayerId, amount as Amount,
                   player_currency as PlayerCurrency, player_amount as PlayerAmount, batch_id as BatchId, win_withheld as WinWithheld,
                   payout_status as PayoutStatus
            from payouts where kind = 'community' and win_id = any(@ids)
            order by created_at, detail->>'strategy', (detail->>'rank')::int, id
            """, new { ids = rows.Select(r => r.Id).ToArray() }, cancellationToken: ct))).ToLookup(p => p.WinId);
        return Results.Ok(rows.Select(r => new WinDoc(r.Id, r.PotId, r.ContributionId, r.BrandId, r.PlayerId, r.GameroundId, r.Trigger, r.WinAmount,
            r.JackpotCurrency, r.PlayerWinAmount, r.PlayerCurrency, r.Seed, r.SeedDeficit, r.WinWithheld, r.PayoutStatus, Time.Ms(r.CreatedAt),
            r.PlayerPortion ?? r.WinAmount, community.Contains(r.Id) ? [.. community[r.Id].Select(Doc)] : null)).ToList());
    }

    static CommunityPayoutDoc Doc(PayoutRow p)
    {
        using var detail = JsonDocument.Parse(p.Detail);
        var root = detail.RootElement;
        return new CommunityPayoutDoc(p.Id, root.TryGetProperty("strategy", out var s) ? s.GetString() ?? "" : "",
            root.TryGetProperty("rank", out var rank) ? rank.GetInt32() : 0, p.BrandId, p.PlayerId, p.Amount, p.PlayerCurrency, p.PlayerAmount,
            p.BatchId, p.WinWithheld, p.PayoutStatus);
    }
}
