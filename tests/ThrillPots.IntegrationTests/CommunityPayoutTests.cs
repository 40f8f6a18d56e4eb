using ThrillSuite.Contracts.Gate;
using ThrillSuite.Contracts.Pots;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// Community payouts (issue 8) end to end: ThrillPots chooses and splits, ThrillGate pays each brand's share in one
/// transaction_batch call to the reference wallet, a failed item becomes a CommunityPayoutErrorEvent and stays owed until
/// the wallet takes it. Brand tpb:x1 (its own wallet, so the tpa:b2 wallet tests are left alone); every contribution wins
/// (HitRate 1 in 1), each win pays 100 + 0.7 × 1.00 = 100.70 (seed 100 reset after each win).
/// </summary>
[NonParallelizable]
public class CommunityPayoutTests
{
    const string Brand = "tpb:x1";
    static string Operator => Servers.OperatorB;

    static readonly string WalletId = Fixtures.Unique("tpb-x1-wallet");

    [OneTimeSetUp]
    public async Task WalletAsync() => (await Servers.Gate.PostAsync("/admin/wallets", Operator, Wallet(batch: true))).Expect(HttpStatusCode.Created);

    /// <summary>tpb:x1's wallet at the reference wallet, with or without its transaction_batch endpoint.</summary>
    static object Wallet(bool batch)
    {
        var endpoints = new Dictionary<string, object>
        {
            ["auth"] = new Dictionary<string, string> { ["POST"] = "/wallet/authenticate" },
            ["balance"] = new Dictionary<string, string> { ["GET"] = "/wallet/balance" },
            ["transaction"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction" },
            ["cancel_bet"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/cancel" },
        };
        if (batch) endpoints["transaction_batch"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction/batch" };
        return new
        {
            id = WalletId, operator_id = "tpb", brand_id = "x1", wallet_type = "StandardWallet",
            connection_details = new { protocol = "http", host = "127.0.0.1", port = Servers.WalletPort },
            endpoints,
            config = new { secret_key = Servers.WalletSecret, request_timeout = 2, request_retry_limit = 1, accept_zero_value_credits = false },
        };
    }

    [TearDown]
    public async Task ResetAsync()
    {
        (await Servers.Wallet.SendAsync(HttpMethod.Delete, "/sim/faults", Servers.WalletAdminToken)).Expect(HttpStatusCode.NoContent);
        await IntegrationAsync(false);
    }

    static async Task IntegrationAsync(bool enabled) =>
        (await Servers.Pots.PutAsync("/config/operators/tpb/brands/x1/wallet-integration", Operator, new { enabled })).Expect(HttpStatusCode.OK);

    /// <summary>One pot "jp" (seed 100, all of its 0.7 share to the visible pot, won by every contribution of 1.00 EUR) with
    /// half of each payout to the community: 20% to up to 5 active players, 20% to the top 2 since the pot's last win, 10% to
    /// the top 2 over the instance's lifetime.</summary>
    static JsonObject Template() => JsonNode.Parse("""
        {
          "name": "Community", "owner_id": "tpb", "currency": "EUR",
          "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 1 }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.3 },
          "win_selector_strategy": "Highest",
          "pots": [
            { "id": "jp", "contribution": { "Percentage": 0.7 }, "seed_contribution": { "Percentage": 0 },
              "seed_strategy": { "initial_seed_value": 100, "min_reseed_value": 100, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null,
              "pot_types": [ { "HitRate": { "max_magic_number": 1, "cost_per_attempt": 0.1 } } ],
              "community": { "share": 0.5, "strategies": [
                { "ActivePlayers": { "share": 0.2, "winners": 5, "window_hours": 1 } },
                { "HighestContributionPerWin": { "share": 0.2, "winners": 2 } },
                { "HighestLifetimeContributor": { "share": 0.1, "winners": 2 } } ] } }
          ]
        }
        """)!.AsObject();

    static async Task<string> InstanceAsync()
    {
        var templateId = (await Servers.Pots.PostAsync("/templates", Operator, Template())).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        (await Servers.Pots.PostAsync($"/templates/{templateId}/publish", Operator)).Expect(HttpStatusCode.OK);
        return (await Servers.Pots.PostAsync("/templates/instantiate", Operator, new { template_id = templateId, owner_id = "tpb", allowed_brands = new[] { Brand } }))
            .Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
    }

    static async Task<string> PlayerAsync(string name)
    {
        var player = Fixtures.Unique(name);
        (await Servers.Wallet.PutAsync($"/sim/players/{player}", Servers.WalletAdminToken, new
        {
            token = "tok-" + player, currency = "EUR", balance = 100m, operator_id = "tpb", brand_id = "x1", nickname = player,
        })).Expect(HttpStatusCode.OK);
        return player;
    }

    /// <summary>A contribution of <paramref name="player"/> (its wallet token, debited when the brand is integrated); its one win.</summary>
    static async Task<JsonElement> ContributeAsync(string instance, string player)
    {
        var reply = (await Servers.Pots.PostAsync("/jackpots/contribute/instance", Operator, new JsonObject
        {
            ["token"] = "tok-" + player, ["brand_id"] = Brand, ["player_id"] = player, ["player_country"] = "MT", ["instance_id"] = instance,
            ["gameround_id"] = Fixtures.Unique("r"), ["currency"] = "EUR", ["base_wager"] = 1,
        })).Expect(HttpStatusCode.OK).Json;
        Assert.That(reply.GetProperty("outcome").GetString(), Is.EqualTo("accepted"), reply.ToString());
        return reply.GetProperty("wins").EnumerateArray().Single();
    }

    /// <summary>Until ThrillPots debits the brand's contributions (it caches a brand's integration flag for a second): probes on
    /// an instance that never wins.</summary>
    static async Task DebitingAsync()
    {
        var template = Template();
        template["pots"]![0]!["pot_types"]![0]!["HitRate"]!["max_magic_number"] = 1_000_000_000_000_000;
        template["pots"]![0]!.AsObject().Remove("community");
        var templateId = (await Servers.Pots.PostAsync("/templates", Operator, template)).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        (await Servers.Pots.PostAsync($"/templates/{templateId}/publish", Operator)).Expect(HttpStatusCode.OK);
        var probe = (await Servers.Pots.PostAsync("/templates/instantiate", Operator, new { template_id = templateId, owner_id = "tpb", allowed_brands = new[] { Brand } }))
            .Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        var player = await PlayerAsync("probe");
        await Eventually.TrueAsync(async () =>
        {
            var reply = await Servers.Pots.PostAsync("/jackpots/contribute/instance", Operator, new JsonObject
            {
                ["token"] = "tok-" + player, ["brand_id"] = Brand, ["player_id"] = player, ["player_country"] = "MT", ["instance_id"] = probe,
                ["gameround_id"] = Fixtures.Unique("r"), ["currency"] = "EUR", ["base_wager"] = 1,
            });
            return (await WalletTransactionsAsync($"player_id={player}")).Count > 0;
        }, TimeSpan.FromSeconds(30), "contributions of the brand to be debited");
    }

    static async Task<JsonElement> WinAsync(string instance, string winId) =>
        (await Servers.Pots.GetAsync($"/instances/{instance}/wins", Operator)).Expect(HttpStatusCode.OK).Json.EnumerateArray()
            .Single(w => w.GetProperty("id").GetString() == winId);

    static List<(string Strategy, int Rank, string Player, decimal Amount)> Community(JsonElement win) =>
        [.. win.GetProperty("community_payouts").EnumerateArray().Select(p => (p.GetProperty("strategy").GetString()!, p.GetProperty("rank").GetInt32(),
            p.GetProperty("player_id").GetString()!, p.GetProperty("amount").GetDecimal()))];

    static async Task<decimal> BalanceAsync(string player) =>
        (await Servers.Wallet.GetAsync($"/sim/players/{player}", Servers.WalletAdminToken)).Expect(HttpStatusCode.OK).Json.GetProperty("balance").GetDecimal();

    static async Task<List<JsonElement>> WalletTransactionsAsync(string query) =>
        [.. (await Servers.Wallet.GetAsync($"/sim/transactions?{query}", Servers.WalletAdminToken)).Expect(HttpStatusCode.OK).Json.EnumerateArray()];

    static async Task ArmAsync(string operation, string player, int remaining) =>
        (await Servers.Wallet.PutAsync("/sim/faults", Servers.WalletAdminToken,
            new { operation, mode = "http_error", http_status = 500, remaining, player_id = player })).Expect(HttpStatusCode.OK);

    static async Task<JsonElement> PaidAsync(string instance, string winId) =>
        (JsonElement)await Eventually.ValueAsync<object>(async () =>
        {
            var win = await WinAsync(instance, winId);
            return win.GetProperty("payout_status").GetString() == "paid"
                && win.GetProperty("community_payouts").EnumerateArray().All(p => p.GetProperty("payout_status").GetString() == "paid") ? win : null;
        }, TimeSpan.FromSeconds(60), $"win {winId} and its community payouts to be paid");

    static async Task ExpectBalancedAsync(string instance)
    {
        var report = (await Servers.Pots.GetAsync($"/instances/{instance}/reconciliation", Operator)).Expect(HttpStatusCode.OK).Json;
        Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, report.ToString());
    }

    public static IEnumerable<TestCaseData> BadCommunities()
    {
        TestCaseData Case(string field, string community) => new TestCaseData(field, community).SetName($"Community config refused: {field}");
        yield return Case("pots[0].community.share", """{"share": 0, "strategies": [{"HighestLifetimeContributor": {"share": 0.1, "winners": 1}}]}""");
        yield return Case("pots[0].community.share", """{"share": 1.5, "strategies": [{"HighestLifetimeContributor": {"share": 1, "winners": 1}}]}""");
        yield return Case("pots[0].community.strategies", """{"share": 0.5, "strategies": []}""");
        yield return Case("pots[0].community.strategies", """{"share": 0.5, "strategies": [{"HighestLifetimeContributor": {"share": 0.1, "winners": 1}}]}""");
        yield return Case("pots[0].community.strategies[0]", """{"share": 0.1, "strategies": [{}]}""");
        yield return Case("pots[0].community.strategies[0]",
            """{"share": 0.2, "strategies": [{"ActivePlayers": {"share": 0.1, "winners": 1, "window_hours": 1}, "HighestLifetimeContributor": {"share": 0.1, "winners": 1}}]}""");
        yield return Case("pots[0].community.strategies[1]",
            """{"share": 0.2, "strategies": [{"HighestLifetimeContributor": {"share": 0.1, "winners": 1}}, {"HighestLifetimeContributor": {"share": 0.1, "winners": 1}}]}""");
        yield return Case("pots[0].community.strategies[0].ActivePlayers.share", """{"share": 0.1, "strategies": [{"ActivePlayers": {"winners": 1, "window_hours": 1}}]}""");
        yield return Case("pots[0].community.strategies[0].ActivePlayers.winners", """{"share": 0.1, "strategies": [{"ActivePlayers": {"share": 0.1, "winners": 1.5, "window_hours": 1}}]}""");
        yield return Case("pots[0].community.strategies[0].ActivePlayers.window_hours", """{"share": 0.1, "strategies": [{"ActivePlayers": {"share": 0.1, "winners": 1, "window_hours": 0}}]}""");
        yield return Case("pots[0].community.strategies[0].HighestContributionPerWin.winners", """{"share": 0.1, "strategies": [{"HighestContributionPerWin": {"share": 0.1, "winners": 0}}]}""");
        yield return Case("pots[0].community.strategies[0].HighestLifetimeContributor.share", """{"share": 1, "strategies": [{"HighestLifetimeContributor": {"share": 1.1, "winners": 1}}]}""");
    }

    [TestCaseSource(nameof(BadCommunities))]
    public async Task Community_config_is_validated_field_by_field(string field, string community)
    {
        var template = Template();
        template["name"] = Fixtures.Unique("bad-community");
        template["pots"]![0]!["community"] = JsonNode.Parse(community);
        (await Servers.Pots.PostAsync("/templates", Operator, template)).ExpectInvalid(field);
        var names = (await Servers.Pots.GetAsync("/templates", Operator)).Expect(HttpStatusCode.OK).Json.EnumerateArray()
            .Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.That(names, Does.Not.Contain(template["name"]!.GetValue<string>()), "nothing was stored");
    }

    [Test]
    public async Task A_multi_strategy_win_pays_every_community_winner_once_in_one_wallet_batch()
    {
        var instance = await InstanceAsync();
        var (a, b, c, t) = (await PlayerAsync("ca"), await PlayerAsync("cb"), await PlayerAsync("cc"), await PlayerAsync("ct"));
        // Without wallet integration (yet): every contribution wins, the wins and their community shares are withheld, owed.
        foreach (var player in new[] { a, a, a, b, b, c })
            await ContributeAsync(instance, player);
        var setup = (await Servers.Pots.GetAsync($"/instances/{instance}/wins", Operator)).Expect(HttpStatusCode.OK).Json.EnumerateArray().ToList();
        Assert.That(setup, Has.Count.EqualTo(6));
        Assert.That(setup.SelectMany(w => w.GetProperty("community_payouts").EnumerateArray()).Select(p => p.GetProperty("win_withheld").GetBoolean()),
            Is.All.True);

        await IntegrationAsync(true);
        await DebitingAsync();
        var won = await ContributeAsync(instance, t);
        var winId = won.GetProperty("win_id").GetString()!;
        Assert.That(won.GetProperty("win_amount").GetDecimal(), Is.EqualTo(100.70m), "the pot's whole payout");
        Assert.That(won.GetProperty("player_win_amount").GetDecimal(), Is.EqualTo(50.38m), "the triggering player's portion");

        // Active players (a, b, c, t: all four of at most 5): 20.14 / 4 = 5.03 each; since the last win only t's contribution
        // counts: 20.14 to t (one of at most 2); lifetime top 2 (a 3.00, b 2.00): 10.07 / 2 = 5.03 each. 100.70 − 50.32 = 50.38.
        var win = await PaidAsync(instance, winId);
        Assert.That(win.GetProperty("win_amount").GetDecimal(), Is.EqualTo(100.70m));
        Assert.That(win.GetProperty("player_portion").GetDecimal(), Is.EqualTo(50.38m));
        var community = Community(win);
        Assert.That(community.Where(p => p.Strategy == "ActivePlayers").Select(p => (p.Player, p.Amount)),
            Is.EquivalentTo(new[] { (a, 5.03m), (b, 5.03m), (c, 5.03m), (t, 5.03m) }));
        Assert.That(community.Where(p => p.Strategy == "HighestContributionPerWin").Select(p => (p.Rank, p.Player, p.Amount)),
            Is.EqualTo(new[] { (1, t, 20.14m) }));
        Assert.That(community.Where(p => p.Strategy == "HighestLifetimeContributor").Select(p => (p.Rank, p.Player, p.Amount)),
            Is.EqualTo(new[] { (1, a, 5.03m), (2, b, 5.03m) }));
        Assert.That(community.Sum(p => p.Amount) + 50.38m, Is.EqualTo(100.70m));

        var evt = await Events.WaitAsync<JackpotWon>(e => e.WinId == Guid.Parse(winId), "the JackpotWinEvent");
        Assert.That(evt.PlayerId, Is.EqualTo(t));
        Assert.That(evt.WinAmount, Is.EqualTo(50.38m), "win_amount is the triggering player's portion");
        Assert.That(evt.PlayerWinAmount, Is.EqualTo(50.38m));
        Assert.That(evt.CommunityWinners!.Select(w => (w.PlayerId, w.BrandId, w.Currency, w.WinAmount)), Is.EquivalentTo(new[]
        {
            (a, Brand, "EUR", 5.03m), (b, Brand, "EUR", 5.03m), (c, Brand, "EUR", 5.03m), (t, Brand, "EUR", 5.03m),
            (t, Brand, "EUR", 20.14m), (a, Brand, "EUR", 5.03m), (b, Brand, "EUR", 5.03m),
        }));

        // One batch: every item went through the wallet's batch endpoint once, on the first attempt.
        var batchId = win.GetProperty("community_payouts")[0].GetProperty("batch_id").GetGuid();
        var credits = (await Servers.Gate.GetAsync($"/admin/credits?batch_id={batchId}", Operator)).Expect(HttpStatusCode.OK).Json.EnumerateArray().ToList();
        Assert.That(credits, Has.Count.EqualTo(7));
        Assert.That(credits.Select(x => (x.GetProperty("state").GetString(), x.GetProperty("attempts").GetInt32(), x.GetProperty("kind").GetString())),
            Is.All.EqualTo(("paid", 1, "community")));
        var batch = await WalletTransactionsAsync($"batch_id=batch-{batchId:N}");
        Assert.That(batch.Select(x => x.GetProperty("transaction_id").GetString()),
            Is.EquivalentTo(credits.Select(x => x.GetProperty("transaction_id").GetString())));
        Assert.That(batch.Select(x => x.GetProperty("transaction_type").GetString()), Is.All.EqualTo("Credit"));

        // The withheld wins of the setup sent ThrillGate nothing (their batch, had there been one, would have come first).
        foreach (var withheld in setup)
        {
            Assert.That((await Servers.Gate.GetAsync($"/admin/credits?win_id={withheld.GetProperty("id").GetString()}", Operator)).Expect(HttpStatusCode.OK)
                .Json.GetArrayLength(), Is.Zero);
            var setupBatch = withheld.GetProperty("community_payouts")[0].GetProperty("batch_id").GetGuid();
            Assert.That((await Servers.Gate.GetAsync($"/admin/credits?batch_id={setupBatch}", Operator)).Expect(HttpStatusCode.OK).Json.GetArrayLength(),
                Is.Zero);
        }

        Assert.That(await BalanceAsync(a), Is.EqualTo(110.06m));
        Assert.That(await BalanceAsync(b), Is.EqualTo(110.06m));
        Assert.That(await BalanceAsync(c), Is.EqualTo(105.03m));
        Assert.That(await BalanceAsync(t), Is.EqualTo(100m - 1m + 5.03m + 20.14m + 50.38m), "debit, two community shares and the portion");
        await ExpectBalancedAsync(instance);
    }

    [Test]
    public async Task A_community_credit_the_wallet_refuses_is_reported_stays_owed_and_is_paid_once_when_the_wallet_recovers()
    {
        var instance = await InstanceAsync();
        var (f, g, h) = (await PlayerAsync("cf"), await PlayerAsync("cg"), await PlayerAsync("ch"));
        await IntegrationAsync(true);
        foreach (var player in new[] { f, g })
            await PaidAsync(instance, (await ContributeAsync(instance, player)).GetProperty("win_id").GetString()!);
        var before = (F: await BalanceAsync(f), G: await BalanceAsync(g));

        // g's credits fail: inside the batch, and alone afterwards until the faults are cleared.
        await ArmAsync("batch", g, 1000);
        await ArmAsync("transaction", g, 1000);
        var winId = (await ContributeAsync(instance, h)).GetProperty("win_id").GetString()!;

        // Active f, g, h: 20.14 / 3 = 6.71; since the last win: h 20.14; lifetime 1.00 each, earliest first: f, g 5.03.
        var error = await Events.WaitAsync<CommunityPayoutError>(e => e.InstanceId == Guid.Parse(instance), "the CommunityPayoutErrorEvent");
        Assert.That(error.FailedPayouts.Select(p => (p.PlayerId, p.WinAmount)), Is.EquivalentTo(new[] { (g, 6.71m), (g, 5.03m) }));
        Assert.That(error.FailedPayouts.Select(p => p.WalletStatus), Is.All.EqualTo(500));
        Assert.That(error.BrandId, Is.EqualTo(Brand));
        Assert.That(error.TxCreditId, Does.StartWith("batch-"));

        var owed = (JsonElement)await Eventually.ValueAsync<object>(async () =>
        {
            var win = await WinAsync(instance, winId);
            var payouts = win.GetProperty("community_payouts").EnumerateArray().ToList();
            return payouts.Where(p => p.GetProperty("player_id").GetString() != g).All(p => p.GetProperty("payout_status").GetString() == "paid")
                && payouts.Where(p => p.GetProperty("player_id").GetString() == g).All(p => p.GetProperty("payout_status").GetString() == "pending")
                ? win : null;
        }, TimeSpan.FromSeconds(30), "the others paid and g's payouts pending");
        Assert.That(owed.GetProperty("community_payouts").EnumerateArray().Where(p => p.GetProperty("player_id").GetString() == g)
            .Select(p => p.GetProperty("win_withheld").GetBoolean()), Is.All.True);
        Assert.That(await BalanceAsync(g), Is.EqualTo(before.G), "nothing reached g yet");
        Assert.That(await BalanceAsync(f), Is.EqualTo(before.F + 6.71m + 5.03m));

        // The wallet recovers: g's two credits are re-driven singly with their own transaction ids, and paid once.
        (await Servers.Wallet.SendAsync(HttpMethod.Delete, "/sim/faults", Servers.WalletAdminToken)).Expect(HttpStatusCode.NoContent);
        var paid = await PaidAsync(instance, winId);
        Assert.That(await BalanceAsync(g), Is.EqualTo(before.G + 6.71m + 5.03m));
        var gPayouts = paid.GetProperty("community_payouts").EnumerateArray().Where(p => p.GetProperty("player_id").GetString() == g)
            .Select(p => p.GetProperty("payout_id").GetGuid()).ToList();
        var gCredits = (await WalletTransactionsAsync($"player_id={g}")).Where(x => gPayouts.Any(id => x.GetProperty("transaction_id").GetString() == $"payout-{id:N}"))
            .ToList();
        Assert.That(gCredits, Has.Count.EqualTo(2), "each of g's credits once");
        Assert.That(Events.All<CommunityPayoutError>().Count(e => e.InstanceId == Guid.Parse(instance)), Is.EqualTo(1), "one error for the one failed batch attempt");
        await ExpectBalancedAsync(instance);
    }

    [Test]
    public async Task Without_a_batch_endpoint_the_community_credits_are_paid_one_by_one()
    {
        (await Servers.Gate.PutAsync($"/admin/wallets/{WalletId}", Operator, Wallet(batch: false))).Expect(HttpStatusCode.OK);
        try
        {
            var instance = await InstanceAsync();
            var (p, q) = (await PlayerAsync("cp"), await PlayerAsync("cq"));
            await IntegrationAsync(true);
            await ContributeAsync(instance, p);
            var win = await PaidAsync(instance, (await ContributeAsync(instance, q)).GetProperty("win_id").GetString()!);
            var payouts = win.GetProperty("community_payouts").EnumerateArray().ToList();
            // Active p, q: 10.07 each; since the last win q: 20.14; lifetime p, q: 5.03 each.
            Assert.That(payouts.Select(x => (x.GetProperty("player_id").GetString(), x.GetProperty("amount").GetDecimal())), Is.EquivalentTo(new[]
            {
                (p, 10.07m), (q, 10.07m), (q, 20.14m), (p, 5.03m), (q, 5.03m),
            }));
            var credits = new List<JsonElement>();
            foreach (var player in new[] { p, q })
                credits.AddRange(await WalletTransactionsAsync($"player_id={player}"));
            foreach (var payout in payouts)
            {
                var entry = credits.Single(x => x.GetProperty("transaction_id").GetString() == $"payout-{payout.GetProperty("payout_id").GetGuid():N}");
                Assert.That(entry.TryGetProperty("batch_id", out var batchId) ? batchId.ValueKind : JsonValueKind.Null, Is.EqualTo(JsonValueKind.Null),
                    "sent as a single credit");
            }
            await ExpectBalancedAsync(instance);
        }
        finally
        {
            (await Servers.Gate.PutAsync($"/admin/wallets/{WalletId}", Operator, Wallet(batch: true))).Expect(HttpStatusCode.OK);
        }
    }
}
