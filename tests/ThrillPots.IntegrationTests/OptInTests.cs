using ThrillSuite.Contracts.Pots;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.IntegrationTests;

/// <summary>Opt-in over gRPC (PlayerJackpots) and what it does to contributions (spec §10).</summary>
public class OptInTests
{
    [Test]
    public async Task A_player_not_opted_in_is_refused_on_an_opt_in_instance_then_contributes_at_the_chosen_value()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(optIn: true));
        var body = Jackpots.Body(jackpot, currency: "SEK");
        var player = body["player_id"]!.GetValue<string>();
        var refused = (await Jackpots.ContributeAsync(body)).ExpectConflict().Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("not_opted_in"));
        Assert.That(refused.GetProperty("detail").GetString(), Does.Contain(player));
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.Zero);

        // SEK 2.30 at 11.5 SEK per EUR is EUR 0.20.
        var state = await Jackpots.OptInAsync(jackpot, player, value: "2.30", currency: "SEK");
        Assert.That(state.OptedIn, Is.True);
        Assert.That(state.PreferredContributionValue, Is.EqualTo("2.30"));
        var optInEvent = await Events.WaitAsync<OptInChanged>(e => e.InstanceId == jackpot.Guid && e.PlayerId == player, "the OptInEvent");
        Assert.That(optInEvent.OptedIn, Is.True);
        Assert.That(optInEvent.PreferredContributionValue, Is.EqualTo(2.30m));
        Assert.That(optInEvent.PlayerBrandId, Is.EqualTo("tpa:b1"));

        body["gameround_id"] = Fixtures.Unique("r");
        var accepted = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        Assert.That(accepted.GetProperty("contribution_value").GetDecimal(), Is.EqualTo(0.2m));
        Assert.That(accepted.GetProperty("player_contribution_value").GetDecimal(), Is.EqualTo(2.3m));
        var totals = await Jackpots.CallAsync<Proto.OptInState>(Jackpots.GetOptIn,
            new Proto.GetOptInRequest { InstanceId = jackpot.Id, BrandId = "tpa:b1", PlayerId = player });
        Assert.That(totals.ContributionCount, Is.EqualTo(1));
        Assert.That(decimal.Parse(totals.ContributionValue, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(0.2m));

        await Jackpots.OptInAsync(jackpot, player, optIn: false);
        body["gameround_id"] = Fixtures.Unique("r");
        (await Jackpots.ContributeAsync(body)).ExpectConflict();
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));
    }

    [Test]
    public async Task Opting_in_without_a_value_returns_to_the_template_default()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(optIn: true, fixedValue: 0.5m));
        var body = Jackpots.Body(jackpot);
        var player = body["player_id"]!.GetValue<string>();
        await Jackpots.OptInAsync(jackpot, player, value: "1", currency: "EUR");
        await Jackpots.OptInAsync(jackpot, player);
        var accepted = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        Assert.That(accepted.GetProperty("contribution_value").GetDecimal(), Is.EqualTo(0.5m));
    }

    [Test]
    public async Task An_explicit_opt_out_is_respected_on_an_instance_without_opt_in()
    {
        var jackpot = await Jackpots.CreateAsync();
        var body = Jackpots.Body(jackpot);
        await Jackpots.OptInAsync(jackpot, body["player_id"]!.GetValue<string>(), optIn: false);
        var refused = (await Jackpots.ContributeAsync(body)).ExpectConflict().Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("not_opted_in"));
    }

    [Test]
    public async Task A_resent_key_gets_its_first_result_even_after_the_player_opted_out()
    {
        // Idempotency (design.md §5): a repeat answers what the first call was answered, whatever changed since. The
        // writer finds repeats at the ledger's unique key, so a repeat that would now be refused must still be recognised.
        var jackpot = await Jackpots.CreateAsync();
        var body = Jackpots.Body(jackpot);
        var first = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        await Jackpots.OptInAsync(jackpot, body["player_id"]!.GetValue<string>(), optIn: false);

        var again = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        Assert.That(again.GetProperty("outcome").GetString(), Is.EqualTo("duplicate"));
        Assert.That(again.GetProperty("contribution_id").GetString(), Is.EqualTo(first.GetProperty("contribution_id").GetString()));
        body["gameround_id"] = Fixtures.Unique("r");
        var refused = (await Jackpots.ContributeAsync(body)).ExpectConflict().Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("not_opted_in"), "a new key of the opted-out player is refused");
        Assert.That(await Jackpots.LedgerCountAsync(jackpot), Is.EqualTo(1));
    }

    [Test]
    public async Task Opt_in_refuses_bad_input_and_inactive_instances_with_precise_statuses()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(optIn: true));
        async Task<StatusCode> Status(Func<Task> call)
        {
            var ex = Assert.ThrowsAsync<RpcException>(async () => await call());
            return ex!.StatusCode;
        }
        Assert.That(await Status(() => Jackpots.OptInAsync(jackpot, "p", value: "-1", currency: "EUR")), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(await Status(() => Jackpots.OptInAsync(jackpot, "p", value: "abc", currency: "EUR")), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(await Status(() => Jackpots.OptInAsync(jackpot, "p", value: "1", currency: "")), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(await Status(() => Jackpots.OptInAsync(jackpot, "", value: "1", currency: "EUR")), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(await Status(() => Jackpots.OptInAsync(jackpot, "p", brand: "tpa")), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(await Status(() => Jackpots.OptInAsync(new Jackpot(Guid.NewGuid().ToString(), ""), "p")), Is.EqualTo(StatusCode.NotFound));
        Assert.That(await Status(() => Jackpots.OptInAsync(jackpot, "p", brand: "tpa:b3")), Is.EqualTo(StatusCode.FailedPrecondition));
        await Jackpots.SetStateAsync(jackpot, "Terminated");
        Assert.That(await Status(() => Jackpots.OptInAsync(jackpot, "p")), Is.EqualTo(StatusCode.FailedPrecondition));
    }

    [Test]
    public async Task ThrillConnect_reads_an_instance_and_what_a_source_resolves_to_with_the_players_opt_in()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(optIn: true));
        await Jackpots.OptInAsync(jackpot, "reader", value: "0.3", currency: "EUR");
        var instance = await Jackpots.CallAsync<Proto.Instance>(Jackpots.GetInstance, new Proto.GetInstanceRequest { InstanceId = jackpot.Id });
        Assert.That(instance.State, Is.EqualTo("Active"));
        Assert.That(instance.OptInRequired, Is.True);
        Assert.That(instance.Pots.Select(p => p.Id), Is.EqualTo(new[] { "small", "big" }));
        Assert.That(instance.Pots[0].CurrentValue, Is.EqualTo("10"));
        Assert.That(instance.DefaultContributionValue, Is.EqualTo("0.1"));

        var resolved = await Jackpots.CallAsync<Proto.InstanceList>(Jackpots.ResolveSource,
            new Proto.ResolveSourceRequest { SourceId = jackpot.Source, BrandId = "tpa:b1", PlayerId = "reader" });
        Assert.That(resolved.Instances.Single().InstanceId, Is.EqualTo(jackpot.Id));
        Assert.That(resolved.Instances[0].PlayerOptIn.OptedIn, Is.True);
        Assert.That(resolved.Instances[0].PlayerOptIn.PreferredContributionValue, Is.EqualTo("0.3"));

        var missing = Assert.ThrowsAsync<RpcException>(() => Jackpots.CallAsync<Proto.Instance>(Jackpots.GetInstance,
            new Proto.GetInstanceRequest { InstanceId = Guid.NewGuid().ToString() }));
        Assert.That(missing!.StatusCode, Is.EqualTo(StatusCode.NotFound));
    }
}
