namespace ReferenceWallet.IntegrationTests;

/// <summary>Start-up and restarts of the wallet process itself, each on a database of its own.</summary>
public class LifecycleTests
{
    string database = null!;
    string connectionString = null!;

    [SetUp]
    public void NewDatabase() => connectionString = TestEnvironment.UniqueDatabase("wallet", out database);

    [TearDown]
    public Task Drop() => TestEnvironment.DropDatabaseAsync(database);

    [TestCase(null)]
    [TestCase("too-short")]
    public async Task Start_up_without_a_usable_secret_fails_naming_the_setting(string? secret)
    {
        await using var process = WalletService.Start(connectionString, secret, WalletService.NewSecret());

        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.That(exitCode, Is.Not.Zero);
        Assert.That(process.Output, Does.Contain("Wallet:Secret"));
    }

    [Test]
    public async Task Balances_the_ledger_and_tombstones_survive_a_restart()
    {
        var (secret, admin) = (WalletService.NewSecret(), WalletService.NewSecret());
        Player player;
        Reply debit;
        string body, cancelledId = "tx-" + Guid.NewGuid().ToString("N");
        await using (var first = await WalletService.StartAsync(connectionString, secret, admin))
        using (var wallet = new WalletClient(first.BaseUrl, secret, admin))
        {
            player = await wallet.NewPlayerAsync(100m);
            body = WalletClient.TransactionJson(player, "tx-" + Guid.NewGuid().ToString("N"), "Debit", 12.34m);
            debit = await wallet.TransactionAsync(body);
            await wallet.CancelAsync(cancelledId, player.Id);
            Assert.That(debit.Balance, Is.EqualTo(87.66m), debit.ToString());
        }

        await using var second = await WalletService.StartAsync(connectionString, secret, admin);
        using var again = new WalletClient(second.BaseUrl, secret, admin);
        var repeat = await again.TransactionAsync(body);
        var lateDebit = await again.DebitAsync(player, cancelledId, 1m);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await again.BalanceOfAsync(player), Is.EqualTo(87.66m));
            Assert.That(repeat.Body, Is.EqualTo(debit.Body), "the repeat after a restart is still the same transaction");
            Assert.That(lateDebit.Code, Is.EqualTo("TRANSACTION_CANCELLED"));
        }
    }
}
