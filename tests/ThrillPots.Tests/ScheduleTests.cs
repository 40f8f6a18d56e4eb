namespace ThrillPots.Tests;

/// <summary>
/// Schedules (spec §17) against a brute-force reference: open at t iff t is in [timestamp_start, timestamp_end) and, on t's
/// UTC day, some rule applies (interval counted from timestamp_start's date) with a window whose start second ≤ t's second
/// of the day ≤ its end second. Randomised with fixed seeds.
/// </summary>
public class ScheduleTests
{
    const long Day = 86_400_000;
    static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    static bool Reference(Schedule s, long t)
    {
        if (t < s.TimestampStart || t >= s.TimestampEnd) return false;
        if (s.RecurrenceRules is not { Count: > 0 } rules) return true;
        var day = t / Day;
        var startDay = s.TimestampStart!.Value / Day;
        var second = (int)(t % Day / 1000);
        var weekday = DateTimeOffset.FromUnixTimeMilliseconds(t).DayOfWeek.ToString();
        foreach (var r in rules)
        {
            var n = r!.Interval ?? 1;
            var hours = r.Frequency!.Daily?.Hours ?? r.Frequency.Weekly!.Hours!;
            var applies = r.Frequency.Daily is not null
                ? (day - startDay) % n == 0
                : (day - startDay) / 7 % n == 0 && r.Frequency.Weekly!.Days!.Contains(weekday);
            if (applies && hours.Any(p => p![0]!.Seconds <= second && second <= p[1]!.Seconds)) return true;
        }
        return false;
    }

    /// <summary>Every rule window written out day by day (no merging logic shared with the engine), united and clamped.</summary>
    static List<(long Start, long End)> ReferenceWindows(Schedule s)
    {
        long lo = s.TimestampStart!.Value, hi = s.TimestampEnd!.Value;
        var raw = new List<(long, long)>();
        for (var t = lo / Day * Day; t < hi; t += Day)
            for (var second = 0; second < 86_400; second++)
            {
                // Window starts are whole seconds: scanning each second's start finds every window exactly.
                var at = t + second * 1000L;
                if (at + 1000 <= lo) continue;
                if (Reference(s, Math.Max(at, lo)) && at < hi)
                {
                    var from = Math.Max(at, lo);
                    var to = Math.Min(at + 1000, hi);
                    if (raw.Count > 0 && raw[^1].Item2 >= from) raw[^1] = (raw[^1].Item1, to);
                    else raw.Add((from, to));
                }
            }
        return raw;
    }

    static Schedule RandomSchedule(Random rng, int maxDays, int maxInterval)
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() + rng.NextInt64(400 * Day);
        var end = start + 1 + rng.NextInt64(maxDays * Day);
        var rules = new List<RecurrenceRule?>();
        var count = rng.Next(0, 4);
        for (var i = 0; i < count; i++)
        {
            var hours = new List<IReadOnlyList<ScheduleTime?>?>();
            for (var j = rng.Next(1, 4); j > 0; j--)
            {
                // Mostly short windows, sometimes touching midnight or each other, sometimes two seconds long.
                var a = rng.Next(4) == 0 ? 0 : rng.Next(0, 86_399);
                var b = rng.Next(4) == 0 ? 86_399 : Math.Min(86_399, a + 1 + rng.Next(rng.Next(2) == 0 ? 3 : 30_000));
                if (a >= b) a = b - 1;
                hours.Add([T(a), T(b)]);
            }
            var interval = rng.Next(3) == 0 ? (int?)null : rng.Next(1, maxInterval + 1);
            rules.Add(rng.Next(2) == 0
                ? new RecurrenceRule(new Frequency(new DailyRule(hours), null), interval)
                : new RecurrenceRule(new Frequency(null, new WeeklyRule([.. DayNames.Where(_ => rng.Next(3) == 0).DefaultIfEmpty("Friday")], hours)), interval));
        }
        var schedule = new Schedule(start, end, rules);
        Assert.That(Schedules.Validate(schedule), Is.Empty, "the generator makes valid schedules");
        return schedule;
    }

    static ScheduleTime T(int seconds) => new(seconds / 3600, seconds / 60 % 60, seconds % 60);

    [Test]
    public void The_open_stretches_are_the_brute_force_windows_second_by_second()
    {
        var rng = new Random(8_17);
        for (var n = 0; n < 60; n++)
        {
            var s = RandomSchedule(rng, maxDays: 5, maxInterval: 3);
            var expected = ReferenceWindows(s);
            var actual = Schedules.Windows(s, s.TimestampStart!.Value - 1).ToList();
            Assert.That(actual, Is.EqualTo(expected), $"schedule #{n}: no window lost, none invented, touching ones joined");
            foreach (var w in expected)
                foreach (var t in new[] { w.Start, (w.Start + w.End) / 2, w.End - 1 })
                    Assert.That(Schedules.WindowAt(s, t), Is.EqualTo(w), $"schedule #{n}: the stretch around {t}, with its true start");
        }
    }

    [Test]
    public void Evaluation_agrees_with_the_reference_and_the_times_it_gives_are_right()
    {
        var rng = new Random(2026);
        var cases = 0;
        for (var n = 0; n < 300; n++)
        {
            var s = RandomSchedule(rng, maxDays: 60, maxInterval: 4);
            long lo = s.TimestampStart!.Value, hi = s.TimestampEnd!.Value;
            var windows = Schedules.Windows(s, lo - 1).ToList();
            var times = Enumerable.Range(0, 60).Select(_ => lo - Day + rng.NextInt64(hi - lo + 2 * Day))
                .Concat(windows.Take(20).SelectMany(w => new[] { w.Start - 1, w.Start, w.End - 1, w.End }))
                .Append(lo - 1).Append(lo).Append(hi - 1).Append(hi);
            foreach (var t in times)
            {
                cases++;
                var state = Schedules.Evaluate(s, t);
                Assert.That(state.Open, Is.EqualTo(Reference(s, t)), $"#{n} open at {t}");
                if (state.Open)
                {
                    var closes = state.ClosesAt!.Value;
                    Assert.That(closes, Is.GreaterThan(t));
                    Assert.That(Reference(s, closes - 1) && !Reference(s, closes), $"#{n}: open until {closes} exclusive");
                    // Open all the way: every second boundary in between (windows change only on whole seconds).
                    for (var x = t; x < closes; x = (x / 1000 + 60) * 1000)
                        Assert.That(Reference(s, x), $"#{n}: open at {x} before closing at {closes}");
                    if (state.NextOpenAt is { } again)
                        Assert.That(again, Is.GreaterThan(closes).And.Matches<long>(a => Reference(s, a) && !Reference(s, a - 1)));
                }
                else if (state.NextOpenAt is { } next)
                {
                    Assert.That(next, Is.GreaterThan(t));
                    Assert.That(Reference(s, next) && !Reference(s, next - 1), $"#{n}: opens exactly at {next}");
                    Assert.That(windows.Any(w => w.Start > t && w.Start < next), Is.False, $"#{n}: nothing opens between {t} and {next}");
                }
                else
                    Assert.That(windows.Any(w => w.End > t), Is.False, $"#{n}: never opens again after {t}");
            }
        }
        Assert.That(cases, Is.GreaterThan(20_000));
    }

    [Test]
    public void The_end_second_is_inclusive_and_the_window_start_too()
    {
        var day = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var s = new Schedule(day, day + 31 * Day, [new RecurrenceRule(new Frequency(new DailyRule([[T(10 * 3600), T(21 * 3600 + 59 * 60 + 59)]]), null), 1)]);
        Assert.That(Schedules.IsOpen(s, day + 10 * 3_600_000 - 1), Is.False);
        Assert.That(Schedules.IsOpen(s, day + 10 * 3_600_000), Is.True);
        Assert.That(Schedules.Evaluate(s, day + 21 * 3_600_000 + 59 * 60_000 + 59_999), Is.EqualTo(new ScheduleState(true, day + 22 * 3_600_000, day + Day + 10 * 3_600_000)));
        Assert.That(Schedules.Evaluate(s, day + 22 * 3_600_000), Is.EqualTo(new ScheduleState(false, null, day + Day + 10 * 3_600_000)));
        Assert.That(Schedules.Iso(day + Day + 10 * 3_600_000), Is.EqualTo("2025-01-02T10:00:00.000Z"));
    }

    [Test]
    public void Interval_counts_days_and_weeks_from_the_start_date()
    {
        // 2025-01-01 is a Wednesday; every 2nd day from the 1st; Weekly every 2nd week on Fridays (the 3rd, the 17th...).
        var day = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var all = new List<IReadOnlyList<ScheduleTime?>?> { new[] { T(0), T(3600) } };
        var daily = new Schedule(day, day + 30 * Day, [new RecurrenceRule(new Frequency(new DailyRule(all), null), 2)]);
        var midnight = day - 12 * 3_600_000;
        Assert.That(Schedules.IsOpen(daily, midnight + 2 * Day + 60_000), Is.True, "the 3rd");
        Assert.That(Schedules.IsOpen(daily, midnight + 3 * Day + 60_000), Is.False, "the 4th");
        Assert.That(Schedules.IsOpen(daily, midnight + 60_000), Is.False, "before timestamp_start");
        var weekly = new Schedule(day, day + 30 * Day, [new RecurrenceRule(new Frequency(null, new WeeklyRule(["Friday"], all)), 2)]);
        Assert.That(Schedules.Evaluate(weekly, day).NextOpenAt, Is.EqualTo(midnight + 2 * Day));
        Assert.That(Schedules.Evaluate(weekly, midnight + 2 * Day + 3_600_001).NextOpenAt, Is.EqualTo(midnight + 16 * Day));
    }

    [Test]
    public void A_stretch_of_many_days_is_one_window_wherever_it_is_looked_at()
    {
        var day = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var s = new Schedule(day + 5000, day + 40 * Day, [new RecurrenceRule(new Frequency(new DailyRule([[T(0), T(86_399)]]), null), 1)]);
        foreach (var t in new[] { day + 5000, day + 3 * Day, day + 39 * Day + 7 })
            Assert.That(Schedules.WindowAt(s, t), Is.EqualTo((day + 5000, day + 40 * Day)));
        Assert.That(Schedules.WindowAt(s, day + 40 * Day), Is.Null);
    }

    [Test]
    public void Windows_meeting_at_midnight_join_and_crossing_it_is_refused()
    {
        var day = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var s = new Schedule(day, day + 10 * Day, [new RecurrenceRule(new Frequency(new DailyRule([[T(22 * 3600), T(86_399)], [T(0), T(3599)]]), null), 1)]);
        Assert.That(Schedules.Evaluate(s, day + Day - 1), Is.EqualTo(new ScheduleState(true, day + Day + 3_600_000, day + Day + 22 * 3_600_000)));

        var crossing = new Schedule(day, day + Day, [new RecurrenceRule(new Frequency(new DailyRule([[T(22 * 3600), T(3600)]]), null), 1)]);
        Assert.That(Schedules.Validate(crossing).Keys, Is.EquivalentTo(new[] { "schedule.recurrence_rules[0].frequency.Daily.hours[0]" }));
    }

    [Test]
    public void Validation_names_each_bad_field()
    {
        var bad = new Schedule(200, 100, [
            new RecurrenceRule(new Frequency(new DailyRule([[new ScheduleTime(24, 0, 0), new ScheduleTime(1, 60, 60)]]), null), 0),
            new RecurrenceRule(new Frequency(null, new WeeklyRule(["Funday"], [[T(5), T(4)]])), null),
            new RecurrenceRule(new Frequency(null, null), 1),
        ]);
        Assert.That(Schedules.Validate(bad).Keys, Is.EquivalentTo(new[]
        {
            "schedule.timestamp_end",
            "schedule.recurrence_rules[0].interval",
            "schedule.recurrence_rules[0].frequency.Daily.hours[0][0].hour",
            "schedule.recurrence_rules[0].frequency.Daily.hours[0][1].minute",
            "schedule.recurrence_rules[0].frequency.Daily.hours[0][1].sec",
            "schedule.recurrence_rules[1].frequency.Weekly.days[0]",
            "schedule.recurrence_rules[1].frequency.Weekly.hours[0]",
            "schedule.recurrence_rules[2].frequency",
        }));
    }
}
