using ThrillSuite.Contracts.Pots;

namespace ThrillPots.IntegrationTests;

/// <summary>The ticker's JackpotUpdateEvents, the schedule of start and end times, and the reconciliation report.</summary>
public class EventTests
{
    [Test]
    public async Task A_changed_instance_is_announced_with_its_new_pot_values()
    {
        var jackpot = await Jackpots.CreateAsync();
        (await Jackpots.ContributeAsync(Jackpots.Body(jackpot))).Expect(HttpStatusCode.OK);
        var update = await Events.WaitAsync<JackpotUpdated>(u => u.Id == jackpot.Guid && u.Pots[0].CurrentValue == 10.02m, "the update after the contribution");
        Assert.That(update.Status, Is.EqualTo("Active"));
        Assert.That(update.JackpotType, Is.EqualTo("Jackpot"));
        Assert.That(update.Currency, Is.EqualTo("EUR"));
        Assert.That(update.AllowedBrands, Is.EqualTo(new[] { "tpa:b1", "tpa:b2" }));
        Assert.That(update.Pots.Select(p => p.Id), Is.EqualTo(new[] { "small", "big" }));
        Assert.That(update.Pots[1].DropCommitments, Has.Count.EqualTo(1), "the MustDropByValue commitment is published, its value is not");
        Assert.That(update.Pots[1].DropCommitments![0], Does.Match("^[0-9a-f]{64}$"));
    }

    [Test]
    public async Task An_unchanged_instance_gets_a_heartbeat_and_a_state_change_is_announced()
    {
        var jackpot = await Jackpots.CreateAsync();
        var first = await Events.WaitAsync<JackpotUpdated>(u => u.Id == jackpot.Guid, "the first update");
        await Events.WaitAsync<JackpotUpdated>(u => u.Id == jackpot.Guid && !ReferenceEquals(u, first), "a heartbeat");
        Assert.That(Events.All<JackpotUpdated>().Count(u => u.Id == jackpot.Guid), Is.GreaterThanOrEqualTo(2));

        await Jackpots.SetStateAsync(jackpot, "Paused");
        await Events.WaitAsync<JackpotUpdated>(u => u.Id == jackpot.Guid && u.Status == "Paused", "the Paused update");
    }

    [Test]
    public async Task Instances_start_and_end_at_their_scheduled_times()
    {
        var template = (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, Jackpots.Template())).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString();
        (await Servers.Pots.PostAsync($"/templates/{template}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var start = DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds();
        var id = (await Servers.Pots.PostAsync("/templates/instantiate", Servers.OperatorA, new
        {
            template_id = template, owner_id = "tpa", allowed_brands = new[] { "tpa:b1" }, start_timestamp = start, end_timestamp = start + 3000,
        })).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        var jackpot = new Jackpot(id, "");
        (await Jackpots.ContributeAsync(Jackpots.Body(jackpot))).ExpectConflict();

        var active = await Events.WaitAsync<JackpotUpdated>(u => u.Id == jackpot.Guid && u.Status == "Active", "the start");
        Assert.That(active.TimestampStart, Is.EqualTo(start));
        Assert.That(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Is.GreaterThanOrEqualTo(start));
        await Events.WaitAsync<JackpotUpdated>(u => u.Id == jackpot.Guid && u.Status == "Terminated", "the end");
        (await Jackpots.ContributeAsync(Jackpots.Body(jackpot))).ExpectConflict();
        var audit = await Fixtures.AuditAsync(id);
        Assert.That(audit.Where(a => a.GetProperty("actor_sub").GetString() == "system:schedule").Select(a => a.GetProperty("after").GetProperty("state").GetString()),
            Is.EquivalentTo(new[] { "Active", "Terminated" }));
    }

    [Test]
    public async Task Reconciliation_balances_after_many_concurrent_contributions_and_wins()
    {
        // One win in three on average: every path (split, fund, reseed, deficits) is exercised.
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(magic: 3, dropMax: 101));
        var replies = await Task.WhenAll(Enumerable.Range(0, 400).Select(i =>
            Jackpots.ContributeAsync(Jackpots.Body(jackpot, player: $"p{i % 7}", currency: i % 2 == 0 ? "EUR" : "GBP"))));
        Assert.That(replies.Select(r => r.Status), Is.All.EqualTo(HttpStatusCode.OK));
        var wins = replies.SelectMany(r => r.Json.GetProperty("wins").EnumerateArray()).ToList();
        Assert.That(wins, Is.Not.Empty);
        Assert.That(wins.Select(w => w.GetProperty("pot_id").GetString()).Distinct(), Is.EquivalentTo(new[] { "small", "big" }));

        var report = await Jackpots.ReconcileAsync(jackpot);
        Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, report.ToString());
        Assert.That(report.GetProperty("ledger").GetProperty("contributions").GetInt64(), Is.EqualTo(400));
        Assert.That(report.GetProperty("ledger").GetProperty("wins").GetInt64(), Is.EqualTo(wins.Count));
        Assert.That(report.GetProperty("ledger").GetProperty("contribution_value").GetDecimal(), Is.EqualTo(40m));
        var all = (await Servers.Pots.GetAsync("/reconciliation?owner_id=tpa", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(all.GetProperty("balanced").GetBoolean(), Is.True);
        (await Servers.Pots.GetAsync($"/instances/{jackpot.Id}/reconciliation", Servers.OperatorB)).ExpectForbidden();
        (await Servers.Pots.GetAsync($"/instances/{Guid.NewGuid()}/reconciliation", Servers.OperatorA)).ExpectNotFound();
    }

    [Test]
    public async Task Reconciliation_reports_a_pot_changed_behind_the_ledgers_back()
    {
        var jackpot = await Jackpots.CreateAsync();
        (await Jackpots.ContributeAsync(Jackpots.Body(jackpot))).Expect(HttpStatusCode.OK);
        await using (var c = new Npgsql.NpgsqlConnection(Servers.PotsDatabase))
        {
            await c.OpenAsync();
            await using var tamper = new Npgsql.NpgsqlCommand("update pots set value = value + 0.01 where instance_id = @id and pot_id = 'big'", c);
            tamper.Parameters.AddWithValue("id", jackpot.Guid);
            await tamper.ExecuteNonQueryAsync();
        }
        var report = await Jackpots.ReconcileAsync(jackpot);
        Assert.That(report.GetProperty("balanced").GetBoolean(), Is.False);
        var big = report.GetProperty("pots").EnumerateArray().Single(p => p.GetProperty("pot_id").GetString() == "big");
        Assert.That(big.GetProperty("difference").GetDecimal(), Is.EqualTo(0.01m));
        Assert.That(report.GetProperty("errors")[0].GetString(), Does.Contain("'big'"));
    }
}
