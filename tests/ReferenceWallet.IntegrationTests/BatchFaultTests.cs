namespace ReferenceWallet.IntegrationTests;

/// <summary>Batch credits as ThrillGate drives them for community payouts (issue 8): one player's item fails on purpose while
/// the others pass, and the failed item sent alone later is the same transaction, applied once.</summary>
[NonParallelizable]
public class BatchFaultTests
{
    static WalletClient Wallet => WalletService.Client;

    [TearDown]
    public async Task Disarm() => await Wallet.AdminAsync(HttpMethod.Delete, "/sim/faults");

    static string Batch(string batchId, params string[] items) => $$"""{"batch_id":"{{batchId}}","transactions":[{{string.Join(",", items)}}]}""";

    [Test]
    public async Task A_fault_for_one_player_fails_only_that_players_item_which_alone_later_is_the_same_transaction()
    {
        var (a, b) = (await Wallet.NewPlayerAsync(10m), await Wallet.NewPlayerAsync(10m));
        await Wallet.ArmFaultAsync(new { operation = "batch", mode = "http_error", http_status = 500, player_id = b.Id, remaining = 1 });
        await Wallet.ArmFaultAsync(new { operation = "transaction", mode = "http_error", http_status = 503, code = "DOWN", player_id = b.Id, remaining = 1 });
        var (txA, txB) = ("payout-" + Guid.NewGuid().ToString("N"), "payout-" + Guid.NewGuid().ToString("N"));
        var itemB = WalletClient.TransactionJson(b, txB, "Credit", 2.5m);

        var batch = await Wallet.SendAsync(HttpMethod.Post, "/wallet/transaction/batch",
            Batch("batch-" + Guid.NewGuid().ToString("N"), WalletClient.TransactionJson(a, txA, "Credit", 1.25m), itemB));
        var alone = await Wallet.TransactionAsync(itemB);
        var again = await Wallet.TransactionAsync(itemB);
        var unaffected = await Wallet.CreditAsync(a, "tx-" + Guid.NewGuid().ToString("N"), 1m);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(batch.Status, Is.EqualTo(HttpStatusCode.OK), batch.ToString());
            var results = batch.Json.GetProperty("results").EnumerateArray().ToDictionary(r => r.GetProperty("transaction_id").GetString()!);
            Assert.That(results[txA].GetProperty("status").GetString(), Is.EqualTo("ok"));
            Assert.That(results[txB].GetProperty("status").GetString(), Is.EqualTo("error"));
            Assert.That(results[txB].GetProperty("http_status").GetInt32(), Is.EqualTo(500), "the status the item would have had alone");
            Assert.That((alone.Status, alone.Code), Is.EqualTo((HttpStatusCode.ServiceUnavailable, "DOWN")), "the player's single credit fails too");
            Assert.That((again.Status, again.Balance), Is.EqualTo((HttpStatusCode.OK, 12.5m)), again.ToString());
            Assert.That(unaffected.Status, Is.EqualTo(HttpStatusCode.OK), "another player's credits pass");
            Assert.That(await Wallet.BalanceOfAsync(b), Is.EqualTo(12.5m));
        }

        // Paid in a batch, then sent alone with the same id (a re-drive whose first answer was lost): the same transaction.
        var c = await Wallet.NewPlayerAsync(10m);
        var txC = "payout-" + Guid.NewGuid().ToString("N");
        var itemC = WalletClient.TransactionJson(c, txC, "Credit", 3m);
        (await Wallet.SendAsync(HttpMethod.Post, "/wallet/transaction/batch", Batch("batch-" + Guid.NewGuid().ToString("N"), itemC))).Json.ToString();
        var single = await Wallet.TransactionAsync(itemC);
        Assert.That((single.Status, single.Balance), Is.EqualTo((HttpStatusCode.OK, 13m)), single.ToString());
        Assert.That((await Wallet.LedgerAsync(c)).Count, Is.EqualTo(1));
        Assert.That(await Wallet.BalanceOfAsync(c), Is.EqualTo(13m));
    }

    [Test]
    public async Task A_player_fault_is_only_an_http_error_of_transaction_or_batch()
    {
        var reply = await Wallet.AdminAsync(HttpMethod.Put, "/sim/faults", new { operation = "balance", mode = "http_error", player_id = "p" });
        Assert.That((reply.Status, reply.Code), Is.EqualTo((HttpStatusCode.BadRequest, "INVALID_PROPERTY_VALUE")));
        Assert.That(reply.Message, Does.StartWith("player_id"));
        reply = await Wallet.AdminAsync(HttpMethod.Put, "/sim/faults", new { operation = "batch", mode = "delay", delay_ms = 10, player_id = "p" });
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.BadRequest));
    }
}
