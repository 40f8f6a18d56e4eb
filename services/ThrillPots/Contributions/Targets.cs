using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using ThrillPots.Admin;

namespace ThrillPots.Contributions;

/// <summary>
/// Resolves a contribution source to the instance it feeds for a brand (spec §15: a source maps to one or more instances;
/// the integration never names them). Among the instances assigned to the brand's source that allow the brand and the
/// source, an Active one wins, the most recently created first; with none Active the newest assigned one is returned, so
/// the writer refuses with its state. Resolutions are cached for one second: a contribution path at thousands per second
/// must not ask the database where a source points each time, and an assignment change is seen within that second.
/// </summary>
public sealed class Targets(NpgsqlDataSource db)
{
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    readonly ConcurrentDictionary<(string Brand, string Source), (SourceResolution Resolution, long Expires)> cache = new();

    public sealed record Candidate(Guid Id, string State, string[] AllowedBrands, string[] AllowedSources, DateTime CreatedAt);

    /// <summary>Known: whether the brand has such a source; Instance: where it points (null: nowhere for this brand).</summary>
    public sealed record SourceResolution(bool Known, Guid? Instance, IReadOnlyList<Candidate> Candidates);

    public async Task<SourceResolution> ResolveAsync(string brandId, string sourceId, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (cache.TryGetValue((brandId, sourceId), out var hit) && hit.Expires > now) return hit.Resolution;
        await using var c = await db.OpenConnectionAsync(ct);
        var known = await c.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from sources where owner_id = @brandId and source_id = @sourceId)", new { brandId, sourceId }, cancellationToken: ct));
        var candidates = (await c.QueryAsync<Candidate>(new CommandDefinition("""
            select i.id as Id, i.state as State, i.allowed_brands as AllowedBrands, i.allowed_sources as AllowedSources, i.created_at as CreatedAt
            from source_instances s join instances i on i.id = s.instance_id
            where s.owner_id = @brandId and s.source_id = @sourceId
            """, new { brandId, sourceId }, cancellationToken: ct))).ToList();
        var resolution = new SourceResolution(known, Choose(candidates, brandId, sourceId), candidates);
        cache[(brandId, sourceId)] = (resolution, now + (long)CacheFor.TotalMilliseconds);
        return resolution;
    }

    /// <summary>Drops a cached resolution (its instance refused: it may have been switched or re-assigned within the second).</summary>
    public void Forget(string brandId, string sourceId) => cache.TryRemove((brandId, sourceId), out _);

    public static Guid? Choose(IEnumerable<Candidate> candidates, string brandId, string sourceId) =>
        candidates
            .Where(i => i.AllowedBrands.Contains(brandId) && (i.AllowedSources.Length == 0 || i.AllowedSources.Contains(sourceId)))
            .OrderByDescending(i => i.State == InstanceEndpoints.Active)
            .ThenByDescending(i => i.CreatedAt)
            .Select(i => (Guid?)i.Id)
            .FirstOrDefault();
}
