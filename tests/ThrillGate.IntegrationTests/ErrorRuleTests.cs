using ThrillSuite.Grpc;

namespace ThrillGate.IntegrationTests;

/// <summary>
/// error_response_rules (spec §5.4). The wallet's armed fault counts the calls: what remains of it after one ThrillGate call
/// tells how many attempts reached the wallet.
/// </summary>
public class ErrorRuleTests
{
    static ReferenceWallet Wallet => Servers.Wallet;

    [TearDown]
    public Task DisarmAsync() => Wallet.ClearFaultsAsync();

    static JsonObject Rules(params (string Key, bool? Retry, bool? Cancel)[] rules)
    {
        var o = new JsonObject();
        foreach (var (key, retry, cancel) in rules)
        {
            var rule = new JsonObject();
            if (retry is { } r) rule["must_retry"] = r;
            if (cancel is { } c) rule["must_cancel"] = c;
            o[key] = rule;
        }
        return o;
    }

    /// <summary>How many balance calls reached the wallet for one Balance request, with a 503 of <paramref name="code"/> armed.</summary>
    static async Task<(int Calls, RpcException Failure)> BalanceCallsAsync(JsonObject? rules, string code, int armed = 5)
    {
        var (brand, _, player) = await Wallets.BrandAsync(retries: 2, rules: rules);
        await Wallet.ArmErrorAsync("balance", 503, code, remaining: armed);
        var failure = await Wallets.FailsAsync(() => Wallets.BalanceAsync(brand, player.Id));
        return (armed - await Wallet.RemainingAsync("balance"), failure);
    }

    [Test]
    public async Task A_rule_with_must_retry_false_is_not_retried()
    {
        var (calls, failure) = await BalanceCallsAsync(Rules(("503:WALLET_DOWN", false, null)), "WALLET_DOWN", armed: 3);

        Assert.That(calls, Is.EqualTo(1));
        Assert.That((failure.StatusCode, failure.Trailers.GetValue("wallet-status"), failure.Trailers.GetValue("wallet-code")),
            Is.EqualTo((StatusCode.FailedPrecondition, "503", "WALLET_DOWN")), failure.Message);
    }

    [Test]
    public async Task Without_a_rule_an_error_is_retried_request_retry_limit_times()
    {
        var (calls, failure) = await BalanceCallsAsync(null, "WALLET_DOWN");

        Assert.That(calls, Is.EqualTo(3), "the call and request_retry_limit (2) retries");
        Assert.That((failure.StatusCode, failure.Trailers.GetValue("wallet-status")), Is.EqualTo((StatusCode.FailedPrecondition, "503")), failure.Message);
    }

    [Test]
    public async Task A_rule_for_another_code_does_not_apply()
    {
        var (calls, _) = await BalanceCallsAsync(Rules(("503:MAINTENANCE", false, null)), "WALLET_DOWN");

        Assert.That(calls, Is.EqualTo(3));
    }

    [Test]
    public async Task A_status_only_rule_applies_when_no_status_and_code_rule_matches()
    {
        var rules = Rules(("503", false, null), ("503:BUSY", true, null));

        var (statusOnly, _) = await BalanceCallsAsync(rules.DeepClone().AsObject(), "WALLET_DOWN");
        await Wallet.ClearFaultsAsync();
        var (exact, _) = await BalanceCallsAsync(rules, "BUSY");

        Assert.That(statusOnly, Is.EqualTo(1), "\"503\" matched WALLET_DOWN");
        Assert.That(exact, Is.EqualTo(3), "\"503:BUSY\" wins over \"503\"");
    }

    [Test]
    public async Task A_rule_with_must_cancel_false_leaves_a_failed_debit_uncancelled()
    {
        var (_, _, player) = await Wallets.BrandAsync(balance: 10m, rules: Rules(("500:LEDGER_LOCKED", false, false)));
        await Wallet.ArmErrorAsync("transaction", 500, "LEDGER_LOCKED", remaining: 1);
        var tx = Wallets.NewTransactionId();

        var failure = await Wallets.FailsAsync(() => Wallets.DebitAsync(player, tx, "4"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That((failure.StatusCode, failure.Trailers.GetValue("wallet-code")), Is.EqualTo((StatusCode.FailedPrecondition, "LEDGER_LOCKED")));
            Assert.That(await Wallet.EntryAsync(tx), Is.Null, "no cancel reached the wallet (it would have left a tombstone)");
            Assert.That(await Wallets.DebitStateAsync(tx), Is.EqualTo("failed"));
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(10m));
        }
    }

    [Test]
    public async Task Without_must_cancel_false_a_failed_debit_is_cancelled()
    {
        var (_, _, player) = await Wallets.BrandAsync(balance: 10m, rules: Rules(("500:LEDGER_LOCKED", false, null)));
        await Wallet.ArmErrorAsync("transaction", 500, "LEDGER_LOCKED", remaining: 1);
        var tx = Wallets.NewTransactionId();

        var failure = await Wallets.FailsAsync(() => Wallets.DebitAsync(player, tx, "4"));

        Assert.That(failure.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That((await Wallet.EntryAsync(tx))?.Status, Is.EqualTo("tombstone"));
        Assert.That(await Wallets.DebitStateAsync(tx), Is.EqualTo("cancelled"));
    }
}
