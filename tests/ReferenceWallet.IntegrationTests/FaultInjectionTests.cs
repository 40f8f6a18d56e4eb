namespace ReferenceWallet.IntegrationTests;

/// <summary>The faults ThrillGate's retry, timeout and lost-response paths will be tested with.</summary>
[NonParallelizable]
public class FaultInjectionTests
{
    static WalletClient Wallet => WalletService.Client;
    static string NewId() => "tx-" + Guid.NewGuid().ToString("N");

    [TearDown]
    public async Task Disarm() => await Wallet.AdminAsync(HttpMethod.Delete, "/sim/faults");

    [Test]
    public async Task An_injected_http_error_answers_the_next_calls_and_then_the_wallet_recovers()
    {
        var player = await Wallet.NewPlayerAsync(20m);
        await Wallet.ArmFaultAsync(new { operation = "transaction", mode = "http_error", http_status = 503, code = "WALLET_DOWN", remaining = 2 });
        var body = WalletClient.TransactionJson(player, NewId(), "Debit", 5m);

        var first = await Wallet.TransactionAsync(body);
        var second = await Wallet.TransactionAsync(body);
        var balanceMeanwhile = await Wallet.BalanceOfAsync(player);
        var third = await Wallet.TransactionAsync(body);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((first.Status, first.Code), Is.EqualTo((HttpStatusCode.ServiceUnavailable, "WALLET_DOWN")), first.ToString());
            Assert.That((second.Status, second.Code), Is.EqualTo((HttpStatusCode.ServiceUnavailable, "WALLET_DOWN")));
            Assert.That(balanceMeanwhile, Is.EqualTo(20m), "a refused call moved no money; other operations were not affected");
            Assert.That((third.Status, third.Balance), Is.EqualTo((HttpStatusCode.OK, 15m)), third.ToString());
        }
    }

    [Test]
    public async Task A_response_dropped_after_commit_leaves_the_debit_applied_once_for_the_retry()
    {
        var player = await Wallet.NewPlayerAsync(20m);
        await Wallet.ArmFaultAsync(new { operation = "transaction", mode = "drop_after_commit", remaining = 1 });
        var body = WalletClient.TransactionJson(player, NewId(), "Debit", 5m);

        Assert.ThrowsAsync<HttpRequestException>(() => Wallet.TransactionAsync(body, freshConnection: true));
        var committed = await Wallet.LedgerAsync(player);
        var retry = await Wallet.TransactionAsync(body);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(committed.Select(e => e.GetProperty("status").GetString()), Is.EqualTo(new[] { "applied" }));
            Assert.That((retry.Status, retry.Balance), Is.EqualTo((HttpStatusCode.OK, 15m)), retry.ToString());
            Assert.That(retry.TransactionId, Is.EqualTo(committed[0].GetProperty("wallet_transaction_id").GetString()));
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(15m));
        }
    }

    [Test]
    public async Task A_delayed_call_the_caller_gave_up_on_still_commits_and_the_retry_gets_its_result()
    {
        var player = await Wallet.NewPlayerAsync(20m);
        await Wallet.ArmFaultAsync(new { operation = "transaction", mode = "delay", delay_ms = 2000, remaining = 1 });
        var body = WalletClient.TransactionJson(player, NewId(), "Credit", 5m);

        Assert.CatchAsync<TaskCanceledException>(() => Wallet.TransactionAsync(body, timeout: TimeSpan.FromMilliseconds(300)));
        await Eventually.TrueAsync(async () => (await Wallet.LedgerAsync(player)).Count == 1, TimeSpan.FromSeconds(30), "the delayed credit to commit");
        var retry = await Wallet.TransactionAsync(body);

        Assert.That((retry.Status, retry.Balance), Is.EqualTo((HttpStatusCode.OK, 25m)), retry.ToString());
        Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(25m));
    }

    [Test]
    public async Task A_fault_is_validated_and_disarmed_on_request()
    {
        var bad = await Wallet.AdminAsync(HttpMethod.Put, "/sim/faults", new { operation = "transfer", mode = "http_error" });
        await Wallet.ArmFaultAsync(new { operation = "balance", mode = "http_error", remaining = 5 });
        await Wallet.AdminAsync(HttpMethod.Delete, "/sim/faults");
        var player = await Wallet.NewPlayerAsync(1m);

        Assert.That((bad.Status, bad.Code), Is.EqualTo((HttpStatusCode.BadRequest, "INVALID_PROPERTY_VALUE")), bad.ToString());
        Assert.That(bad.Message, Does.StartWith("operation"));
        Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(1m), "disarmed faults no longer fire");
    }
}
