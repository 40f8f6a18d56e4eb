using ThrillSuite.Grpc;

namespace ThrillGate.IntegrationTests;

/// <summary>thrillsuite.gate.v1.Wallets against the reference wallet: what the player's balance shows for each answer.</summary>
public class WalletGrpcTests
{
    static ReferenceWallet Wallet => Servers.Wallet;

    [TearDown]
    public Task DisarmAsync() => Wallet.ClearFaultsAsync();

    [Test]
    public async Task A_valid_player_token_is_authenticated_by_the_wallet()
    {
        var (brand, _, player) = await Wallets.BrandAsync(balance: 12.5m);

        var authenticated = await Wallets.AuthenticateAsync(brand, player.Token, sourceId: "casino-sitewide");

        using (Assert.EnterMultipleScope())
        {
            Assert.That((authenticated.Id, authenticated.Currency, authenticated.OperatorId, authenticated.BrandId),
                Is.EqualTo((player.Id, "EUR", Servers.Operator, brand)));
            Assert.That(ReferenceWallet.Parse(authenticated.Balance), Is.EqualTo(12.5m));
            Assert.That(authenticated.Token, Does.StartWith("session_"), "the wallet's session token for transaction calls");
            Assert.That((authenticated.Country, authenticated.Nickname), Is.EqualTo(("MT", "Tester")));
        }
    }

    [Test]
    public async Task An_unknown_player_token_is_unauthenticated()
    {
        var (brand, _, player) = await Wallets.BrandAsync();

        var unknown = await Wallets.FailsAsync(() => Wallets.AuthenticateAsync(brand, "no-such-token-" + Guid.NewGuid().ToString("N")));
        var otherBrand = await Wallets.FailsAsync(async () =>
        {
            var (brand2, _, _) = await Wallets.BrandAsync();
            await Wallets.AuthenticateAsync(brand2, player.Token);
        });

        Assert.That(unknown.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), unknown.Message);
        Assert.That(otherBrand.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), "a token of another brand is unknown to this one: " + otherBrand.Message);
    }

    [Test]
    public async Task A_second_authentication_within_the_cache_window_does_not_reach_the_wallet()
    {
        var (brand, _, player) = await Wallets.BrandAsync();
        var first = await Wallets.AuthenticateAsync(brand, player.Token);
        // Armed for whoever calls authenticate next: the cached answer must not consume it.
        await Wallet.ArmErrorAsync("authenticate", 500, "INTERNAL_ERROR", remaining: 1);

        var second = await Wallets.AuthenticateAsync(brand, player.Token);
        var remainingAfterCached = await Wallet.RemainingAsync("authenticate");
        // The same player with another source is another session: it reaches the wallet, meets the fault, and its retry succeeds.
        var other = await Wallets.AuthenticateAsync(brand, player.Token, sourceId: "another-source");
        var remainingAfterCall = await Wallet.RemainingAsync("authenticate");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(second.Token, Is.EqualTo(first.Token), "the cached session");
            Assert.That(remainingAfterCached, Is.EqualTo(1), "the cached authentication did not call the wallet");
            Assert.That(other.Token, Is.Not.EqualTo(first.Token));
            Assert.That(remainingAfterCall, Is.Zero, "the fault was live for a call that reached the wallet");
        }
    }

    [Test]
    public async Task A_debit_takes_the_amount_once_even_when_repeated()
    {
        var (_, _, player) = await Wallets.BrandAsync(balance: 100m);
        var tx = Wallets.NewTransactionId();

        var first = await Wallets.DebitAsync(player, tx, "12.50");
        var repeat = await Wallets.DebitAsync(player, tx, "12.50");

        var ledger = await Wallet.LedgerAsync(player);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ReferenceWallet.Parse(first.Balance), Is.EqualTo(87.5m));
            Assert.That(first.WalletTransactionId, Is.Not.Empty);
            Assert.That((ReferenceWallet.Parse(repeat.Balance), repeat.WalletTransactionId), Is.EqualTo((87.5m, first.WalletTransactionId)),
                "the repeat answers the first debit");
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(87.5m));
            Assert.That(ledger.Select(e => (e.TransactionId, e.TransactionType, e.Amount, e.Status)), Is.EqualTo(new[] { (tx, (string?)"Debit", (decimal?)12.5m, "applied") }));
            Assert.That(await Wallets.DebitStateAsync(tx), Is.EqualTo("debited"));
        }
    }

    [Test]
    public async Task A_debit_the_wallet_does_not_answer_within_the_retries_is_aborted_and_cancelled()
    {
        // 1 s per attempt, one retry; each call is held 1.5 s and then still applied, as a slow wallet does.
        var (_, _, player) = await Wallets.BrandAsync(balance: 50m, timeout: 1, retries: 1);
        await Wallet.ArmDelayAsync("transaction", 1500, remaining: 2);
        var tx = Wallets.NewTransactionId();

        var failure = await Wallets.FailsAsync(() => Wallets.DebitAsync(player, tx, "20"));

        // ABORTED, not UNAVAILABLE: the debit is over (cancelled), so no gRPC client may retry it as is.
        Assert.That(failure.StatusCode, Is.EqualTo(StatusCode.Aborted), failure.Message);
        // ThrillGate records the cancel once the wallet has acknowledged it (at once, or by its re-drive on a slow machine).
        await Eventually.TrueAsync(async () => await Wallets.DebitStateAsync(tx) == "cancelled", TimeSpan.FromSeconds(15), "ThrillGate to cancel the debit");
        using (Assert.EnterMultipleScope())
        {
            Assert.That((await Wallet.EntryAsync(tx))?.Status, Is.AnyOf("cancelled", "tombstone"), "cancelled with its own transaction id");
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(50m));
            Assert.That(await Wallet.RemainingAsync("transaction"), Is.Zero, "both attempts reached the wallet");
        }
    }

    [Test]
    public async Task A_debit_whose_caller_gives_up_first_is_cancelled_all_the_same()
    {
        // The wallet answers after 2.5 s, within ThrillGate's timeout; the caller's deadline is 1 s. The debit lands after the
        // caller has gone, so ThrillGate must cancel it: nobody else knows it happened.
        var (_, _, player) = await Wallets.BrandAsync(balance: 50m, timeout: 5, retries: 0);
        await Wallet.ArmDelayAsync("transaction", 2500, remaining: 1);
        var tx = Wallets.NewTransactionId();

        var failure = await Wallets.FailsAsync(() => Wallets.DebitAsync(player, tx, "20", deadline: TimeSpan.FromSeconds(1)));

        Assert.That(failure.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded), failure.Message);
        await Eventually.TrueAsync(async () => await Wallets.DebitStateAsync(tx) == "cancelled", TimeSpan.FromSeconds(15), "ThrillGate to cancel the abandoned debit");
        // A tombstone when the cancel came first: the debit the wallet still holds is refused when it lands.
        Assert.That((await Wallet.EntryAsync(tx))?.Status, Is.AnyOf("cancelled", "tombstone"));
        Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(50m));
    }

    [Test]
    public async Task A_debit_the_wallet_refuses_is_a_failed_precondition_with_its_status_and_code()
    {
        var (_, _, player) = await Wallets.BrandAsync(balance: 5m);
        var tx = Wallets.NewTransactionId();

        var failure = await Wallets.FailsAsync(() => Wallets.DebitAsync(player, tx, "10"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failure.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition), failure.Message);
            Assert.That(failure.Trailers.GetValue("wallet-status"), Is.EqualTo("402"));
            Assert.That(failure.Trailers.GetValue("wallet-code"), Is.EqualTo("INSUFFICIENT_FUNDS"));
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(5m));
            Assert.That((await Wallet.EntryAsync(tx))?.Status, Is.EqualTo("tombstone"), "cancelled as a precaution (the default rule)");
        }
    }

    [Test]
    public async Task A_cancel_gives_the_debit_back_once()
    {
        var (_, _, player) = await Wallets.BrandAsync(balance: 30m);
        var tx = Wallets.NewTransactionId();
        await Wallets.DebitAsync(player, tx, "7.25");

        var cancelled = await Wallets.CancelAsync(player, tx);
        var again = await Wallets.CancelAsync(player, tx);
        var neverSeen = Wallets.NewTransactionId();
        var unknown = await Wallets.CancelAsync(player, neverSeen);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((ReferenceWallet.Parse(cancelled.Balance), cancelled.Pending), Is.EqualTo((30m, false)));
            Assert.That(ReferenceWallet.Parse(again.Balance), Is.EqualTo(30m), "a second cancel is a no-op");
            Assert.That(ReferenceWallet.Parse(unknown.Balance), Is.EqualTo(30m), "a debit the wallet never saw is cancelled as a no-op");
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(30m));
            Assert.That((await Wallet.EntryAsync(tx))?.Status, Is.EqualTo("cancelled"));
            Assert.That((await Wallet.EntryAsync(neverSeen))?.Status, Is.EqualTo("tombstone"));
            Assert.That(await Wallets.DebitStateAsync(tx), Is.EqualTo("cancelled"));
        }
    }

    [Test]
    public async Task A_cancel_the_wallet_does_not_acknowledge_is_pending_and_re_driven_until_it_does()
    {
        var (_, _, player) = await Wallets.BrandAsync(balance: 30m, retries: 2);
        var tx = Wallets.NewTransactionId();
        await Wallets.DebitAsync(player, tx, "10");
        // The call and its two retries fail; the wallet recovers after that.
        await Wallet.ArmErrorAsync("cancel", 503, "WALLET_DOWN", remaining: 3);

        var cancel = await Wallets.CancelAsync(player, tx);
        var stateAfterCall = await Wallets.DebitStateAsync(tx);

        Assert.That((cancel.Pending, cancel.Balance), Is.EqualTo((true, "")));
        Assert.That(stateAfterCall, Is.EqualTo("cancel_pending"));
        await Eventually.TrueAsync(async () => await Wallets.DebitStateAsync(tx) == "cancelled", TimeSpan.FromSeconds(20), "ThrillGate to re-drive the cancel");
        Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(30m));
        Assert.That((await Wallet.EntryAsync(tx))?.Status, Is.EqualTo("cancelled"));
    }

    [Test]
    public async Task The_balance_is_the_wallets()
    {
        var (brand, _, player) = await Wallets.BrandAsync(balance: 1234.56m);
        await Wallets.DebitAsync(player, Wallets.NewTransactionId(), "0.56");

        var balance = await Wallets.BalanceAsync(brand, player.Id);
        var unknown = await Wallets.FailsAsync(() => Wallets.BalanceAsync(brand, "no-such-player"));

        Assert.That(ReferenceWallet.Parse(balance.Balance), Is.EqualTo(1234m));
        Assert.That((unknown.StatusCode, unknown.Trailers.GetValue("wallet-status"), unknown.Trailers.GetValue("wallet-code")),
            Is.EqualTo((StatusCode.FailedPrecondition, "404", "PLAYER_NOT_FOUND")), unknown.Message);
    }

    [Test]
    public async Task A_brand_without_a_wallet_is_not_found()
    {
        var brand = Brands.Next();
        var player = await Wallet.NewPlayerAsync(brand, 10m);

        var calls = new (string Name, Func<Task> Call)[]
        {
            ("AuthenticatePlayer", () => Wallets.AuthenticateAsync(brand, player.Token)),
            ("Debit", () => Wallets.DebitAsync(player, Wallets.NewTransactionId(), "1")),
            ("Cancel", () => Wallets.CancelAsync(player, Wallets.NewTransactionId())),
            ("Balance", () => Wallets.BalanceAsync(brand, player.Id)),
        };
        using (Assert.EnterMultipleScope())
            foreach (var (name, call) in calls)
                Assert.That((await Wallets.FailsAsync(call)).StatusCode, Is.EqualTo(StatusCode.NotFound), name);
        Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(10m));
    }

    [Test]
    public async Task Invalid_requests_are_invalid_arguments()
    {
        var (brand, _, player) = await Wallets.BrandAsync();

        var amount = await Wallets.FailsAsync(() => Wallets.DebitAsync(player, Wallets.NewTransactionId(), "-1"));
        var currency = await Wallets.FailsAsync(() => Wallets.AuthenticateAsync(brand, player.Token, currency: "eur"));
        var noTransaction = await Wallets.FailsAsync(() => Wallets.DebitAsync(player, "", "1"));

        Assert.That(new[] { amount.StatusCode, currency.StatusCode, noTransaction.StatusCode }, Is.All.EqualTo(StatusCode.InvalidArgument));
        Assert.That(amount.Status.Detail, Does.StartWith("amount"));
        Assert.That(currency.Status.Detail, Does.StartWith("currency"));
        Assert.That(noTransaction.Status.Detail, Does.StartWith("transaction_id"));
        Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(100m));
    }
}
