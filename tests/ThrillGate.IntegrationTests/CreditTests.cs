using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.Contracts.Pots;

namespace ThrillGate.IntegrationTests;

/// <summary>
/// Wins paid from CreditWin commands (design.md §6): never twice, never cancelled, kept pending until the wallet acknowledges
/// them, across a crash. The last test reconciles everything this fixture paid against the wallet's ledger.
/// </summary>
public class CreditTests
{
    static ReferenceWallet Wallet => Servers.Wallet;
    static Api Gate => Servers.Gate;
    /// <summary>Every player and win of this fixture, for the reconciliation.</summary>
    static readonly ConcurrentBag<Player> Players = [];
    static readonly ConcurrentBag<Guid> Wins = [];

    [TearDown]
    public Task DisarmAsync() => Wallet.ClearFaultsAsync();

    static async Task<(string Brand, string WalletId, Player Player)> BrandAsync(int timeout = 5, int retries = 2, JsonObject? rules = null)
    {
        var brand = await Wallets.BrandAsync(balance: 100m, timeout: timeout, retries: retries, rules: rules);
        Players.Add(brand.Player);
        return brand;
    }

    /// <summary>A win as ThrillPots commands it: the transaction id derived from the win id.</summary>
    static CreditWin Win(Player player, decimal amount)
    {
        var winId = Guid.NewGuid();
        Wins.Add(winId);
        return new CreditWin(winId, "win-" + winId.ToString("N"), Guid.NewGuid(), "minor", Servers.Operator, $"{Servers.Operator}:{player.Brand}", player.Id,
            "EUR", amount, player.Currency, amount, "round-" + winId.ToString("N")[..8], Guid.NewGuid());
    }

    static async Task<JsonElement> CreditAsync(Guid winId) =>
        (await Gate.GetAsync("/admin/credits?win_id=" + winId, Servers.OperatorA)).Expect(HttpStatusCode.OK).Json.EnumerateArray().Single();

    static async Task<List<Entry>> CreditsInWalletAsync(Player player) =>
        [.. (await Wallet.LedgerAsync(player)).Where(e => e.TransactionType == "Credit")];

    [Test, Order(1)]
    public async Task A_win_is_credited_once_when_the_wallet_fails_twice_first()
    {
        var (_, _, player) = await BrandAsync(retries: 2);
        await Wallet.ArmErrorAsync("transaction", 500, "INTERNAL_ERROR", remaining: 2);
        var win = Win(player, 25.5m);

        await Servers.Events.SendAsync(win, Guid.NewGuid());

        var credited = await Events.WaitAsync<WinCredited>(e => e.WinId == win.WinId, "the win to be credited");
        var credit = await CreditAsync(win.WinId);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((credited.TransactionId, credited.Amount, credited.Attempts), Is.EqualTo((win.TransactionId, 25.5m, 1)),
                "one attempt of the credit sender, retried inside the wallet's pipeline");
            Assert.That(credited.WalletTransactionId, Is.Not.Null.And.Not.Empty);
            Assert.That((credit.GetProperty("state").GetString(), credit.GetProperty("transaction_id").GetString()), Is.EqualTo(("paid", win.TransactionId)));
            Assert.That(await Wallet.RemainingAsync("transaction"), Is.Zero, "both failures were met");
            Assert.That((await CreditsInWalletAsync(player)).Select(e => (e.TransactionId, e.Amount, e.Status)),
                Is.EqualTo(new[] { (win.TransactionId, (decimal?)25.5m, "applied") }));
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(125.5m));
        }
    }

    [Test, Order(2)]
    public async Task A_win_the_wallet_does_not_answer_goes_pending_and_is_paid_when_the_wallet_recovers()
    {
        // 1 s per attempt, one retry; while the delay is armed every call times out (and is applied late, as a slow wallet does).
        var (_, _, player) = await BrandAsync(timeout: 1, retries: 1);
        await Wallet.ArmDelayAsync("transaction", 1500, remaining: 1000);
        var win = Win(player, 40m);

        await Servers.Events.SendAsync(win, Guid.NewGuid());

        var pending = await Events.WaitAsync<WinCreditPending>(e => e.WinId == win.WinId, "the credit to go pending");
        var whilePending = await CreditAsync(win.WinId);
        await Wallet.ClearFaultsAsync();
        var credited = await Events.WaitAsync<WinCredited>(e => e.WinId == win.WinId, "the pending credit to be paid after the wallet recovered");

        using (Assert.EnterMultipleScope())
        {
            Assert.That((pending.TransactionId, pending.Amount), Is.EqualTo((win.TransactionId, 40m)));
            Assert.That(whilePending.GetProperty("state").GetString(), Is.EqualTo("pending"));
            Assert.That(credited.TransactionId, Is.EqualTo(win.TransactionId));
            Assert.That((await CreditAsync(win.WinId)).GetProperty("state").GetString(), Is.EqualTo("paid"));
            Assert.That((await CreditsInWalletAsync(player)).Select(e => e.TransactionId), Is.EqualTo(new[] { win.TransactionId }),
                "the late attempts and the re-drives were one transaction");
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(140m));
            Assert.That(Events.All<WinCreditPending>().Count(e => e.WinId == win.WinId), Is.EqualTo(1), "announced once");
        }
    }

    [Test, Order(3)]
    public async Task A_pending_win_is_paid_after_ThrillGate_is_killed_mid_call_and_restarted()
    {
        var (_, _, player) = await BrandAsync(timeout: 1, retries: 1);
        await Wallet.ArmDelayAsync("transaction", 1500, remaining: 1000);
        var win = Win(player, 12.34m);
        await Servers.Events.SendAsync(win, Guid.NewGuid());
        await Events.WaitAsync<WinCreditPending>(e => e.WinId == win.WinId, "the credit to go pending");

        // Kill it while a re-drive is in flight: the wallet has just taken a call, which it holds 1.5 s.
        var taken = 1000 - await Wallet.RemainingAsync("transaction");
        await Eventually.TrueAsync(async () => 1000 - await Wallet.RemainingAsync("transaction") > taken, TimeSpan.FromSeconds(20), "a re-drive to reach the wallet");
        await Servers.KillAndRestartGateAsync(whileDown: Wallet.ClearFaultsAsync);

        var credited = await Events.WaitAsync<WinCredited>(e => e.WinId == win.WinId, "the restarted ThrillGate to pay the pending credit");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(credited.TransactionId, Is.EqualTo(win.TransactionId));
            Assert.That((await CreditAsync(win.WinId)).GetProperty("state").GetString(), Is.EqualTo("paid"));
            Assert.That((await CreditsInWalletAsync(player)).Select(e => e.TransactionId), Is.EqualTo(new[] { win.TransactionId }));
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(112.34m));
        }
    }

    [Test, Order(4)]
    public async Task The_same_win_delivered_twice_is_paid_once()
    {
        var (_, _, player) = await BrandAsync();
        var win = Win(player, 7m);
        var messageId = Guid.NewGuid();
        await Servers.Events.SendAsync(win, messageId);
        await Events.WaitAsync<WinCredited>(e => e.WinId == win.WinId, "the first delivery to be paid");
        // A tripwire: any further transaction call ThrillGate makes meets this fault and uses it up.
        await Wallet.ArmErrorAsync("transaction", 500, "TRIPWIRE", remaining: 1);

        var otherMessageId = Guid.NewGuid();
        await Servers.Events.SendAsync(win, messageId);
        await Servers.Events.SendAsync(win, otherMessageId);
        await Eventually.TrueAsync(async () =>
                Servers.GateOutput.Contains($"skipped duplicate CreditWin {messageId}", StringComparison.Ordinal) && await InboxHasAsync(otherMessageId),
            TimeSpan.FromSeconds(30), "both redeliveries to be consumed");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await Wallet.RemainingAsync("transaction"), Is.EqualTo(1), "no second transaction call reached the wallet");
            Assert.That(Events.All<WinCredited>().Count(e => e.WinId == win.WinId), Is.EqualTo(1));
            var credit = await CreditAsync(win.WinId);
            Assert.That((credit.GetProperty("state").GetString(), credit.GetProperty("attempts").GetInt32()), Is.EqualTo(("paid", 1)));
            Assert.That((await CreditsInWalletAsync(player)).Select(e => e.TransactionId), Is.EqualTo(new[] { win.TransactionId }));
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(107m));
        }
    }

    [Test, Order(5)]
    public async Task A_win_refused_by_a_no_retry_rule_fails_and_is_paid_by_a_manual_retry_once_the_rule_is_gone()
    {
        var rules = new JsonObject { ["500:LEDGER_LOCKED"] = new JsonObject { ["must_retry"] = false } };
        var (brand, walletId, player) = await BrandAsync(retries: 2, rules: rules);
        await Wallet.ArmErrorAsync("transaction", 500, "LEDGER_LOCKED", remaining: 3);
        var win = Win(player, 3.5m);

        await Servers.Events.SendAsync(win, Guid.NewGuid());
        var failed = await Events.WaitAsync<WinCreditFailed>(e => e.WinId == win.WinId, "the credit to fail");
        var whileFailed = await CreditAsync(win.WinId);
        var callsWhileRuled = 3 - await Wallet.RemainingAsync("transaction");

        var noToken = await Gate.PostAsync($"/admin/credits/{win.WinId}/retry", null);
        var readOnly = await Gate.PostAsync($"/admin/credits/{win.WinId}/retry", Servers.ReadOnlyA);
        var otherOperator = await Gate.PostAsync($"/admin/credits/{win.WinId}/retry", Servers.OperatorB);
        var unknown = await Gate.PostAsync($"/admin/credits/{Guid.NewGuid()}/retry", Servers.OperatorA);
        // The rule removed (secret kept), the wallet still fails twice: now retried inside one attempt, and paid.
        (await Gate.PutAsync("/admin/wallets/" + walletId, Servers.OperatorA, Without(Wallets.Definition(brand, id: walletId), "secret_key")))
            .Expect(HttpStatusCode.OK);
        var retried = (await Gate.PostAsync($"/admin/credits/{win.WinId}/retry", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var credited = await Events.WaitAsync<WinCredited>(e => e.WinId == win.WinId, "the retried credit to be paid");
        var retryPaid = await Gate.PostAsync($"/admin/credits/{win.WinId}/retry", Servers.OperatorA);
        var audit = (await Gate.GetAsync($"/thrillgate/audit?resource_id={win.WinId}", Servers.OperatorA)).Expect(HttpStatusCode.OK);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((failed.WalletStatus, failed.WalletCode, failed.TransactionId), Is.EqualTo(((int?)500, "LEDGER_LOCKED", win.TransactionId)));
            Assert.That((whileFailed.GetProperty("state").GetString(), whileFailed.GetProperty("last_code").GetString()), Is.EqualTo(("failed", "LEDGER_LOCKED")));
            Assert.That(callsWhileRuled, Is.EqualTo(1), "not retried");
            Assert.That(noToken.Status, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That((readOnly.Status, otherOperator.Status), Is.EqualTo((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden)));
            unknown.ExpectProblem(HttpStatusCode.NotFound);
            Assert.That(retried.Json.GetProperty("state").GetString(), Is.EqualTo("pending"));
            Assert.That(credited.TransactionId, Is.EqualTo(win.TransactionId));
            Assert.That(await Wallet.RemainingAsync("transaction"), Is.Zero);
            retryPaid.ExpectProblem(HttpStatusCode.Conflict);
            Assert.That(audit.Json.EnumerateArray().Select(a => a.GetProperty("action").GetString()), Is.EqualTo(new[] { "credit.retry" }));
            Assert.That((await CreditsInWalletAsync(player)).Select(e => (e.TransactionId, e.Amount)), Is.EqualTo(new[] { (win.TransactionId, (decimal?)3.5m) }));
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(103.5m));
        }
    }

    [Test, Order(6)]
    public async Task A_win_for_a_brand_without_a_wallet_fails_and_is_paid_by_a_retry_once_the_wallet_exists()
    {
        var brand = Brands.Next();
        var player = await Wallet.NewPlayerAsync(brand, 100m);
        Players.Add(player);
        var win = Win(player, 9.99m);

        await Servers.Events.SendAsync(win, Guid.NewGuid());
        var failed = await Events.WaitAsync<WinCreditFailed>(e => e.WinId == win.WinId, "the credit to fail for want of a wallet");
        var badState = await Gate.GetAsync("/admin/credits?state=lost", Servers.OperatorA);
        var owed = (await Gate.GetAsync($"/admin/credits?state=failed&brand_id={brand}", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        await Wallets.CreateAsync(Wallets.Definition(brand));
        (await Gate.PostAsync($"/admin/credits/{win.WinId}/retry", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        await Events.WaitAsync<WinCredited>(e => e.WinId == win.WinId, "the retried credit to be paid");

        using (Assert.EnterMultipleScope())
        {
            Assert.That((failed.WalletStatus, failed.Reason), Is.EqualTo(((int?)null, $"No enabled wallet is configured for brand '{Servers.Operator}:{brand}'.")));
            badState.ExpectInvalid("state");
            Assert.That(owed.Json.EnumerateArray().Select(c => c.GetProperty("win_id").GetGuid()), Is.EqualTo(new[] { win.WinId }));
            Assert.That((await CreditsInWalletAsync(player)).Select(e => e.TransactionId), Is.EqualTo(new[] { win.TransactionId }));
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(109.99m));
        }
    }

    /// <summary>Σ credits in the wallet for this fixture's players = Σ credits ThrillGate marked paid, each transaction once.</summary>
    [Test, Order(100)]
    public async Task Every_credit_ThrillGate_paid_is_in_the_wallet_once_and_nothing_else_is()
    {
        // Its own win too, so that it reconciles something when run alone.
        var (_, _, player) = await BrandAsync();
        var win = Win(player, 0.99m);
        await Servers.Events.SendAsync(win, Guid.NewGuid());
        await Events.WaitAsync<WinCredited>(e => e.WinId == win.WinId, "the win to be paid");

        var credits = new List<JsonElement>();
        foreach (var winId in Wins) credits.Add(await CreditAsync(winId));
        var walletCredits = new List<Entry>();
        foreach (var p in Players) walletCredits.AddRange(await CreditsInWalletAsync(p));
        var paid = credits.Where(c => c.GetProperty("state").GetString() == "paid").ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(credits.Select(c => c.GetProperty("state").GetString()), Is.All.EqualTo("paid"), "no win of this fixture is left owed");
            Assert.That(walletCredits.Select(e => e.TransactionId), Is.Unique);
            Assert.That(walletCredits.Select(e => e.Status), Is.All.EqualTo("applied"), "a credit is never cancelled");
            Assert.That(walletCredits.Sum(e => e.Amount), Is.EqualTo(paid.Sum(c => c.GetProperty("amount").GetDecimal())));
            Assert.That(walletCredits.Select(e => e.TransactionId), Is.EquivalentTo(paid.Select(c => c.GetProperty("transaction_id").GetString())));
        }
    }

    static JsonObject Without(JsonObject definition, string configKey)
    {
        definition["config"]!.AsObject().Remove(configKey);
        return definition;
    }

    static async Task<bool> InboxHasAsync(Guid messageId)
    {
        await using var c = new NpgsqlConnection(Servers.GateDatabase);
        return await c.ExecuteScalarAsync<bool>("select exists (select 1 from inbox_messages where message_id = @messageId)", new { messageId });
    }
}
