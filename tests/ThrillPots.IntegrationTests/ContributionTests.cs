using ThrillSuite.Contracts.Pots;

namespace ThrillPots.IntegrationTests;

/// <summary>The v1 contribution endpoints against the real process: what is applied, what is answered, what is published.</summary>
public class ContributionTests
{
    [Test]
    public async Task A_contribution_is_split_into_the_pots_committed_and_answered()
    {
        var jackpot = await Jackpots.CreateAsync();
        var body = Jackpots.Body(jackpot);
        var result = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;

        Assert.That(result.GetProperty("outcome").GetString(), Is.EqualTo("accepted"));
        Assert.That(result.GetProperty("instance_id").GetString(), Is.EqualTo(jackpot.Id));
        Assert.That(result.GetProperty("contribution_value").GetDecimal(), Is.EqualTo(0.1m), "the template's Fixed value");
        Assert.That(result.GetProperty("jackpot_currency").GetString(), Is.EqualTo("EUR"));
        Assert.That(result.GetProperty("player_contribution_value").GetDecimal(), Is.EqualTo(0.1m));
        Assert.That(result.GetProperty("wins").GetArrayLength(), Is.Zero);
        Assert.That(Guid.TryParse(result.GetProperty("contribution_id").GetString(), out _));

        // 0.1 × 0.4 = 0.04 to "small": half to its reseed fund (below its minimum), half visible; likewise 0.03 to "big".
        var pots = await Jackpots.PotsAsync(jackpot);
        Assert.That(pots["small"], Is.EqualTo((10.02m, 0.02m)));
        Assert.That(pots["big"], Is.EqualTo((100.015m, 0.015m)));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));
        var reconciliation = await Jackpots.ReconcileAsync(jackpot);
        Assert.That(reconciliation.GetProperty("balanced").GetBoolean(), Is.True, reconciliation.ToString());
        Assert.That(reconciliation.GetProperty("ledger").GetProperty("house_shares").GetDecimal(), Is.EqualTo(0.03m));
    }

    [Test]
    public async Task By_source_the_contribution_reaches_the_instance_the_source_feeds()
    {
        var jackpot = await Jackpots.CreateAsync();
        var body = Jackpots.Body(jackpot, brand: "tpa:b2");
        body.Remove("instance_id");
        body["source_id"] = jackpot.Source;
        var result = (await Servers.Pots.PostAsync("/jackpots/contribute/source", Servers.OperatorA, body)).Expect(HttpStatusCode.OK).Json;
        Assert.That(result.GetProperty("instance_id").GetString(), Is.EqualTo(jackpot.Id));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));

        body["source_id"] = "no-such-source";
        var unknown = (await Servers.Pots.PostAsync("/jackpots/contribute/source", Servers.OperatorA, body)).ExpectNotFound().Json;
        Assert.That(unknown.GetProperty("reason").GetString(), Is.EqualTo("not_found"));
    }

    [Test]
    public async Task A_repeated_key_returns_the_first_result_and_changes_nothing()
    {
        var jackpot = await Jackpots.CreateAsync();
        var body = Jackpots.Body(jackpot);
        var first = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        var pots = await Jackpots.PotsAsync(jackpot);

        body["token"] = "a-refreshed-session-token";
        var again = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        Assert.That(again.GetProperty("outcome").GetString(), Is.EqualTo("duplicate"));
        Assert.That(again.GetProperty("contribution_id").GetString(), Is.EqualTo(first.GetProperty("contribution_id").GetString()));
        Assert.That(again.GetProperty("contribution_value").GetDecimal(), Is.EqualTo(first.GetProperty("contribution_value").GetDecimal()));
        Assert.That(await Jackpots.PotsAsync(jackpot), Is.EqualTo(pots));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));

        body["base_wager"] = 2;
        var conflict = (await Jackpots.ContributeAsync(body)).ExpectConflict().Json;
        Assert.That(conflict.GetProperty("reason").GetString(), Is.EqualTo("key_conflict"));
        Assert.That(await Jackpots.PotsAsync(jackpot), Is.EqualTo(pots));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));
    }

    [Test]
    public async Task Concurrent_repeats_of_one_key_apply_it_once()
    {
        var jackpot = await Jackpots.CreateAsync();
        var body = Jackpots.Body(jackpot);
        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Jackpots.ContributeAsync(body)));
        Assert.That(replies.Select(r => r.Status), Is.All.EqualTo(HttpStatusCode.OK));
        Assert.That(replies.Count(r => r.Json.GetProperty("outcome").GetString() == "accepted"), Is.EqualTo(1));
        Assert.That(replies.Select(r => r.Json.GetProperty("contribution_id").GetString()).Distinct().Count(), Is.EqualTo(1));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));
    }

    [Test]
    public async Task A_win_of_a_brand_without_wallet_integration_is_announced_and_withheld_for_the_operator_to_pay()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(magic: 1));
        var body = Jackpots.Body(jackpot, currency: "USD");
        var result = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        var win = result.GetProperty("wins").EnumerateArray().Single();
        Assert.That(win.GetProperty("pot_id").GetString(), Is.EqualTo("small"));
        Assert.That(win.GetProperty("trigger").GetString(), Is.EqualTo("HitRate"));
        // The pot stood at 10.02 (0.1/1.1 EUR = 0.090909090909 contributed … see below); paid rounded down to cents.
        var contributed = result.GetProperty("contribution_value").GetDecimal();
        Assert.That(contributed, Is.EqualTo(0.1m), "Fixed is in the jackpot currency");
        Assert.That(result.GetProperty("player_contribution_value").GetDecimal(), Is.EqualTo(0.11m), "0.1 EUR at 1.1 USD per EUR");
        Assert.That(win.GetProperty("win_amount").GetDecimal(), Is.EqualTo(10.02m));
        Assert.That(win.GetProperty("player_win_amount").GetDecimal(), Is.EqualTo(11.02m), "10.02 × 1.1 = 11.022, rounded down");
        var pots = await Jackpots.PotsAsync(jackpot);
        Assert.That(pots["small"].Value, Is.EqualTo(10m), "reset to min_reseed_value");
        Assert.That(pots["small"].Fund, Is.EqualTo(0m), "the 0.02 fund went into the reseed; the operator fronted 9.98");

        var winId = Guid.Parse(win.GetProperty("win_id").GetString()!);
        var won = await Events.WaitAsync<JackpotWon>(w => w.WinId == winId, "the JackpotWinEvent");
        Assert.That(won.InstanceId, Is.EqualTo(jackpot.Guid));
        Assert.That(won.PlayerId, Is.EqualTo(body["player_id"]!.GetValue<string>()));
        Assert.That(won.WinAmount, Is.EqualTo(10.02m));
        Assert.That(won.SeedDeficit, Is.EqualTo(9.98m));
        Assert.That(won.Seed, Is.EqualTo(10m));
        Assert.That(won.CurrencyMultipliers.Multipliers["USD"], Is.EqualTo(1.1m));
        Assert.That(won.Metadata?.GetProperty("bet_id").GetString(), Is.EqualTo("b-1"), "the contribution's metadata is echoed");
        Assert.That(won.WinWithheld, Is.True, "the brand settles with its players itself");
        Assert.That(win.GetProperty("win_withheld").GetBoolean(), Is.True);
        await using (var c = new Npgsql.NpgsqlConnection(Servers.PotsDatabase))
            Assert.That(await Dapper.SqlMapper.ExecuteScalarAsync<long>(c,
                "select count(*) from outbox_all where message_type like '%CreditWin' and body->>'winId' = @id", new { id = winId.ToString() }),
                Is.Zero, "no credit command: ThrillGate pays only wallet-integrated brands");

        var reconciliation = await Jackpots.ReconcileAsync(jackpot);
        Assert.That(reconciliation.GetProperty("balanced").GetBoolean(), Is.True, reconciliation.ToString());
        Assert.That(reconciliation.GetProperty("ledger").GetProperty("wins").GetInt64(), Is.EqualTo(1));
    }

    [Test]
    public async Task Inactive_instances_refuse_with_their_state_and_change_nothing()
    {
        var jackpot = await Jackpots.CreateAsync();
        await Jackpots.SetStateAsync(jackpot, "Paused");
        var paused = (await Jackpots.ContributeAsync(Jackpots.Body(jackpot))).ExpectConflict().Json;
        Assert.That(paused.GetProperty("reason").GetString(), Is.EqualTo("instance_not_active"));
        Assert.That(paused.GetProperty("state").GetString(), Is.EqualTo("Paused"));
        await Jackpots.SetStateAsync(jackpot, "Active");
        await Jackpots.SetStateAsync(jackpot, "Terminated");
        var terminated = (await Jackpots.ContributeAsync(Jackpots.Body(jackpot))).ExpectConflict().Json;
        Assert.That(terminated.GetProperty("state").GetString(), Is.EqualTo("Terminated"));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.Zero);
    }
}
