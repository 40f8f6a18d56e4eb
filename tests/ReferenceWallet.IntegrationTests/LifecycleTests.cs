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

    [Test]
    public async Task Configured_players_are_created_once_and_keep_their_balance_across_restarts()
    {
        var (secret, admin) = (WalletService.NewSecret(), WalletService.NewSecret());
        var player = new Player("seed-" + Guid.NewGuid().ToString("N")[..8], "seed-token-" + Guid.NewGuid().ToString("N"), "EUR");
        Dictionary<string, string> Seed(decimal balance) => new()
        {
            ["Wallet__Players__0__Id"] = player.Id, ["Wallet__Players__0__Token"] = player.Token, ["Wallet__Players__0__Currency"] = "EUR",
            ["Wallet__Players__0__Balance"] = balance.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Wallet__Players__0__OperatorId"] = WalletClient.OperatorId, ["Wallet__Players__0__BrandId"] = WalletClient.BrandId,
        };
        await using (var first = await WalletService.StartAsync(connectionString, secret, admin, Seed(50m)))
        using (var wallet = new WalletClient(first.BaseUrl, secret, admin))
        {
            Assert.That(await wallet.BalanceOfAsync(player), Is.EqualTo(50m));
            await wallet.DebitAsync(player, "tx-" + Guid.NewGuid().ToString("N"), 5m);
        }
        await using var second = await WalletService.StartAsync(connectionString, secret, admin, Seed(999m));
        using var again = new WalletClient(second.BaseUrl, secret, admin);
        Assert.That(await again.BalanceOfAsync(player), Is.EqualTo(45m), "an existing player is not reset by the configuration");
        Assert.That((await again.AuthenticateAsync(player.Token)).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task A_malformed_configured_player_stops_start_up_naming_it()
    {
        await using var process = WalletService.Start(connectionString, WalletService.NewSecret(), WalletService.NewSecret(), new Dictionary<string, string>
        {
            ["Wallet__Players__0__Id"] = "p", ["Wallet__Players__0__Token"] = "t", ["Wallet__Players__0__Currency"] = "EUR",
            ["Wallet__Players__0__Balance"] = "-5", ["Wallet__Players__0__OperatorId"] = "op", ["Wallet__Players__0__BrandId"] = "b",
        });
        Assert.That(await process.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.EqualTo(2), process.Output);
        Assert.That(process.Output, Does.Contain("Wallet:Players:0"));
    }
}
