using Dapper;
using Npgsql;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// Brand tpa:b2 with wallet integration on, against a real ThrillGate and the reference wallet (issue 5): contributions
/// are paid for from the player's wallet first, refused ones give the money back, wins are credited once; the wallet's
/// ledger and ThrillPots' reconcile.
/// </summary>
[NonParallelizable]
public class WalletIntegrationTests
{
    const string Brand = "tpa:b2";
    static Jackpot jackpot = null!;

    [OneTimeSetUp]
    public async Task ConnectAsync()
    {
        await EnsureWalletAsync();
        var brand = (await Servers.Pots.PutAsync("/config/operators/tpa/brands/b2/wallet-integration", Servers.OperatorA, new { enabled = true }))
            .Expect(HttpStatusCode.OK).Json;
        Assert.That(brand.GetProperty("wallet_integration").GetBoolean(), Is.True);
        jackpot = await Jackpots.CreateAsync(Jackpots.Template(magic: 1_000_000_000_000_000), brands: ["tpa:b1", "tpa:b2"]);
    }

    [OneTimeTearDown]
    public Task DisconnectAsync() => SetIntegrationAsync(false);

    /// <summary>Brand tpa:b2 debits through ThrillGate's wallet (on) or not (off); fixtures that need it switch it on and back off.</summary>
    internal static async Task SetIntegrationAsync(bool enabled)
    {
        if (enabled) await EnsureWalletAsync();
        (await Servers.Pots.PutAsync("/config/operators/tpa/brands/b2/wallet-integration", Servers.OperatorA, new { enabled })).Expect(HttpStatusCode.OK);
    }

    /// <summary>ThrillGate's wallet of tpa:b2 (created by whichever wallet fixture runs first; the same definition either way).</summary>
    internal static async Task EnsureWalletAsync()
    {
        var created = await Servers.Gate.PostAsync("/admin/wallets", Servers.OperatorA, Definition("tpa-b2-wallet", timeout: 1, retries: 1));
        Assert.That(created.Status, Is.EqualTo(HttpStatusCode.Created).Or.EqualTo(HttpStatusCode.Conflict), created.Text);
    }

    public static object Definition(string id, int timeout = 2, int retries = 2, string? secret = null) => new
    {
        id, operator_id = "tpa", brand_id = "b2", wallet_type = "StandardWallet",
        connection_details = new { protocol = "http", host = "127.0.0.1", port = Servers.WalletPort },
        endpoints = new Dictionary<string, object>
        {
            ["auth"] = new Dictionary<string, string> { ["POST"] = "/wallet/authenticate" },
            ["balance"] = new Dictionary<string, string> { ["GET"] = "/wallet/balance" },
            ["transaction"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction" },
            ["transaction_batch"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction/batch" },
            ["cancel_bet"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/cancel" },
        },
        config = new { secret_key = secret ?? Servers.WalletSecret, request_timeout = timeout, request_retry_limit = retries, accept_zero_value_credits = false },
    };

    internal static async Task<(string Player, string Token)> PlayerAsync(decimal balance, string currency = "EUR")
    {
        var player = Fixtures.Unique("wp");
        var token = "tok-" + player;
        (await Servers.Wallet.PutAsync($"/sim/players/{player}", Servers.WalletAdminToken, new
        {
            token, currency, balance, operator_id = "tpa", brand_id = "b2", nickname = player,
        })).Expect(HttpStatusCode.OK);
        return (player, token);
    }

    internal static async Task<decimal> BalanceAsync(string player) =>
        (await Servers.Wallet.GetAsync($"/sim/players/{player}", Servers.WalletAdminToken)).Expect(HttpStatusCode.OK).Json.GetProperty("balance").GetDecimal();

    internal static async Task<List<JsonElement>> WalletTransactionsAsync(string player) =>
        [.. (await Servers.Wallet.GetAsync($"/sim/transactions?player_id={player}", Servers.WalletAdminToken)).Expect(HttpStatusCode.OK).Json.EnumerateArray()];

    static async Task ArmAsync(string operation, string mode, int remaining, int status = 500, int delayMs = 0) =>
        (await Servers.Wallet.PutAsync("/sim/faults", Servers.WalletAdminToken, new { operation, mode, http_status = status, delay_ms = delayMs, remaining }))
            .Expect(HttpStatusCode.OK);

    static JsonObject Body(string player, string token, string currency = "EUR", Jackpot? target = null)
    {
        var body = Jackpots.Body(target ?? jackpot, player: player, brand: Brand, currency: currency);
        body["token"] = token;
        return body;
    }

    [TearDown]
    public async Task ClearFaultsAsync() => (await Servers.Wallet.SendAsync(HttpMethod.Delete, "/sim/faults", Servers.WalletAdminToken)).Expect(HttpStatusCode.NoContent);

    [Test]
    public async Task A_contribution_is_debited_from_the_wallet_once_however_often_it_is_sent()
    {
        var (player, token) = await PlayerAsync(10m, "GBP");
        var body = Body(player, token, "GBP");
        var first = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        // EUR 0.10 at 0.85 GBP per EUR is GBP 0.085, debited as 0.09 (the wallet's minor unit), which is what goes in.
        Assert.That(first.GetProperty("player_contribution_value").GetDecimal(), Is.EqualTo(0.09m));
        Assert.That(first.GetProperty("contribution_value").GetDecimal(), Is.EqualTo(0.105882352941m));
        Assert.That(await BalanceAsync(player), Is.EqualTo(9.91m));

        var again = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        Assert.That(again.GetProperty("outcome").GetString(), Is.EqualTo("duplicate"));
        Assert.That(await BalanceAsync(player), Is.EqualTo(9.91m), "a repeat is not debited again");
        var debits = (await WalletTransactionsAsync(player)).Where(t => t.GetProperty("transaction_type").GetString() == "Debit").ToList();
        Assert.That(debits, Has.Count.EqualTo(1));
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        Assert.That(await c.ExecuteScalarAsync<string>("select debit_transaction_id from contributions where id = @id",
            new { id = Guid.Parse(first.GetProperty("contribution_id").GetString()!) }), Is.EqualTo(debits[0].GetProperty("transaction_id").GetString()));
        Assert.That(await c.ExecuteScalarAsync<long>("select count(*) from pending_debits where player_id = @player", new { player }), Is.Zero);
    }

    [Test]
    public async Task The_wallet_is_debited_the_always_fair_minimum_of_the_players_currency_and_the_pot_gets_exactly_that()
    {
        // Fixed EUR 0.05 is below SEK 1 (EUR 0.0869…) and GBP 0.5: each player pays their currency's round minimum.
        var template = Jackpots.Template(fixedValue: 0.05m, magic: 1_000_000_000_000_000);
        template["contribution_rules"]!["currency_limits"] = JsonNode.Parse("""{"SEK": {"min": 1, "max": 50}, "GBP": {"min": 0.5, "max": 5}}""");
        var fair = await Jackpots.CreateAsync(template, brands: [Brand]);
        foreach (var (currency, minimum) in new[] { ("SEK", 1m), ("GBP", 0.5m) })
        {
            var (player, token) = await PlayerAsync(10m, currency);
            var result = (await Jackpots.ContributeAsync(Body(player, token, currency, fair))).Expect(HttpStatusCode.OK).Json;
            Assert.That(result.GetProperty("player_contribution_value").GetDecimal(), Is.EqualTo(minimum), currency);
            Assert.That(await BalanceAsync(player), Is.EqualTo(10m - minimum), currency);
            var debit = (await WalletTransactionsAsync(player)).Single(t => t.GetProperty("transaction_type").GetString() == "Debit");
            Assert.That((debit.GetProperty("amount").GetDecimal(), debit.GetProperty("currency").GetString()), Is.EqualTo((minimum, currency)));
            await using var c = new NpgsqlConnection(Servers.PotsDatabase);
            Assert.That(await c.ExecuteScalarAsync<decimal>("select player_value from contributions where id = @id",
                new { id = Guid.Parse(result.GetProperty("contribution_id").GetString()!) }), Is.EqualTo(minimum), "the ledger records what was debited");
        }
        Assert.That((await Jackpots.ReconcileAsync(fair)).GetProperty("balanced").GetBoolean(), Is.True);
    }

    [Test]
    public async Task Player_tokens_are_required_and_checked()
    {
        var (player, token) = await PlayerAsync(10m);
        var missing = Body(player, token);
        missing.Remove("token");
        (await Jackpots.ContributeAsync(missing)).ExpectInvalid("token");
        var forged = (await Jackpots.ContributeAsync(Body(player, "not-" + token))).ExpectConflict().Json;
        Assert.That(forged.GetProperty("reason").GetString(), Is.EqualTo("player_token_invalid"));
        var (other, _) = await PlayerAsync(10m);
        var mismatch = (await Jackpots.ContributeAsync(Body(other, token))).ExpectConflict().Json;
        Assert.That(mismatch.GetProperty("reason").GetString(), Is.EqualTo("player_mismatch"));
        Assert.That(await BalanceAsync(player), Is.EqualTo(10m));
    }

    [Test]
    public async Task A_debit_the_wallet_refuses_refuses_the_contribution_with_its_reason()
    {
        var (player, token) = await PlayerAsync(0.05m);
        var refused = (await Jackpots.ContributeAsync(Body(player, token))).ExpectConflict().Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("wallet_refused"));
        Assert.That(refused.GetProperty("detail").GetString(), Does.Contain("INSUFFICIENT_FUNDS"));
        Assert.That(await BalanceAsync(player), Is.EqualTo(0.05m));
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        Assert.That(await c.ExecuteScalarAsync<long>("select count(*) from contributions where player_id = @player", new { player }), Is.Zero);
    }

    [Test]
    public async Task A_contribution_refused_after_its_debit_gives_the_money_back()
    {
        var paused = await Jackpots.CreateAsync(brands: ["tpa:b2"]);
        await Jackpots.SetStateAsync(paused, "Paused");
        var (player, token) = await PlayerAsync(10m);
        var refused = (await Jackpots.ContributeAsync(Body(player, token, target: paused))).ExpectConflict().Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("instance_not_active"));
        Assert.That(await BalanceAsync(player), Is.EqualTo(10m), "the debit was cancelled");
        var debit = (await WalletTransactionsAsync(player)).Single();
        Assert.That(debit.GetProperty("status").GetString(), Is.EqualTo("cancelled"));
    }

    [Test]
    public async Task A_debit_that_times_out_is_cancelled_and_the_contribution_refused()
    {
        var (player, token) = await PlayerAsync(10m);
        // Longer than the wallet definition's 1 s timeout, on both attempts (request_retry_limit 1).
        await ArmAsync("transaction", "delay", remaining: 2, delayMs: 2500);
        var refused = (await Jackpots.ContributeAsync(Body(player, token))).ExpectProblem(HttpStatusCode.ServiceUnavailable).Json;
        Assert.That(refused.GetProperty("reason").GetString(), Is.EqualTo("wallet_unavailable"));
        // The slow wallet applied the debits after ThrillGate gave up; the cancel (same transaction id) returns the money.
        await Eventually.TrueAsync(async () => await BalanceAsync(player) == 10m && (await WalletTransactionsAsync(player))
            .Where(t => t.GetProperty("status").GetString() != "tombstone").All(t => t.GetProperty("status").GetString() == "cancelled"),
            TimeSpan.FromSeconds(30), "the timed-out debit to be cancelled");
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        Assert.That(await c.ExecuteScalarAsync<long>("select count(*) from contributions where player_id = @player", new { player }), Is.Zero);
    }

    [Test]
    public async Task A_win_is_credited_once_and_the_wallet_reconciles_with_the_engine()
    {
        var winning = await Jackpots.CreateAsync(Jackpots.Template(magic: 1), brands: ["tpa:b2"]);
        var (player, token) = await PlayerAsync(5m);
        var results = new List<JsonElement>();
        for (var i = 0; i < 3; i++)
            results.Add((await Jackpots.ContributeAsync(Body(player, token, target: winning))).Expect(HttpStatusCode.OK).Json);
        var wins = results.SelectMany(r => r.GetProperty("wins").EnumerateArray()).ToList();
        Assert.That(wins, Has.Count.EqualTo(3));
        Assert.That(wins.Select(w => w.GetProperty("win_withheld").GetBoolean()), Is.All.False);

        var paid = await Eventually.ValueAsync(async () =>
        {
            var list = (await Servers.Pots.GetAsync($"/instances/{winning.Id}/wins", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
            return list.EnumerateArray().All(w => w.GetProperty("payout_status").GetString() == "paid") ? list.Clone() as object : null;
        }, TimeSpan.FromSeconds(60), "every win to be paid");
        var engineSum = ((JsonElement)paid).EnumerateArray().Sum(w => w.GetProperty("player_win_amount").GetDecimal());
        var walletCredits = (await WalletTransactionsAsync(player)).Where(t => t.GetProperty("transaction_type").GetString() == "Credit").ToList();
        Assert.That(walletCredits.Select(t => t.GetProperty("transaction_id").GetString()).Distinct().Count(), Is.EqualTo(walletCredits.Count),
            "no transaction id twice");
        Assert.That(walletCredits.Sum(t => t.GetProperty("amount").GetDecimal()), Is.EqualTo(engineSum), "Σ wallet credits = Σ wins paid");
        var debited = (await WalletTransactionsAsync(player)).Where(t => t.GetProperty("transaction_type").GetString() == "Debit")
            .Sum(t => t.GetProperty("amount").GetDecimal());
        Assert.That(await BalanceAsync(player), Is.EqualTo(5m - debited + engineSum));
    }
}
