using System.Collections.Concurrent;
using Dapper;
using Npgsql;

namespace ThrillPots.Links;

/// <summary>
/// The instances directly linked from an instance, for v2 propagation (spec §14.2), in the order they were linked. Cached
/// for one second like source resolution: the batch path must not ask the database for links per contribution, and a link
/// change is seen within that second.
/// </summary>
public sealed class LinkedInstances(NpgsqlDataSource db)
{
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    readonly ConcurrentDictionary<Guid, (Guid[] Links, long Expires)> cache = new();

    public async Task<Guid[]> FromAsync(Guid instanceId, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (cache.TryGetValue(instanceId, out var hit) && hit.Expires > now) return hit.Links;
        await using var c = await db.OpenConnectionAsync(ct);
        var links = (await c.QueryAsync<Guid>(new CommandDefinition("""
            select to_instance from instance_links where from_instance = @instanceId order by created_at, to_instance
            """, new { instanceId }, cancellationToken: ct))).ToArray();
        if (cache.Count > 100_000) cache.Clear();
        cache[instanceId] = (links, now + (long)CacheFor.TotalMilliseconds);
        return links;
    }

    /// <summary>Uncached, for opt-ins (rare, and a player who just linked expects it to apply).</summary>
    public static async Task<Guid[]> FromAsync(NpgsqlConnection c, Guid instanceId, CancellationToken ct) =>
        [.. await c.QueryAsync<Guid>(new CommandDefinition(
            "select to_instance from instance_links where from_instance = @instanceId order by created_at, to_instance",
            new { instanceId }, cancellationToken: ct))];
}
