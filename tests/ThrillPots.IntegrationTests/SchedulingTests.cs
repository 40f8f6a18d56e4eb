using Dapper;
using Npgsql;
using ThrillSuite.Contracts.Pots;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// Instance schedules (spec §17) on a real ThrillPots: validated at instantiation, enforced by the writer (outside a window
/// a contribution is refused with the next opening), reported as status "Closed" in JackpotUpdateEvent, and the instance
/// started and ended by the ticker at the schedule's start and end.
/// </summary>
public class SchedulingTests
{
    const long Day = 86_400_000;

    static object Time(int seconds) => new { hour = seconds / 3600, minute = seconds / 60 % 60, sec = seconds % 60 };

    static object DailySchedule(long start, long end, params (int From, int To)[] windows) => new
    {
        timestamp_start = start, timestamp_end = end,
        recurrence_rules = new[] { new { frequency = new { Daily = new { hours = windows.Select(w => new[] { Time(w.From), Time(w.To) }).ToArray() } }, interval = 1 } },
    };

    public static async Task<Jackpot> InstantiateAsync(object? schedule, JsonObject? template = null, string[]? brands = null)
    {
        var pots = Servers.Pots;
        var templateId = (await pots.PostAsync("/templates", Servers.OperatorA, template ?? Jackpots.Template())).Expect(HttpStatusCode.Created)
            .Json.GetProperty("id").GetString()!;
        (await pots.PostAsync($"/templates/{templateId}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var id = (await pots.PostAsync("/templates/instantiate", Servers.OperatorA, new
        {
            template_id = templateId, owner_id = "tpa", allowed_brands = brands ?? ["tpa:b1", "tpa:b2"], schedule,
        })).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        return new Jackpot(id, "");
    }

    static async Task<string> StateAsync(Jackpot j) =>
        (await Servers.Pots.GetAsync($"/instances/{j.Id}", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json.GetProperty("state").GetString()!;

    /// <summary>Seconds of the UTC day now; refuses to run in the last minutes of a day, where windows would cross midnight.</summary>
    static (long Midnight, int Second) Today()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var second = (int)(now % Day / 1000);
        Assume.That(second, Is.InRange(120, 86_399 - 300), "too close to midnight UTC for windows of today");
        return (now / Day * Day, second);
    }

    [Test]
    public async Task Outside_a_window_contributions_are_refused_with_the_next_opening_and_inside_they_are_accepted()
    {
        var (midnight, second) = Today();
        var span = (midnight - Day, midnight + 7 * Day);
        // Open now (ten minutes either side), and one closed now whose next window opens at a known time.
        var open = await InstantiateAsync(DailySchedule(span.Item1, span.Item2, (Math.Max(0, second - 600), Math.Min(86_399, second + 600))));
        var (closedWindow, nextOpen) = second < 43_200
            ? ((second + 3600, 86_399), midnight + (second + 3600) * 1000L)
            : ((0, second - 3600), midnight + Day);
        var closed = await InstantiateAsync(DailySchedule(span.Item1, span.Item2, closedWindow));

        (await Jackpots.ContributeAsync(Jackpots.Body(open))).Expect(HttpStatusCode.OK);
        var refused = (await Jackpots.ContributeAsync(Jackpots.Body(closed))).ExpectProblem(HttpStatusCode.Conflict).Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("outside_schedule"));
        Assert.That(refused.GetProperty("state").GetString(), Is.EqualTo("Closed"));
        Assert.That(refused.GetProperty("next_open_timestamp").GetInt64(), Is.EqualTo(nextOpen));
        Assert.That(refused.GetProperty("next_open_at").GetString(),
            Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(nextOpen).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'")));
        Assert.That(await Jackpots.LedgerCountAsync(closed), Is.Zero, "nothing applied");

        // JackpotUpdateEvent tells the two apart: Active inside the window, Closed outside.
        await Events.WaitAsync<JackpotUpdated>(u => u.Id == closed.Guid && u.Status == "Closed", "the closed instance's ticker");
        await Events.WaitAsync<JackpotUpdated>(u => u.Id == open.Guid && u.Status == "Active", "the open instance's ticker");
    }

    [Test]
    public async Task A_window_opening_in_a_few_seconds_refuses_until_then_and_accepts_after()
    {
        var (midnight, second) = Today();
        var opens = second + 5;
        var instance = await InstantiateAsync(DailySchedule(midnight, midnight + Day, (opens, opens + 120)));
        var refused = (await Jackpots.ContributeAsync(Jackpots.Body(instance))).ExpectProblem(HttpStatusCode.Conflict).Json;
        Assert.That(refused.GetProperty("next_open_timestamp").GetInt64(), Is.EqualTo(midnight + opens * 1000L));
        await Events.WaitAsync<JackpotUpdated>(u => u.Id == instance.Guid && u.Status == "Closed", "Closed before the window");

        var body = Jackpots.Body(instance);
        await Eventually.TrueAsync(async () => (await Jackpots.ContributeAsync(body)).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(15),
            "the window to open");
        Assert.That(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Is.GreaterThanOrEqualTo(midnight + opens * 1000L), "not accepted before it opened");
        await Events.WaitAsync<JackpotUpdated>(u => u.Id == instance.Guid && u.Status == "Active", "Active once the window opened");
    }

    [Test]
    public async Task The_schedule_starts_and_ends_the_instance()
    {
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 2500;
        var instance = await InstantiateAsync(new { timestamp_start = start, timestamp_end = start + 3000 });
        var doc = (await Servers.Pots.GetAsync($"/instances/{instance.Id}", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(doc.GetProperty("state").GetString(), Is.EqualTo("Pending"));
        Assert.That(doc.GetProperty("start_timestamp").GetInt64(), Is.EqualTo(start));
        Assert.That(doc.GetProperty("end_timestamp").GetInt64(), Is.EqualTo(start + 3000));
        Assert.That(doc.GetProperty("schedule").GetProperty("timestamp_start").GetInt64(), Is.EqualTo(start), "the schedule is shown as stored");
        var pending = (await Jackpots.ContributeAsync(Jackpots.Body(instance))).ExpectProblem(HttpStatusCode.Conflict).Json;
        Assert.That(pending.GetProperty("reason").GetString(), Is.EqualTo("instance_not_active"));

        await Eventually.TrueAsync(async () => await StateAsync(instance) == "Active", TimeSpan.FromSeconds(10), "Pending → Active at the start");
        Assert.That(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Is.GreaterThanOrEqualTo(start));
        (await Jackpots.ContributeAsync(Jackpots.Body(instance))).Expect(HttpStatusCode.OK);
        await Eventually.TrueAsync(async () => await StateAsync(instance) == "Terminated", TimeSpan.FromSeconds(10), "Active → Terminated at the end");
        Assert.That(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Is.GreaterThanOrEqualTo(start + 3000));
        var audit = await Fixtures.AuditAsync(instance.Id);
        Assert.That(audit.Where(a => a.GetProperty("action").GetString() == "instance.state").Select(a => a.GetProperty("actor_sub").GetString()),
            Is.EqualTo(new[] { "system:schedule", "system:schedule" }));
    }

    [Test]
    public async Task A_bad_schedule_is_refused_naming_the_field_and_creates_nothing()
    {
        var templateId = (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, Jackpots.Template())).Expect(HttpStatusCode.Created)
            .Json.GetProperty("id").GetString()!;
        (await Servers.Pots.PostAsync($"/templates/{templateId}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        async Task Refused(object schedule, string field, object? extra = null)
        {
            var body = JsonSerializer.SerializeToNode(new { template_id = templateId, owner_id = "tpa", allowed_brands = new[] { "tpa:b1" }, schedule })!.AsObject();
            if (extra is not null) foreach (var (k, v) in JsonSerializer.SerializeToNode(extra)!.AsObject()) body[k] = v?.DeepClone();
            (await Servers.Pots.PostAsync("/templates/instantiate", Servers.OperatorA, body)).ExpectInvalid(field);
        }
        object Rule(object frequency, int interval = 1) => new { timestamp_start = now, timestamp_end = now + Day, recurrence_rules = new[] { new { frequency, interval } } };
        object Hours(params object[][] pairs) => pairs;

        await Refused(new { timestamp_start = now + 10, timestamp_end = now }, "schedule.timestamp_end");
        await Refused(new { timestamp_end = now }, "schedule.timestamp_start");
        await Refused(Rule(new { Daily = new { hours = Hours([new { hour = 24, minute = 0, sec = 0 }, Time(3600)]) } }),
            "schedule.recurrence_rules[0].frequency.Daily.hours[0][0].hour");
        await Refused(Rule(new { Daily = new { hours = Hours([Time(0), new { hour = 1, minute = 60, sec = 0 }]) } }),
            "schedule.recurrence_rules[0].frequency.Daily.hours[0][1].minute");
        await Refused(Rule(new { Daily = new { hours = Hours([Time(0), new { hour = 1, minute = 0, sec = 60 }]) } }),
            "schedule.recurrence_rules[0].frequency.Daily.hours[0][1].sec");
        await Refused(Rule(new { Daily = new { hours = Hours([Time(7200), Time(3600)]) } }), "schedule.recurrence_rules[0].frequency.Daily.hours[0]");
        await Refused(Rule(new { Daily = new { hours = Hours([Time(0), Time(3600)]) } }, interval: 0), "schedule.recurrence_rules[0].interval");
        await Refused(Rule(new { Weekly = new { days = new[] { "Monday", "Caturday" }, hours = Hours([Time(0), Time(3600)]) } }),
            "schedule.recurrence_rules[0].frequency.Weekly.days[1]");
        await Refused(Rule(new { Hourly = new { } }), "schedule.recurrence_rules[0].frequency");
        await Refused(new { timestamp_start = now, timestamp_end = now + Day }, "schedule", new { start_timestamp = now });

        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        Assert.That(await c.ExecuteScalarAsync<long>("select count(*) from instances where template_id = @id", new { id = Guid.Parse(templateId) }), Is.Zero);
    }
}
