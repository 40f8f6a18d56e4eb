namespace ReferenceWallet.IntegrationTests;

/// <summary>Races the wallet must settle through its unique keys and row locks, not by luck.</summary>
public class ConcurrencyTests
{
    static WalletClient Wallet => WalletService.Client;

    [Test]
    public async Task Fifty_identical_concurrent_debits_apply_once()
    {
        var player = await Wallet.NewPlayerAsync(100m);
        var body = WalletClient.TransactionJson(player, "tx-" + Guid.NewGuid().ToString("N"), "Debit", 2.50m);

        var replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => Wallet.TransactionAsync(body))));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Select(r => r.Status), Is.All.EqualTo(HttpStatusCode.OK), string.Join("\n", replies.Where(r => r.Status != HttpStatusCode.OK)));
            Assert.That(replies.Select(r => r.TransactionId).Distinct().Count(), Is.EqualTo(1), "one wallet transaction");
            Assert.That(replies.Select(r => r.Balance), Is.All.EqualTo(97.50m));
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(97.50m));
            Assert.That(await Wallet.LedgerAsync(player), Has.Count.EqualTo(1));
        }
    }

    [Test]
    public async Task Concurrent_debits_never_take_the_balance_below_zero()
    {
        var player = await Wallet.NewPlayerAsync(10m);

        var replies = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            Task.Run(() => Wallet.DebitAsync(player, $"drain-{Guid.NewGuid():N}-{i}", 1m))));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Count(r => r.Status == HttpStatusCode.OK), Is.EqualTo(10));
            Assert.That(replies.Where(r => r.Status != HttpStatusCode.OK).Select(r => r.Code), Is.All.EqualTo("INSUFFICIENT_FUNDS"));
            Assert.That(await Wallet.BalanceOfAsync(player), Is.Zero);
        }
    }

    /// <summary>
    /// Whichever arrives first, a debit and a cancel of the same id leave the balance where it was:
    /// debit first, the cancel reverses it; cancel first, its tombstone refuses the debit.
    /// </summary>
    [Test]
    public async Task A_debit_racing_its_cancel_always_ends_with_the_money_returned()
    {
        var player = await Wallet.NewPlayerAsync(100m);
        var ids = Enumerable.Range(0, 25).Select(i => $"race-{Guid.NewGuid():N}-{i}").ToList();

        var debits = ids.Select(id => Task.Run(() => Wallet.DebitAsync(player, id, 1m))).ToList();
        var cancels = ids.Select(id => Task.Run(() => Wallet.CancelAsync(id, player.Id))).ToList();
        await Task.WhenAll(debits.Concat(cancels));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(cancels.Select(c => c.Result.Status), Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(debits.Select(d => d.Result.Status), Is.All.AnyOf(HttpStatusCode.OK, HttpStatusCode.Conflict));
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(100m));
            var ledger = await Wallet.LedgerAsync(player);
            Assert.That(ledger.Select(e => e.GetProperty("status").GetString()), Is.All.AnyOf("cancelled", "tombstone"));
            Assert.That(ledger, Has.Count.EqualTo(ids.Count));
        }
    }
}
