using System.Globalization;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Raffles;

/// <summary>A player's tickets in one raffle period (spec §9 ticket record; accumulated_cost is a decimal string, what was
/// paid toward the next ticket).</summary>
public sealed record TicketRecord(string InstanceId, string BrandId, string PlayerId, string ExtPlayerId, long TicketCount, string AccumulatedCost,
    long TimestampStart, long TimestampEnd);

/// <summary>
/// Ticket queries of the operator API (spec §9; bearer token of a service account with thrillpots:contributions:read or
/// write, acting for the brand). "Current" tickets are those of a raffle's open period: the one not yet drawn (the latest,
/// should the draw of an ended one still be pending).
/// </summary>
public static class RaffleTicketEndpoints
{
    static readonly Dictionary<string, string> SortFields = new(StringComparer.Ordinal)
    {
        ["ticket_count"] = "ticket_count", ["accumulated_cost"] = "accumulated_cost", ["player_id"] = "player_id", ["brand_id"] = "brand_id",
        ["updated_at"] = "updated_at",
    };
    public const int MaxLimit = 1000, DefaultLimit = 100;

    sealed record Row(Guid InstanceId, string BrandId, string PlayerId, long TicketCount, decimal AccumulatedCost, DateTime PeriodStart, DateTime PeriodEnd);

    static TicketRecord Record(Row r) => new(r.InstanceId.ToString(), r.BrandId, r.PlayerId, r.PlayerId, r.TicketCount,
        r.AccumulatedCost.ToString(CultureInfo.InvariantCulture), Time.Ms(r.PeriodStart), Time.Ms(r.PeriodEnd));

    const string Columns = """
        t.instance_id as InstanceId, t.brand_id as BrandId, t.player_id as PlayerId, t.ticket_count as TicketCount,
        t.accumulated_cost as AccumulatedCost, t.period_start as PeriodStart, t.period_end as PeriodEnd
        """;

    public static void MapRaffleTicketEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/jackpots/instances").WithTags("Raffles").RequirePermission(Access.System, "contributions", write: false);
        g.MapGet("/{instance_id}/raffle/tickets", ListAsync);
        g.MapGet("/{instance_id}/raffle/tickets/brand/{brand_id}/{player_id}", PlayerAsync);
        g.MapGet("/raffle/tickets/brand/{brand_id}/{player_id}", PlayerAllAsync);
    }

    static async Task<IResult> ListAsync(string instance_id, string? brand_id, string? sort_field, string? sort_direction, string? page, string? limit,
        HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Guid.TryParse(instance_id, out var id)) errors["instance_id"] = ["A jackpot instance's UUID."];
        if (brand_id is not null && !Ids.IsOwner(brand_id, brandRequired: true)) errors["brand_id"] = ["operator:brand, or left out."];
        if (sort_field is not null && !SortFields.ContainsKey(sort_field)) errors["sort_field"] = [$"One of {string.Join(", ", SortFields.Keys)}."];
        var direction = sort_direction switch { null or "-1" => "desc", "1" => "asc", _ => null };
        if (direction is null) errors["sort_direction"] = ["1 (ascending) or -1 (descending)."];
        var pageNo = 1;
        if (page is not null && (!int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out pageNo) || pageNo < 1))
            errors["page"] = ["An integer ≥ 1."];
        var size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit))
            errors["limit"] = [$"An integer from 1 to {MaxLimit}."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (brand_id is not null && !http.MayActFor(brand_id)) return TokenValidation.Forbidden($"The caller may not act for '{brand_id}'.");

        await using var c = await db.OpenConnectionAsync(ct);
        var instance = await RaffleAsync(c, id, ct);
        if (instance is not { } raffle) return Problems.NotFound($"No raffle instance {id}.");
        if (brand_id is null && !http.MayActFor(raffle.OwnerId)) return TokenValidation.Forbidden($"The instance belongs to '{raffle.OwnerId}'; give brand_id.");
        if (brand_id is not null && !raffle.AllowedBrands.Contains(brand_id)) return Problems.NotFound($"Raffle {id} does not serve brand '{brand_id}'.");
        var period = await c.QuerySingleOrDefaultAsync<PeriodRow>(new CommandDefinition("""
            select period_start as Start, period_end as End from raffle_draws where instance_id = @id and status = 'open' order by period_start desc limit 1
            """, new { id }, cancellationToken: ct));
        if (period is not { } current)
            return Results.Ok(new { instance_id = id, timestamp_start = (long?)null, timestamp_end = (long?)null, page = pageNo, limit = size, total = 0, tickets = Array.Empty<TicketRecord>() });
        var order = SortFields[sort_field ?? "ticket_count"];
        var total = await c.ExecuteScalarAsync<long>(new CommandDefinition("""
            select count(*) from raffle_tickets where instance_id = @id and period_start = @Start and (@brand_id::text is null or brand_id = @brand_id)
            """, new { id, current.Start, brand_id }, cancellationToken: ct));
        var rows = await c.QueryAsync<Row>(new CommandDefinition($"""
            select {Columns} from raffle_tickets t
            where t.instance_id = @id and t.period_start = @Start and (@brand_id::text is null or t.brand_id = @brand_id)
            order by t.{order} {direction}, t.brand_id, t.player_id
            limit @size offset @skip
            """, new { id, current.Start, brand_id, size, skip = (long)(pageNo - 1) * size }, cancellationToken: ct));
        return Results.Ok(new
        {
            instance_id = id, timestamp_start = Time.Ms(current.Start), timestamp_end = Time.Ms(current.End), page = pageNo, limit = size, total,
            tickets = rows.Select(Record).ToList(),
        });
    }

    static async Task<IResult> PlayerAsync(string instance_id, string brand_id, string player_id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = PlayerErrors(brand_id, player_id);
        if (!Guid.TryParse(instance_id, out var id)) errors["instance_id"] = ["A jackpot instance's UUID."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!http.MayActFor(brand_id)) return TokenValidation.Forbidden($"The caller may not act for '{brand_id}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        if (await RaffleAsync(c, id, ct) is not { } raffle || !raffle.AllowedBrands.Contains(brand_id))
            return Problems.NotFound($"No raffle instance {id} serving brand '{brand_id}'.");
        return Results.Ok(await PlayerTicketsAsync(c, id, brand_id, player_id, ct));
    }

    static async Task<IResult> PlayerAllAsync(string brand_id, string player_id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = PlayerErrors(brand_id, player_id);
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!http.MayActFor(brand_id)) return TokenValidation.Forbidden($"The caller may not act for '{brand_id}'.");
        await using var c = await db.OpenConnectionAsync(ct);
        return Results.Ok(await PlayerTicketsAsync(c, null, brand_id, player_id, ct));
    }

    static Dictionary<string, string[]> PlayerErrors(string brand_id, string player_id)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Ids.IsOwner(brand_id, brandRequired: true)) errors["brand_id"] = ["operator:brand."];
        if (string.IsNullOrWhiteSpace(player_id) || player_id.Length > 200) errors["player_id"] = ["1-200 characters."];
        return errors;
    }

    /// <summary>A player's tickets in the open periods of Active raffles (one raffle when <paramref name="instanceId"/> is set).</summary>
    public static async Task<IReadOnlyList<TicketRecord>> PlayerTicketsAsync(NpgsqlConnection c, Guid? instanceId, string brandId, string playerId,
        CancellationToken ct) =>
        [.. (await c.QueryAsync<Row>(new CommandDefinition($"""
            select {Columns} from raffle_tickets t
            join raffle_draws d on d.instance_id = t.instance_id and d.period_start = t.period_start and d.status = 'open'
            join instances i on i.id = t.instance_id
            where t.brand_id = @brandId and t.player_id = @playerId and (@instanceId::uuid is null or t.instance_id = @instanceId)
              and (@instanceId::uuid is not null or i.state = 'Active')
            order by t.period_start, t.instance_id
            """, new { brandId, playerId, instanceId }, cancellationToken: ct))).Select(Record)];

    sealed record PeriodRow(DateTime Start, DateTime End);
    sealed record RaffleRow(string OwnerId, string[] AllowedBrands);

    static Task<RaffleRow?> RaffleAsync(NpgsqlConnection c, Guid id, CancellationToken ct) =>
        c.QuerySingleOrDefaultAsync<RaffleRow>(new CommandDefinition("""
            select i.owner_id as OwnerId, i.allowed_brands as AllowedBrands from instances i join templates t on t.id = i.template_id
            where i.id = @id and t.jackpot_type = 'Raffle'
            """, new { id }, cancellationToken: ct));
}
