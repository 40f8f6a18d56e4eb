using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ThrillPots.Templates;

namespace ThrillPots.Engine;

/// <summary>
/// MustDropByValue / MustDropByTime draws and their commitments (design.md §4). The commitment is the lowercase hex
/// SHA-256 of the UTF-8 text <c>"{Kind}:{Value}:{Salt}"</c>, where Kind is <c>MustDropByValue</c> or
/// <c>MustDropByTime</c>, Value is the drop value in invariant culture without trailing zeros (<c>1234.56</c>) or the drop
/// time in Unix milliseconds (<c>1767225600000</c>), and Salt is 32 random bytes in lowercase hex. So
/// <c>printf 'MustDropByValue:1234.56:&lt;salt&gt;' | sha256sum</c> checks a revealed drop.
/// </summary>
public static class DropCommitments
{
    const int SaltBytes = 32;

    public static string ComputeCommitment(DropKind kind, string value, string salt) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}:{value}:{salt}")));

    public static bool Verify(string commitment, DropKind kind, string value, string salt) =>
        CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(ComputeCommitment(kind, value, salt)), Encoding.ASCII.GetBytes(commitment.ToLowerInvariant()));

    public static string FormatValue(decimal value) => value.ToString("0.############################", CultureInfo.InvariantCulture);

    public static string CanonicalValue(DropCommitment drop) => drop.Kind switch
    {
        DropKind.MustDropByValue => FormatValue(drop.DropValue ?? throw new InvalidOperationException("A value drop without a value.")),
        _ => (drop.DropAtMs ?? throw new InvalidOperationException("A time drop without a time.")).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// A drop value uniform over the currency's minor-unit grid in (seed, maxValue]: k × unit for the integers k with
    /// seed &lt; k × unit ≤ maxValue. When that interval holds no grid point (seed ≥ maxValue, or both within one minor
    /// unit) the drop is maxValue itself, so the next contribution that keeps the pot at or above it wins.
    /// </summary>
    public static decimal DrawValue(decimal seed, decimal maxValue, string currency, IRandomSource random)
    {
        var unit = Money.MinorUnit(currency);
        var first = decimal.Floor(seed / unit) + 1m;
        var last = decimal.Floor(maxValue / unit);
        if (last < first)
            return maxValue;
        var count = last - first + 1m;
        if (count > long.MaxValue)
            throw new OverflowException($"({seed}, {maxValue}] holds too many minor units of {currency} to draw from.");
        return (first + random.NextInt64((long)count)) * unit;
    }

    public static DropCommitment CommitValue(decimal dropValue, IRandomSource random)
    {
        var salt = NewSalt(random);
        return new(DropKind.MustDropByValue, dropValue, null, null, salt,
            ComputeCommitment(DropKind.MustDropByValue, FormatValue(dropValue), salt));
    }

    /// <summary>
    /// The drop of the cycle that ends at the first deadline after <paramref name="fromMs"/>: a time uniform (to the
    /// millisecond) in [max(fromMs, deadline − window), deadline). Null when the trigger has no deadline left (a one-off
    /// timestamp already passed).
    /// </summary>
    public static DropCommitment? DrawTime(MustDropByTimeTrigger trigger, long fromMs, IRandomSource random)
    {
        var deadline = NextDeadline(trigger, fromMs);
        if (deadline is not long d)
            return null;
        var window = checked((trigger.WindowSeconds ?? throw new ArgumentException("MustDropByTime needs window_seconds.")) * 1000L);
        var start = Math.Max(fromMs, d - window);
        var dropAt = start + random.NextInt64(d - start);
        var salt = NewSalt(random);
        return new(DropKind.MustDropByTime, null, dropAt, d, salt,
            ComputeCommitment(DropKind.MustDropByTime, dropAt.ToString(CultureInfo.InvariantCulture), salt));
    }

    /// <summary>The first deadline strictly after <paramref name="afterMs"/> (Unix ms, UTC), or null if none.</summary>
    public static long? NextDeadline(MustDropByTimeTrigger trigger, long afterMs)
    {
        if (trigger.DeadlineTimestamp is long once)
            return once > afterMs ? once : null;
        if (trigger.DailyTime is not { } daily || !TimeOnly.TryParseExact(daily, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
            throw new ArgumentException("MustDropByTime needs daily_time (\"HH:mm\", UTC) or deadline_timestamp.");
        var after = DateTimeOffset.FromUnixTimeMilliseconds(afterMs);
        var candidate = new DateTimeOffset(DateOnly.FromDateTime(after.UtcDateTime), time, TimeSpan.Zero);
        if (candidate <= after)
            candidate = candidate.AddDays(1);
        return candidate.ToUnixTimeMilliseconds();
    }

    static string NewSalt(IRandomSource random)
    {
        Span<byte> salt = stackalloc byte[SaltBytes];
        random.NextBytes(salt);
        return Convert.ToHexStringLower(salt);
    }
}
