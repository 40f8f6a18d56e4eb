namespace ThrillPots.IntegrationTests;

/// <summary>
/// Linked contributions of a wallet-integrated brand (tpa:b2): each instance contribution is its own debit, and a linked
/// refusal gives back only its own.
/// </summary>
[NonParallelizable]
public class LinkedWalletTests
{
    [OneTimeSetUp]
    public Task ConnectAsync() => WalletIntegrationTests.SetIntegrationAsync(true);

    [OneTimeTearDown]
    public Task DisconnectAsync() => WalletIntegrationTests.SetIntegrationAsync(false);

    [Test]
    public async Task Each_instance_contribution_is_debited_and_a_refused_linked_one_is_given_back()
    {
        var daily = await LinkedJackpotTests.InstanceAsync("Daily");
        var weekly = await LinkedJackpotTests.InstanceAsync("Weekly", optIn: true, linkedInstance: daily.Id);
        var monthly = await LinkedJackpotTests.InstanceAsync("Monthly", linkedInstance: daily.Id);
        var (player, token) = await WalletIntegrationTests.PlayerAsync(10m);
        var body = LinkedJackpotTests.V2(daily, player);
        body["player"]!["brand_id"] = "b2";
        body["player"]!["token"] = token;

        var results = (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, body)).Expect(HttpStatusCode.OK).Json.EnumerateArray().ToList();
        Assert.That(results.Select(r => (r.GetProperty("instance_id").GetString(), r.GetProperty("outcome").GetString())),
            Is.EqualTo(new[] { (daily.Id, "accepted"), (weekly.Id, "rejected"), (monthly.Id, "accepted") }));
        Assert.That(results[1].GetProperty("reason").GetString(), Is.EqualTo("not_opted_in"));

        // Daily and Monthly each took 0.10; Weekly's debit (taken before its writer refused) was cancelled.
        Assert.That(await WalletIntegrationTests.BalanceAsync(player), Is.EqualTo(9.8m));
        var debits = await WalletIntegrationTests.WalletTransactionsAsync(player);
        Assert.That(debits.Select(d => d.GetProperty("status").GetString()), Is.EquivalentTo(new[] { "applied", "applied", "cancelled" }),
            string.Join("\n", debits));

        // A repeat debits nothing more.
        var repeat = (await Servers.Pots.PostAsync("/v2/jackpots/contribute", Servers.OperatorA, body)).Expect(HttpStatusCode.OK).Json;
        Assert.That(repeat.EnumerateArray().Select(r => r.GetProperty("outcome").GetString()), Is.EqualTo(new[] { "duplicate", "rejected", "duplicate" }));
        Assert.That(await WalletIntegrationTests.BalanceAsync(player), Is.EqualTo(9.8m));
    }
}
