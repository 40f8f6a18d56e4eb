using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ThrillPots.Jackpots;

/// <summary>
/// thrillpots.pot.value: every pot's current value in its jackpot's currency, from what the <see cref="Ticker"/> loads anyway
/// (every instance at least once per heartbeat), so the gauge costs no query of its own. Only the replica that ticks has
/// fresh values; a value not refreshed for three heartbeats (the instance ended, or another replica ticks now) is dropped.
/// </summary>
public static class PotValueGauge
{
    static readonly Meter Meter = new("ThrillSuite.ThrillPots.Pots");
    static readonly ConcurrentDictionary<(Guid Instance, string Pot), (decimal Value, string Currency, string Owner, DateTime Seen)> values = new();
    static TimeSpan expiry = TimeSpan.FromSeconds(15);

    static PotValueGauge() =>
        Meter.CreateObservableGauge("thrillpots.pot.value", Observe, unit: "{currency unit}",
            description: "A pot's current value in its jackpot's currency");

    public static void Update(InstanceView view, TimeSpan heartbeat)
    {
        expiry = heartbeat * 3;
        var now = DateTime.UtcNow;
        if (view.State == "Terminated")
            foreach (var pot in view.Pots) values.TryRemove((view.Id, pot.Id), out _);
        else
            foreach (var pot in view.Pots) values[(view.Id, pot.Id)] = (pot.CurrentValue, view.Currency, view.OwnerId, now);
    }

    static IEnumerable<Measurement<double>> Observe()
    {
        var stale = DateTime.UtcNow - expiry;
        foreach (var (key, v) in values)
        {
            if (v.Seen < stale)
            {
                values.TryRemove(key, out _);
                continue;
            }
            yield return new Measurement<double>((double)v.Value, new KeyValuePair<string, object?>("instance_id", key.Instance.ToString()),
                new("pot_id", key.Pot), new("currency", v.Currency), new("owner_id", v.Owner));
        }
    }
}
