using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Templates;

namespace ThrillPots.Jackpots;

public sealed record PotView(string Id, bool IsProgressive, decimal CurrentValue, IReadOnlyList<string> DropCommitments);

/// <summary>An instance as players and tickers see it: its state, its pots' live values and the published commitments.</summary>
public sealed record InstanceView(Guid Id, Guid TemplateId, string Name, string OwnerId, string State, string Currency, string JackpotType,
    string[] AllowedBrands, string[] AllowedSources, bool OptInRequired, decimal DefaultContributionValue, long? TimestampStart,
    long? TimestampEnd, long LastUpdated, long Version, IReadOnlyList<PotView> Pots)
{
    /// <summary>The instance's schedule (spec §17), when it has one: an Active instance outside its windows reports "Closed".</summary>
    public ThrillPots.Engine.Schedule? Schedule { get; init; }
}

/// <summary>Reads instances for ThrillConnect's queries and the ticker's JackpotUpdateEvent; nothing hidden leaves here.</summary>
public static class InstanceViews
{
    static readonly ConcurrentDictionary<Guid, TemplateDefinition> Templates = new();

    sealed record Row(Guid Id, Guid TemplateId, string Name, string OwnerId, string State, string Currency, string JackpotType,
        string[] AllowedBrands, string[] AllowedSources, DateTime? StartAt, DateTime? EndAt, DateTime UpdatedAt, long Version, string Definition, string? Schedule);
    sealed record PotRow(Guid InstanceId, string PotId, decimal Value, string? Drops, DateTime UpdatedAt, long Version);

    public static async Task<IReadOnlyList<InstanceView>> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, Guid[] ids, CancellationToken ct)
    {
        // Published templates never change, so their definitions are parsed once; the text is read only when new.
        var rows = (await c.QueryAsync<Row>(new CommandDefinition("""
            select i.id as Id, i.template_id as TemplateId, i.name as Name, i.owner_id as OwnerId, i.state as State, i.currency as Currency,
                   t.jackpot_type as JackpotType, i.allowed_brands as AllowedBrands, i.allowed_sources as AllowedSources, i.start_at as StartAt,
                   i.end_at as EndAt, i.updated_at as UpdatedAt, i.version::bigint as Version,
                   case when i.template_id = any(@known) then '' else t.definition::text end as Definition, i.schedule::text as Schedule
            from instances i join templates t on t.id = i.template_id
            where i.id = any(@ids)
            """, new { ids, known = Templates.Keys.ToArray() }, tx, cancellationToken: ct))).ToList();
        var pots = (await c.QueryAsync<PotRow>(new CommandDefinition("""
            select instance_id as InstanceId, pot_id as PotId, value as Value, drops::text as Drops, updated_at as UpdatedAt, version as Version
            from pots where instance_id = any(@ids) order by position
            """, new { ids }, tx, cancellationToken: ct))).ToLookup(p => p.InstanceId);
        return rows.Select(r =>
        {
            var definition = Templates.GetOrAdd(r.TemplateId, _ => JsonSerializer.Deserialize<TemplateDefinition>(r.Definition, Audit.Json)!);
            var progressive = (definition.Pots ?? []).ToDictionary(p => p.Id!, p => p.IsProgressive != false);
            var mine = pots[r.Id].ToList();
            var updated = mine.Select(p => p.UpdatedAt).Append(r.UpdatedAt).Max();
            return new InstanceView(r.Id, r.TemplateId, r.Name, r.OwnerId, r.State, r.Currency, r.JackpotType, r.AllowedBrands, r.AllowedSources,
                definition.ContributionRules?.OptInRequired == true, definition.ContributionRules?.ContributionType?.Fixed ?? 0m,
                Time.Ms(r.StartAt), Time.Ms(r.EndAt), Time.Ms(updated), r.Version + mine.Sum(p => p.Version),
                [.. mine.Select(p => new PotView(p.PotId, progressive.GetValueOrDefault(p.PotId, true), p.Value, Commitments(p.Drops)))])
            {
                Schedule = r.Schedule is null ? null : JsonSerializer.Deserialize<ThrillPots.Engine.Schedule>(r.Schedule, Audit.Json),
            };
        }).ToList();
    }

    static IReadOnlyList<string> Commitments(string? drops)
    {
        if (drops is null) return [];
        using var doc = JsonDocument.Parse(drops);
        return [.. new[] { "value", "time" }
            .Select(k => doc.RootElement.TryGetProperty(k, out var d) && d.ValueKind == JsonValueKind.Object ? d.GetProperty("commitment").GetString() : null)
            .OfType<string>()];
    }
}
