using Dapper;
using Npgsql;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// Jackpot free bets end to end (issue 9): bonuses awarded in ThrillGate pay a wallet-integrated brand's contributions
/// instead of a debit, as ThrillPots, ThrillGate, Thrill-ID and the reference wallet run for real.
/// </summary>
[NonParallelizable]
public class FreeBetContributionTests
{
    const string Brand = "tpa:b2";

    [OneTimeSetUp]
    public Task ConnectAsync() => WalletIntegrationTests.SetIntegrationAsync(true);

    [OneTimeTearDown]
    public Task DisconnectAsync() => WalletIntegrationTests.SetIntegrationAsync(false);

    static async Task<string> AwardAsync(string player, object bonus, string? requestId = null)
    {
        var reply = (await Servers.Gate.PostAsync("/bonus/playerbonus/create", Servers.OperatorA, new
        {
            request_id = requestId ?? Guid.NewGuid().ToString(), operator_id = "tpa", brand_id = "b2", players = new[] { player }, bonus_name = "Free bets",
            bonus, promo_id = "it",
        })).Expect(HttpStatusCode.OK).Json;
        return reply[0].GetProperty("id").GetString()!;
    }

    static async Task<JsonElement> BonusAsync(string id) =>
        (await Servers.Gate.GetAsync("/bonus/playerbonus/" + id, Servers.OperatorA)).Expect(HttpStatusCode.OK).Json.GetProperty("bonus");

    static JsonObject Body(Jackpot jackpot, string player, string token, string? round = null)
    {
        var body = Jackpots.Body(jackpot, player: player, brand: Brand, round: round);
        body["token"] = token;
        return body;
    }

    static async Task<List<JsonElement>> DebitsAsync(string player) =>
        (await WalletIntegrationTests.WalletTransactionsAsync(player)).Where(t => t.GetProperty("transaction_type").GetString() == "Debit").ToList();

    static async Task<(string? Debit, Guid? FreeBet, decimal PlayerValue)> LedgerAsync(JsonElement result)
    {
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        return await c.QuerySingleAsync<(string?, Guid?, decimal)>("select debit_transaction_id, free_bet_id, player_value from contributions where id = @id",
            new { id = Guid.Parse(result.GetProperty("contribution_id").GetString()!) });
    }

    [Test]
    public async Task A_fixed_bonus_pays_its_count_of_contributions_at_its_value_with_no_debit_then_the_wallet_pays_again()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(fixedValue: 0.1m), brands: [Brand]);
        var (player, token) = await WalletIntegrationTests.PlayerAsync(10m);
        var bonus = await AwardAsync(player, new { type = "FixedFreeSpins", count = 2, currency = "EUR", value = 0.25 });
        var results = new List<JsonElement>();
        for (var i = 0; i < 3; i++) results.Add((await Jackpots.ContributeAsync(Body(jackpot, player, token))).Expect(HttpStatusCode.OK).Json);
        var ledger = new List<(string? Debit, Guid? FreeBet, decimal PlayerValue)>();
        foreach (var r in results) ledger.Add(await LedgerAsync(r));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(results.Select(r => r.GetProperty("player_contribution_value").GetDecimal()), Is.EqualTo(new[] { 0.25m, 0.25m, 0.1m }),
                "locked to the free-bet value while it lasts, whatever the contribution would be");
            Assert.That(ledger.Take(2).Select(l => (l.Debit, l.FreeBet)), Is.All.EqualTo(((string?)null, (Guid?)Guid.Parse(bonus))));
            Assert.That(ledger[2].FreeBet, Is.Null);
            Assert.That(ledger[2].Debit, Is.Not.Null);
            Assert.That((await DebitsAsync(player)).Select(d => d.GetProperty("amount").GetDecimal()), Is.EqualTo(new[] { 0.1m }));
            Assert.That(await WalletIntegrationTests.BalanceAsync(player), Is.EqualTo(9.9m));
            Assert.That((await BonusAsync(bonus)).GetProperty("state").GetString(), Is.EqualTo("Consumed"));
            Assert.That((await Jackpots.ReconcileAsync(jackpot)).GetProperty("balanced").GetBoolean(), Is.True);
        }
    }

    [Test]
    public async Task A_variable_bonus_of_150_with_contributions_of_20_pays_seven_of_20_and_one_of_10()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(fixedValue: 0.2m), brands: [Brand]);
        var (player, token) = await WalletIntegrationTests.PlayerAsync(10m);
        var bonus = await AwardAsync(player, new { type = "VariableFreeSpins", currency = "EUR", amount = "1.50" });
        var values = new List<decimal>();
        for (var i = 0; i < 9; i++)
            values.Add((await Jackpots.ContributeAsync(Body(jackpot, player, token))).Expect(HttpStatusCode.OK).Json.GetProperty("player_contribution_value").GetDecimal());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(values, Is.EqualTo(new[] { 0.2m, 0.2m, 0.2m, 0.2m, 0.2m, 0.2m, 0.2m, 0.1m, 0.2m }));
            Assert.That((await DebitsAsync(player)).Select(d => d.GetProperty("amount").GetDecimal()), Is.EqualTo(new[] { 0.2m }), "only the ninth is debited");
            Assert.That(await WalletIntegrationTests.BalanceAsync(player), Is.EqualTo(9.8m));
            Assert.That((await BonusAsync(bonus)).GetProperty("bonus_data").GetProperty("Freespins").GetProperty("freespin_type")
                .GetProperty("amount_used").GetDecimal(), Is.EqualTo(1.5m));
        }
    }

    [Test]
    public async Task Concurrent_contributions_of_one_player_never_overspend_and_a_resent_one_takes_no_second_use()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(fixedValue: 0.2m), brands: [Brand]);
        var (player, token) = await WalletIntegrationTests.PlayerAsync(20m);
        var bonus = await AwardAsync(player, new { type = "VariableFreeSpins", currency = "EUR", amount = 1.0 });
        var bodies = Enumerable.Range(0, 12).Select(_ => Body(jackpot, player, token)).ToList();
        var results = await Task.WhenAll(bodies.Select(async b => (await Jackpots.ContributeAsync(b)).Expect(HttpStatusCode.OK).Json));
        var resent = await Task.WhenAll(bodies.Take(3).Select(async b => (await Jackpots.ContributeAsync(b)).Expect(HttpStatusCode.OK).Json));
        var ledger = new List<(string? Debit, Guid? FreeBet, decimal PlayerValue)>();
        foreach (var r in results) ledger.Add(await LedgerAsync(r));
        var funded = ledger.Where(l => l.FreeBet is not null).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(funded.Sum(l => l.PlayerValue), Is.EqualTo(1.0m));
            Assert.That(funded, Has.Count.EqualTo(5));
            Assert.That(ledger.Count(l => l.Debit is not null), Is.EqualTo(7));
            Assert.That(resent.Select(r => r.GetProperty("outcome").GetString()), Is.All.EqualTo("duplicate"));
            Assert.That((await DebitsAsync(player)).Sum(d => d.GetProperty("amount").GetDecimal()), Is.EqualTo(7 * 0.2m));
            Assert.That((await BonusAsync(bonus)).GetProperty("bonus_data").GetProperty("Freespins").GetProperty("freespin_type")
                .GetProperty("amount_used").GetDecimal(), Is.EqualTo(1.0m), "resends took nothing more");
        }
    }

    [Test]
    public async Task A_removed_bonus_pays_nothing_more_and_the_wallet_pays_again()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(fixedValue: 0.1m), brands: [Brand]);
        var (player, token) = await WalletIntegrationTests.PlayerAsync(10m);
        var bonus = await AwardAsync(player, new { type = "FixedFreeSpins", count = 5, currency = "EUR", value = 0.1 });
        var first = (await Jackpots.ContributeAsync(Body(jackpot, player, token))).Expect(HttpStatusCode.OK).Json;
        (await Servers.Gate.SendAsync(HttpMethod.Delete, "/bonus/playerbonus/" + bonus, Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var second = (await Jackpots.ContributeAsync(Body(jackpot, player, token))).Expect(HttpStatusCode.OK).Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That((await LedgerAsync(first)).FreeBet, Is.EqualTo(Guid.Parse(bonus)));
            Assert.That((await LedgerAsync(second)).FreeBet, Is.Null);
            Assert.That(await WalletIntegrationTests.BalanceAsync(player), Is.EqualTo(9.9m));
        }
    }

    [Test]
    public async Task A_replayed_award_request_gives_no_second_bonus()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(fixedValue: 0.1m), brands: [Brand]);
        var (player, token) = await WalletIntegrationTests.PlayerAsync(10m);
        var requestId = Guid.NewGuid().ToString();
        var bonus = new { type = "FixedFreeSpins", count = 1, currency = "EUR", value = 0.1 };
        var first = await AwardAsync(player, bonus, requestId);
        var replay = await AwardAsync(player, bonus, requestId);
        for (var i = 0; i < 2; i++) (await Jackpots.ContributeAsync(Body(jackpot, player, token))).Expect(HttpStatusCode.OK);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(replay, Is.EqualTo(first));
            Assert.That(await DebitsAsync(player), Has.Count.EqualTo(1), "one free bet, then the wallet");
        }
    }

    [Test]
    public async Task A_refused_contribution_gives_the_free_bet_back()
    {
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(fixedValue: 0.1m), brands: [Brand]);
        var (player, token) = await WalletIntegrationTests.PlayerAsync(10m);
        var bonus = await AwardAsync(player, new { type = "FixedFreeSpins", count = 1, currency = "EUR", value = 0.1 });
        await Jackpots.SetStateAsync(jackpot, "Paused");
        var refused = await Jackpots.ContributeAsync(Body(jackpot, player, token));
        var state = await BonusAsync(bonus);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(refused.Status, Is.Not.EqualTo(HttpStatusCode.OK), refused.Text);
            Assert.That(state.GetProperty("state").GetString(), Is.EqualTo("Available"));
            Assert.That(state.GetProperty("bonus_data").GetProperty("Freespins").GetProperty("freespin_type").GetProperty("used").GetInt32(), Is.Zero);
            Assert.That(await DebitsAsync(player), Is.Empty);
        }
    }

    [Test]
    public async Task A_free_bet_use_whose_contribution_never_committed_is_given_back_by_the_sweeper()
    {
        // ThrillPots wrote its intent and ThrillGate gave the use, then the process died before the contribution committed and
        // the client never resent it: the intent is older than two minutes and no ledger row has the key.
        var jackpot = await Jackpots.CreateAsync(Jackpots.Template(fixedValue: 0.1m), brands: [Brand]);
        var (player, _) = await WalletIntegrationTests.PlayerAsync(10m);
        var bonus = await AwardAsync(player, new { type = "FixedFreeSpins", count = 2, currency = "EUR", value = 0.1 });
        var key = "contrib-lost-" + Guid.NewGuid().ToString("N");
        var gate = ThrillSuite.Grpc.GrpcClient.ForAddress($"http://127.0.0.1:{Servers.GateGrpcPort}");
        var service = ThrillSuite.Gate.V1.GateReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("FreeBets");
        var use = await gate.UnaryAsync<ThrillSuite.Gate.V1.FreeBetReply>(service.FindMethodByName("Consume"), new ThrillSuite.Gate.V1.ConsumeFreeBetRequest
        {
            OperatorId = "tpa", BrandId = "b2", PlayerId = player, ProviderId = "thrillsuite", GameId = jackpot.Id, ContributionKey = key,
            OptInValue = "0.1", Currency = "EUR",
        }, ThrillSuite.Grpc.CallOptions.WithTimeout(TimeSpan.FromSeconds(30)));
        Assert.That(use.Funded, Is.True);
        Assert.That((await BonusAsync(bonus)).GetProperty("bonus_data").GetProperty("Freespins").GetProperty("freespin_type").GetProperty("used").GetInt32(), Is.EqualTo(1));
        await using (var c = new NpgsqlConnection(Servers.PotsDatabase))
            await c.ExecuteAsync("""
                insert into pending_debits (transaction_id, instance_id, operator_id, brand_id, player_id, gameround_id, created_at)
                values (@key, @instance, 'tpa', 'b2', @player, 'r-lost', now() - interval '3 minutes')
                """, new { key, instance = jackpot.Guid, player });

        await Eventually.TrueAsync(async () =>
            (await BonusAsync(bonus)).GetProperty("bonus_data").GetProperty("Freespins").GetProperty("freespin_type").GetProperty("used").GetInt32() == 0,
            TimeSpan.FromSeconds(60), "the sweeper to give the use back");
        // The sweeper forgets the intent in the transaction it commits after giving the use back.
        await using var db = new NpgsqlConnection(Servers.PotsDatabase);
        await Eventually.TrueAsync(async () =>
            await db.ExecuteScalarAsync<long>("select count(*) from pending_debits where transaction_id = @key", new { key }) == 0,
            TimeSpan.FromSeconds(30), "the sweeper to forget the intent");
        Assert.That(await DebitsAsync(player), Is.Empty, "no money moved");
    }

    [Test]
    public async Task A_win_from_a_free_bet_is_credited_to_the_wallet_while_its_contribution_was_never_debited()
    {
        var winning = await Jackpots.CreateAsync(Jackpots.Template(magic: 1, fixedValue: 0.1m), brands: [Brand]);
        var (player, token) = await WalletIntegrationTests.PlayerAsync(5m);
        var bonus = await AwardAsync(player, new { type = "FixedFreeSpins", count = 1, currency = "EUR", value = 0.1 });
        var result = (await Jackpots.ContributeAsync(Body(winning, player, token))).Expect(HttpStatusCode.OK).Json;
        var won = result.GetProperty("wins").EnumerateArray().Sum(w => w.GetProperty("player_win_amount").GetDecimal());
        await Eventually.TrueAsync(async () => (await WalletIntegrationTests.WalletTransactionsAsync(player))
            .Any(t => t.GetProperty("transaction_type").GetString() == "Credit"), TimeSpan.FromSeconds(60), "the win to be credited");
        using (Assert.EnterMultipleScope())
        {
            Assert.That((await LedgerAsync(result)).FreeBet, Is.EqualTo(Guid.Parse(bonus)));
            Assert.That(won, Is.GreaterThan(0m));
            Assert.That(await DebitsAsync(player), Is.Empty, "no debit reached the wallet");
            Assert.That(await WalletIntegrationTests.BalanceAsync(player), Is.EqualTo(5m + won));
        }
    }
}
