using System.Collections.Concurrent;

namespace ThrillConnect.Rest;

/// <summary>
/// Answers kept for a short time per key, and one load per key at a time: concurrent misses of a key (a ticker page opened
/// by thousands of players at once, or anyone hammering a public read) wait for the same load instead of each calling
/// ThrillPots. A load runs on its own, not under the first caller's cancellation, so a caller that goes away does not fail
/// the others; a failed load is not kept, and the next caller tries again.
/// </summary>
public sealed class ReadCache(TimeProvider clock, int capacity = 50_000)
{
    readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    sealed record Entry(Lazy<Task<object>> Load, DateTimeOffset Expires);

    public async Task<T> GetAsync<T>(string key, TimeSpan ttl, Func<CancellationToken, Task<T>> load, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (!entries.TryGetValue(key, out var entry) || entry.Expires <= now)
        {
            if (entries.Count >= capacity) entries.Clear();
            var fresh = new Entry(new Lazy<Task<object>>(async () => (await load(CancellationToken.None))!), now + ttl);
            entry = entries.AddOrUpdate(key, fresh, (_, old) => old.Expires > now ? old : fresh);
        }
        try
        {
            return (T)await entry.Load.Value.WaitAsync(ct);
        }
        catch (Exception) when (entry.Load.Value.IsFaulted || entry.Load.Value.IsCanceled)
        {
            entries.TryRemove(KeyValuePair.Create(key, entry));
            throw;
        }
    }

    /// <summary>Drops every answer whose key matches (after a change the next read must see).</summary>
    public void Forget(Func<string, bool> matches)
    {
        foreach (var key in entries.Keys.Where(matches)) entries.TryRemove(key, out _);
    }
}
