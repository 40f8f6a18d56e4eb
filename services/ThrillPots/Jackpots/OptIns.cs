using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Data.Outbox;

namespace ThrillPots.Jackpots;

public sealed record OptInRow(Guid InstanceId, string BrandId, string PlayerId, bool OptedIn, decimal? PreferredValue, string? PreferredCurrency,
    long ContributionCount, decimal ContributionValue, DateTime UpdatedAt)
{
    public OptInChanged Event() => new(InstanceId, PlayerId, PlayerId, BrandId, PreferredValue, PreferredCurrency, ContributionCount,
        ContributionValue, OptedIn, Time.Ms(UpdatedAt));
}

public sealed class OptInException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}

/// <summary>
/// Players' opt-ins (spec §10): the state and preferred contribution value the instance's writer reads for every
/// contribution, changed here with its OptInEvent in one transaction. Opting in needs an Active or Paused instance that
/// allows the brand; opting out is possible until the instance is terminated. Without a value, opting in returns the player
/// to the template's default; opting out keeps the preferred value for a later opt-in.
/// </summary>
public static class OptIns
{
    const string Columns = """
        instance_id as InstanceId, brand_id as BrandId, player_id as PlayerId, opted_in as OptedIn, preferred_value as PreferredValue,
        preferred_currency as PreferredCurrency, contribution_count as ContributionCount, contribution_value as ContributionValue,
        updated_at as UpdatedAt
        """;

    public static async Task<OptInRow> SetAsync(NpgsqlDataSource db, Guid instanceId, string brandId, string playerId, string? country, bool optIn,
        decimal? value, string? currency, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // Shares the instance row with contribution writers, and waits for a state change in progress.
        var instance = await c.QuerySingleOrDefaultAsync<(string State, string[] AllowedBrands)>(new CommandDefinition(
            "select state, allowed_brands from instances where id = @instanceId for share", new { instanceId }, tx, cancellationToken: ct));
        if (instance.State is null) throw new OptInException("not_found", $"No jackpot instance {instanceId}.");
        if (optIn ? instance.State is not (InstanceEndpoints.Active or InstanceEndpoints.Paused) : instance.State == InstanceEndpoints.Terminated)
            throw new OptInException("instance_not_active", $"Instance {instanceId} is {instance.State}; it does not accept opt-" + (optIn ? "ins." : "outs."));
        if (!instance.AllowedBrands.Contains(brandId))
            throw new OptInException("brand_not_allowed", $"Instance {instanceId} does not allow brand '{brandId}'.");
        if (optIn && value is decimal chosen && currency is not null
            && Engine.AlwaysFair.Refusal(await TemplateOfAsync(c, tx, instanceId, ct), chosen, currency) is { } outOfRange)
            throw new OptInException(OutOfRange, outOfRange);
        var row = await c.QuerySingleAsync<OptInRow>(new CommandDefinition($"""
            insert into opt_ins (instance_id, brand_id, player_id, opted_in, preferred_value, preferred_currency, player_country)
            values (@instanceId, @brandId, @playerId, @optIn, @value, @currency, @country)
            on conflict (instance_id, brand_id, player_id) do update set
                opted_in = excluded.opted_in,
                preferred_value = case when excluded.opted_in then excluded.preferred_value else opt_ins.preferred_value end,
                preferred_currency = case when excluded.opted_in then excluded.preferred_currency else opt_ins.preferred_currency end,
                player_country = coalesce(excluded.player_country, opt_ins.player_country),
                updated_at = now()
            returning {Columns}
            """, new { instanceId, brandId, playerId, optIn, value, currency = value is null ? null : currency, country }, tx, cancellationToken: ct));
        await Outbox.EnqueueAsync(tx, row.Event(), ct);
        await tx.CommitAsync(ct);
        return row;
    }

    /// <summary>
    /// PlayerOptInRequestV2's opt_linked (spec §10, §16): the same opt-in (or out, with the same value) on every instance
    /// directly linked from the target, each in its own transaction with its own OptInEvent. An instance that cannot take
    /// it (not Active or Paused, brand not allowed) is skipped: the player's choice on the target stands either way.
    /// </summary>
    public static async Task<IReadOnlyList<OptInRow>> SetLinkedAsync(NpgsqlDataSource db, Guid instanceId, string brandId, string playerId, string? country,
        bool optIn, decimal? value, string? currency, CancellationToken ct)
    {
        Guid[] linked;
        await using (var c = await db.OpenConnectionAsync(ct))
            linked = await Links.LinkedInstances.FromAsync(c, instanceId, ct);
        var rows = new List<OptInRow>();
        foreach (var id in linked)
        {
            try { rows.Add(await SetAsync(db, id, brandId, playerId, country, optIn, value, currency, ct)); }
            catch (OptInException) { }
        }
        return rows;
    }

    /// <summary>The reason of an opt-in value outside the template's Always Fair bounds for its currency.</summary>
    public const string OutOfRange = "contribution_value_out_of_range";

    static async Task<Templates.TemplateDefinition> TemplateOfAsync(NpgsqlConnection c, NpgsqlTransaction tx, Guid instanceId, CancellationToken ct) =>
        System.Text.Json.JsonSerializer.Deserialize<Templates.TemplateDefinition>(await c.ExecuteScalarAsync<string>(new CommandDefinition(
            "select t.definition::text from instances i join templates t on t.id = i.template_id where i.id = @instanceId",
            new { instanceId }, tx, cancellationToken: ct)) ?? "{}", ThrillSuite.ServiceDefaults.Admin.Audit.Json)!;

    public static async Task<OptInRow?> GetAsync(NpgsqlConnection c, Guid instanceId, string brandId, string playerId, CancellationToken ct) =>
        await c.QuerySingleOrDefaultAsync<OptInRow>(new CommandDefinition(
            $"select {Columns} from opt_ins where instance_id = @instanceId and brand_id = @brandId and player_id = @playerId",
            new { instanceId, brandId, playerId }, cancellationToken: ct));
}
