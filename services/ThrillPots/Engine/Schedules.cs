using System.Text.Json.Serialization;

namespace ThrillPots.Engine;

// An instance's schedule (spec thrillpots-engine.md §17), as POST /templates/instantiate spells it. All times are UTC.
// Members are nullable so that validation can name every missing one.

public sealed record ScheduleTime(int? Hour, int? Minute, int? Sec)
{
    public int Seconds => Hour!.Value * 3600 + Minute!.Value * 60 + Sec!.Value;
}

public sealed record DailyRule(IReadOnlyList<IReadOnlyList<ScheduleTime?>?>? Hours);

public sealed record WeeklyRule(IReadOnlyList<string?>? Days, IReadOnlyList<IReadOnlyList<ScheduleTime?>?>? Hours);

/// <summary>Exactly one member is set.</summary>
public sealed record Frequency(
    [property: JsonPropertyName("Daily")] DailyRule? Daily,
    [property: JsonPropertyName("Weekly")] WeeklyRule? Weekly);

/// <summary><see cref="Interval"/> N: every Nth day (Daily) or week (Weekly), counted from the date of timestamp_start; 1 when left out.</summary>
public sealed record RecurrenceRule(Frequency? Frequency, int? Interval);

/// <summary>Open from <see cref="TimestampStart"/> (inclusive) to <see cref="TimestampEnd"/> (exclusive), epoch ms; with
/// recurrence rules, only inside their windows.</summary>
public sealed record Schedule(long? TimestampStart, long? TimestampEnd, IReadOnlyList<RecurrenceRule?>? RecurrenceRules);

/// <summary>The schedule at one instant: open or not, when the open stretch ends, when the next one starts (null: never).</summary>
public readonly record struct ScheduleState(bool Open, long? ClosesAt, long? NextOpenAt);

/// <summary>
/// Evaluates schedules. Boundaries: a window [start, end] of times of day is open from start's second (inclusive) to the end
/// of end's second, i.e. until end + 1 s exclusive ("21:59:59" is open until 22:00:00). A window must start before it ends
/// on the same day (windows crossing midnight are refused; two windows meeting at midnight join into one open stretch).
/// Interval N counts days (Daily) or weeks of 7 days (Weekly) from the UTC date of timestamp_start: the rule applies on
/// days d with (d − start date) mod N = 0, or in weeks w = floor((d − start date) / 7) with w mod N = 0.
/// Windows of several rules are united.
/// </summary>
public static class Schedules
{
    const long Day = 86_400_000;
    public const int MaxInterval = 1000;
    public const string Closed = "Closed";

    static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    /// <summary>Every broken rule keyed by its JSON path under <paramref name="at"/>; empty when the schedule is usable.</summary>
    public static Dictionary<string, string[]> Validate(Schedule? s, string at = "schedule")
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message)
        {
            if (!errors.ContainsKey(field)) errors[field] = [message];
        }
        if (s is null)
        {
            Error(at, "An object is required.");
            return errors;
        }
        if (s.TimestampStart is not > 0) Error($"{at}.timestamp_start", "Required: a Unix time in milliseconds.");
        if (s.TimestampEnd is not > 0) Error($"{at}.timestamp_end", "Required: a Unix time in milliseconds.");
        else if (s.TimestampStart is > 0 && s.TimestampEnd <= s.TimestampStart) Error($"{at}.timestamp_end", "Must be after timestamp_start.");
        for (var i = 0; i < (s.RecurrenceRules?.Count ?? 0); i++)
        {
            var r = s.RecurrenceRules![i];
            var p = $"{at}.recurrence_rules[{i}]";
            if (r is null)
            {
                Error(p, "An object is required.");
                continue;
            }
            if (r.Interval is { } n && n is < 1 or > MaxInterval) Error($"{p}.interval", $"An integer from 1 to {MaxInterval} (or left out for 1).");
            if (r.Frequency is null || (r.Frequency.Daily is null) == (r.Frequency.Weekly is null))
            {
                Error($"{p}.frequency", "Exactly one of Daily and Weekly is required.");
                continue;
            }
            if (r.Frequency.Daily is { } daily) CheckHours(daily.Hours, $"{p}.frequency.Daily.hours", Error);
            else
            {
                var weekly = r.Frequency.Weekly!;
                var f = $"{p}.frequency.Weekly";
                if (weekly.Days is not { Count: > 0 }) Error($"{f}.days", "Required: at least one of " + string.Join(", ", DayNames) + ".");
                else
                    for (var d = 0; d < weekly.Days.Count; d++)
                        if (!DayNames.Contains(weekly.Days[d]))
                            Error($"{f}.days[{d}]", $"'{weekly.Days[d]}' is not a day; one of {string.Join(", ", DayNames)}.");
                CheckHours(weekly.Hours, $"{f}.hours", Error);
            }
        }
        return errors;
    }

    static void CheckHours(IReadOnlyList<IReadOnlyList<ScheduleTime?>?>? hours, string at, Action<string, string> error)
    {
        if (hours is not { Count: > 0 })
        {
            error(at, "Required: at least one [start, end] pair.");
            return;
        }
        for (var i = 0; i < hours.Count; i++)
        {
            var pair = hours[i];
            if (pair is not { Count: 2 })
            {
                error($"{at}[{i}]", "A [start, end] pair of {hour, minute, sec}.");
                continue;
            }
            var ok = true;
            for (var j = 0; j < 2; j++)
            {
                var t = pair[j];
                var f = $"{at}[{i}][{j}]";
                if (t is null)
                {
                    error(f, "Required: {hour, minute, sec}.");
                    ok = false;
                    continue;
                }
                if (t.Hour is not (>= 0 and <= 23)) { error($"{f}.hour", "An integer from 0 to 23."); ok = false; }
                if (t.Minute is not (>= 0 and <= 59)) { error($"{f}.minute", "An integer from 0 to 59."); ok = false; }
                if (t.Sec is not (>= 0 and <= 59)) { error($"{f}.sec", "An integer from 0 to 59."); ok = false; }
            }
            if (ok && pair[0]!.Seconds >= pair[1]!.Seconds)
                error($"{at}[{i}]", "The start must be before the end on the same day (a window may not cross midnight: split it in two).");
        }
    }

    /// <summary>Whether the schedule is open at <paramref name="t"/> (ms), when that ends, and when it next opens.</summary>
    public static ScheduleState Evaluate(Schedule s, long t)
    {
        using var windows = Windows(s, t).GetEnumerator();
        if (!windows.MoveNext()) return new(false, null, null);
        var (start, end) = windows.Current;
        if (start > t) return new(false, null, start);
        return new(true, end, windows.MoveNext() ? windows.Current.Start : null);
    }

    public static bool IsOpen(Schedule s, long t) => Evaluate(s, t).Open;

    /// <summary>
    /// The open stretch containing <paramref name="t"/>, if any, with its true start (a raffle period's key): the scan goes
    /// back, doubling, until it starts before the stretch does.
    /// </summary>
    public static (long Start, long End)? WindowAt(Schedule s, long t)
    {
        for (var back = 0L; ; back = back == 0 ? Day : back * 2)
        {
            var from = t - back;
            (long Start, long End)? found = null;
            foreach (var w in Windows(s, from))
            {
                if (w.Start > t) break;
                if (w.End > t)
                {
                    found = w;
                    break;
                }
            }
            if (found is not { } stretch) return null;
            var scanStart = (FloorDiv(from, Day) - 1) * Day;
            if (stretch.Start > scanStart || stretch.Start <= (s.TimestampStart ?? long.MinValue) || (s.RecurrenceRules?.Count ?? 0) == 0)
                return stretch;
        }
    }

    /// <summary>
    /// The open stretches [Start, End) that end after <paramref name="from"/>, in order, merged where they touch or overlap
    /// and clamped to [timestamp_start, timestamp_end). A stretch already open at <paramref name="from"/> is reported from
    /// no earlier than the day before <paramref name="from"/>'s.
    /// </summary>
    public static IEnumerable<(long Start, long End)> Windows(Schedule s, long from)
    {
        long lo = s.TimestampStart ?? long.MinValue, hi = s.TimestampEnd ?? long.MaxValue;
        if (from >= hi) yield break;
        var rules = (s.RecurrenceRules ?? []).OfType<RecurrenceRule>().ToList();
        if (rules.Count == 0)
        {
            yield return (lo, hi);
            yield break;
        }
        var startDay = FloorDiv(lo, Day);
        // A rule with windows has one within every max(N, 7N) consecutive days; a longer gap means none will come.
        var gapLimit = rules.Max(r => r.Frequency?.Weekly is null ? r.Interval ?? 1 : 7 * (r.Interval ?? 1)) + 1;
        (long Start, long End)? pending = null;
        var empty = 0;
        for (var day = Math.Max(FloorDiv(from, Day) - 1, startDay); day * Day < hi && empty <= gapLimit; day++)
        {
            var today = DayWindows(rules, day, startDay);
            empty = today.Count == 0 ? empty + 1 : 0;
            foreach (var (a0, b0) in today)
            {
                long a = Math.Max(a0, lo), b = Math.Min(b0, hi);
                if (a >= b) continue;
                if (pending is { } p && a <= p.End)
                {
                    pending = (p.Start, Math.Max(p.End, b));
                    continue;
                }
                if (pending is { } done && done.End > from) yield return done;
                pending = (a, b);
            }
        }
        if (pending is { } last && last.End > from) yield return last;
    }

    static List<(long, long)> DayWindows(List<RecurrenceRule> rules, long day, long startDay)
    {
        var list = new List<(long, long)>();
        var weekday = DayNames[(int)((day % 7 + 7 + 4) % 7)]; // 1970-01-01 was a Thursday
        foreach (var r in rules)
        {
            var n = r.Interval ?? 1;
            IReadOnlyList<IReadOnlyList<ScheduleTime?>?>? hours;
            if (r.Frequency?.Daily is { } daily)
            {
                if ((day - startDay) % n != 0) continue;
                hours = daily.Hours;
            }
            else if (r.Frequency?.Weekly is { } weekly)
            {
                if ((day - startDay) / 7 % n != 0 || weekly.Days?.Contains(weekday) != true) continue;
                hours = weekly.Hours;
            }
            else continue;
            foreach (var pair in hours ?? [])
                list.Add((day * Day + pair![0]!.Seconds * 1000L, day * Day + (pair[1]!.Seconds + 1) * 1000L));
        }
        list.Sort();
        return list;
    }

    static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>The status JackpotUpdateEvent reports: "Closed" for an Active instance outside its schedule's windows.</summary>
    public static string Status(string state, Schedule? s, long now) =>
        state == "Active" && s is not null && !IsOpen(s, now) ? Closed : state;

    public static string Iso(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
}
