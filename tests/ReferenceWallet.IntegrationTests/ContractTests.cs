using System.Text.Json;

namespace ReferenceWallet.IntegrationTests;

/// <summary>The operator wallet contract of spec §3 as ThrillGate sees it.</summary>
public class ContractTests
{
    static WalletClient Wallet => WalletService.Client;
    static string NewId() => "tx-" + Guid.NewGuid().ToString("N");

    [Test]
    public async Task Authenticate_returns_the_player_and_a_session_token_of_its_own()
    {
        var player = await Wallet.NewPlayerAsync(1234.56m);

        var reply = await Wallet.AuthenticateAsync(player.Token);

        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), reply.ToString());
        var json = reply.Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(json.GetProperty("id").GetString(), Is.EqualTo(player.Id));
            Assert.That(json.GetProperty("token").GetString(), Is.Not.Empty.And.Not.EqualTo(player.Token));
            Assert.That(json.GetProperty("currency").GetString(), Is.EqualTo("EUR"));
            Assert.That(json.GetProperty("balance").GetDecimal(), Is.EqualTo(1234.56m));
            Assert.That(json.GetProperty("operator_id").GetString(), Is.EqualTo(WalletClient.OperatorId));
            Assert.That(json.GetProperty("brand_id").GetString(), Is.EqualTo(WalletClient.BrandId));
            Assert.That(json.GetProperty("nickname").GetString(), Is.EqualTo("Tester"));
            Assert.That(json.GetProperty("gender").GetString(), Is.EqualTo("?"));
            Assert.That(json.GetProperty("country").GetString(), Is.EqualTo("MT"));
            Assert.That(json.GetProperty("jurisdiction").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(json.GetProperty("segments").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(json.TryGetProperty("date_of_birth", out _), Is.True);
        }
        var second = await Wallet.AuthenticateAsync(player.Token);
        Assert.That(second.Json.GetProperty("token").GetString(), Is.Not.EqualTo(json.GetProperty("token").GetString()), "each session is new");
    }

    [Test]
    public async Task Authenticate_refuses_an_unknown_token_or_another_brands_token()
    {
        var player = await Wallet.NewPlayerAsync(10m);

        var unknown = await Wallet.AuthenticateAsync("no-such-token");
        var otherBrand = await Wallet.AuthenticateAsync(player.Token, brandId: "brand-2");
        var otherCurrency = await Wallet.AuthenticateAsync(player.Token, currency: "USD");

        using (Assert.EnterMultipleScope())
        {
            Assert.That((unknown.Status, unknown.Code), Is.EqualTo((HttpStatusCode.Unauthorized, "INVALID_TOKEN")), unknown.ToString());
            Assert.That((otherBrand.Status, otherBrand.Code), Is.EqualTo((HttpStatusCode.Unauthorized, "INVALID_TOKEN")), otherBrand.ToString());
            Assert.That((otherCurrency.Status, otherCurrency.Code), Is.EqualTo((HttpStatusCode.BadRequest, "INVALID_PROPERTY_VALUE")));
            Assert.That(otherCurrency.Message, Does.StartWith("currency"));
        }
    }

    public enum Forgery { Missing, Random, OverOtherBytes, WrongKey }

    [TestCase(Forgery.Missing)]
    [TestCase(Forgery.Random)]
    [TestCase(Forgery.OverOtherBytes)]
    [TestCase(Forgery.WrongKey)]
    public async Task An_unsigned_or_forged_request_is_refused_and_changes_nothing(Forgery forgery)
    {
        var player = await Wallet.NewPlayerAsync(100m);
        var id = NewId();
        var body = WalletClient.TransactionJson(player, id, "Credit", 50m);
        var signature = forgery switch
        {
            Forgery.Missing => "",
            Forgery.Random => WalletService.NewSecret() + WalletService.NewSecret()[..16],
            // Signed for a 1.00 credit, sent with 50.00: the signature covers the exact bytes.
            Forgery.OverOtherBytes => WalletClient.Sign(Wallet.Secret, System.Text.Encoding.UTF8.GetBytes(WalletClient.TransactionJson(player, id, "Credit", 1m))),
            _ => WalletClient.Sign("not-the-wallet-secret", System.Text.Encoding.UTF8.GetBytes(body)),
        };

        var reply = await Wallet.SendAsync(HttpMethod.Post, "/wallet/transaction", body, signature);
        var unsignedBalance = await Wallet.SendAsync(HttpMethod.Get, "/wallet/balance?player_id=" + player.Id, null, signature: "");

        using (Assert.EnterMultipleScope())
        {
            Assert.That((reply.Status, reply.Code), Is.EqualTo((HttpStatusCode.Unauthorized, "INVALID_SIGNATURE")), reply.ToString());
            Assert.That((unsignedBalance.Status, unsignedBalance.Code), Is.EqualTo((HttpStatusCode.Unauthorized, "INVALID_SIGNATURE")));
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(100m));
            Assert.That(await Wallet.LedgerAsync(player), Is.Empty);
        }
    }

    [Test]
    public async Task Debits_and_credits_move_the_balance_exactly_to_the_minor_unit()
    {
        var player = await Wallet.NewPlayerAsync(100m);

        var steps = new (string Type, decimal Amount, decimal Expected)[]
        {
            ("Debit", 0.10m, 99.90m), ("Debit", 0.20m, 99.70m), ("Credit", 12.34m, 112.04m), ("Debit", 0.01m, 112.03m), ("Debit", 112.03m, 0m),
        };
        var walletIds = new HashSet<string>();
        foreach (var (type, amount, expected) in steps)
        {
            var reply = await Wallet.TransactionAsync(WalletClient.TransactionJson(player, NewId(), type, amount));
            Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), reply.ToString());
            Assert.That(reply.Balance, Is.EqualTo(expected), $"after {type} {amount}");
            walletIds.Add(reply.TransactionId);
        }
        Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(0m));
        Assert.That(walletIds, Has.Count.EqualTo(steps.Length), "each transaction gets the wallet's own id");
    }

    [Test]
    public async Task Amounts_follow_the_currency_precision()
    {
        var yen = await Wallet.NewPlayerAsync(1000m, "JPY");
        var bitcoin = await Wallet.NewPlayerAsync(1m, "BTC");

        var wholeYen = await Wallet.DebitAsync(yen, NewId(), 15m);
        var fractionalYen = await Wallet.DebitAsync(yen, NewId(), 1.5m);
        var satoshi = await Wallet.DebitAsync(bitcoin, NewId(), 0.00000001m);
        var subSatoshi = await Wallet.DebitAsync(bitcoin, NewId(), 0.000000001m);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(wholeYen.Balance, Is.EqualTo(985m));
            Assert.That((fractionalYen.Status, fractionalYen.Code), Is.EqualTo((HttpStatusCode.BadRequest, "INVALID_PROPERTY_VALUE")));
            Assert.That(satoshi.Balance, Is.EqualTo(0.99999999m));
            Assert.That((subSatoshi.Status, subSatoshi.Code), Is.EqualTo((HttpStatusCode.BadRequest, "INVALID_PROPERTY_VALUE")));
        }
    }

    [Test]
    public async Task A_repeated_transaction_returns_the_first_result_and_changes_nothing()
    {
        var player = await Wallet.NewPlayerAsync(50m);
        var id = NewId();
        var body = WalletClient.TransactionJson(player, id, "Debit", 7.25m);

        var first = await Wallet.TransactionAsync(body);
        await Wallet.CreditAsync(player, NewId(), 1m); // the balance moves on between the two
        var repeat = await Wallet.TransactionAsync(body);
        // The same operation in other bytes (key order, spacing) is still a repeat.
        var reordered = await Wallet.TransactionAsync(WalletClient.Json(JsonSerializer.Deserialize<Dictionary<string, object>>(body)!.Reverse().ToDictionary()));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Status, Is.EqualTo(HttpStatusCode.OK), first.ToString());
            Assert.That(repeat.Body, Is.EqualTo(first.Body), "the original result, byte for byte");
            Assert.That(reordered.Body, Is.EqualTo(first.Body));
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(50m - 7.25m + 1m));
            Assert.That(await Wallet.LedgerAsync(player), Has.Count.EqualTo(2));
        }
    }

    [Test]
    public async Task The_same_id_with_a_different_body_is_a_duplicate_and_changes_nothing()
    {
        var player = await Wallet.NewPlayerAsync(50m);
        var id = NewId();
        await Wallet.DebitAsync(player, id, 5m);

        var otherAmount = await Wallet.DebitAsync(player, id, 6m);
        var otherType = await Wallet.CreditAsync(player, id, 5m);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((otherAmount.Status, otherAmount.Code), Is.EqualTo((HttpStatusCode.Conflict, "DUPLICATE_TRANSACTION")), otherAmount.ToString());
            Assert.That(otherAmount.Message, Does.Contain("amount"));
            Assert.That((otherType.Status, otherType.Code), Is.EqualTo((HttpStatusCode.Conflict, "DUPLICATE_TRANSACTION")));
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(45m));
        }
    }

    [Test]
    public async Task A_debit_beyond_the_balance_is_refused_and_changes_nothing()
    {
        var player = await Wallet.NewPlayerAsync(10m);

        var reply = await Wallet.DebitAsync(player, NewId(), 10.01m);
        var exact = await Wallet.DebitAsync(player, NewId(), 10m);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((reply.Status, reply.Code), Is.EqualTo((HttpStatusCode.PaymentRequired, "INSUFFICIENT_FUNDS")), reply.ToString());
            Assert.That(exact.Balance, Is.Zero, "the whole balance can be bet");
            Assert.That(await Wallet.LedgerAsync(player), Has.Count.EqualTo(1));
        }
    }

    [TestCase("amount", 0, "EUR", "Debit")]
    [TestCase("amount", -1, "EUR", "Debit")]
    [TestCase("amount", 0.001, "EUR", "Credit")]
    [TestCase("currency", 1, "USD", "Debit")]
    [TestCase("currency", 1, "eur", "Debit")]
    [TestCase("transaction_type", 1, "EUR", "None")]
    public async Task A_refused_value_is_400_naming_the_field(string field, decimal amount, string currency, string type)
    {
        var player = await Wallet.NewPlayerAsync(10m);

        var reply = await Wallet.TransactionAsync(WalletClient.TransactionJson(player, NewId(), type, amount, currency));

        Assert.That((reply.Status, reply.Code), Is.EqualTo((HttpStatusCode.BadRequest, "INVALID_PROPERTY_VALUE")), reply.ToString());
        Assert.That(reply.Message, Does.StartWith(field));
        Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(10m));
    }

    [TestCase("")]
    [TestCase("{")]
    [TestCase("[]")]
    [TestCase("null")]
    [TestCase("{\"transaction_id\":\"x\"}")]
    [TestCase("{\"player_id\":\"p\",\"transaction_id\":\"x\",\"transaction_type\":\"Debit\",\"provider_id\":\"t\",\"amount\":\"1.00\",\"currency\":\"EUR\"}")]
    [TestCase("{\"player_id\":\"p\",\"transaction_id\":\"x\",\"transaction_type\":\"Debit\",\"provider_id\":\"t\",\"amount\":1,\"amount\":2,\"currency\":\"EUR\"}")]
    public async Task A_malformed_body_is_400_INVALID_STRUCTURE(string body)
    {
        var reply = await Wallet.TransactionAsync(body);

        Assert.That((reply.Status, reply.Code), Is.EqualTo((HttpStatusCode.BadRequest, "INVALID_STRUCTURE")), reply.ToString());
        Assert.That(reply.Message, Is.Not.Empty);
    }

    [Test]
    public async Task An_unknown_player_is_404_PLAYER_NOT_FOUND()
    {
        var ghost = new Player("ghost-" + Guid.NewGuid().ToString("N"), "none", "EUR");

        var balance = await Wallet.BalanceAsync(ghost.Id);
        var credit = await Wallet.CreditAsync(ghost, NewId(), 1m);

        Assert.That((balance.Status, balance.Code), Is.EqualTo((HttpStatusCode.NotFound, "PLAYER_NOT_FOUND")), balance.ToString());
        Assert.That((credit.Status, credit.Code), Is.EqualTo((HttpStatusCode.NotFound, "PLAYER_NOT_FOUND")), credit.ToString());
    }

    [Test]
    public async Task A_debit_with_a_token_needs_a_session_of_that_player()
    {
        var player = await Wallet.NewPlayerAsync(10m);
        var other = await Wallet.NewPlayerAsync(10m);
        var session = (await Wallet.AuthenticateAsync(player.Token)).Json.GetProperty("token").GetString();
        var othersSession = (await Wallet.AuthenticateAsync(other.Token)).Json.GetProperty("token").GetString();

        var withSession = await Wallet.TransactionAsync(WalletClient.TransactionJson(player, NewId(), "Debit", 1m, token: session));
        var withOthers = await Wallet.TransactionAsync(WalletClient.TransactionJson(player, NewId(), "Debit", 1m, token: othersSession));
        var winWithOthers = await Wallet.TransactionAsync(WalletClient.TransactionJson(player, NewId(), "Credit", 1m, token: othersSession));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(withSession.Balance, Is.EqualTo(9m), withSession.ToString());
            Assert.That((withOthers.Status, withOthers.Code), Is.EqualTo((HttpStatusCode.Unauthorized, "INVALID_TOKEN")));
            Assert.That(winWithOthers.Balance, Is.EqualTo(10m), "wins are paid whatever became of the session");
        }
    }

    [Test]
    public async Task Cancel_reverses_a_debit_once()
    {
        var player = await Wallet.NewPlayerAsync(100m);
        var id = NewId();
        await Wallet.DebitAsync(player, id, 30m);

        var cancel = await Wallet.CancelAsync(id, player.Id);
        var again = await Wallet.CancelAsync(id, null);
        var reuse = await Wallet.DebitAsync(player, id, 30m);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(cancel.Status, Is.EqualTo(HttpStatusCode.OK), cancel.ToString());
            Assert.That(cancel.Json.GetProperty("balance").ValueKind, Is.EqualTo(JsonValueKind.String), "a string in the cancel answer (§3.6)");
            Assert.That(cancel.Json.GetProperty("balance").GetString(), Is.EqualTo("100.00"));
            Assert.That((again.Status, again.Balance), Is.EqualTo((HttpStatusCode.OK, 100m)), again.ToString());
            Assert.That((reuse.Status, reuse.Code), Is.EqualTo((HttpStatusCode.Conflict, "TRANSACTION_CANCELLED")), reuse.ToString());
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(100m));
            var entry = (await Wallet.LedgerAsync(player)).Single();
            Assert.That(entry.GetProperty("status").GetString(), Is.EqualTo("cancelled"));
        }
    }

    [Test]
    public async Task Cancel_before_the_debit_leaves_a_tombstone_that_refuses_the_late_debit()
    {
        var player = await Wallet.NewPlayerAsync(100m);
        var id = NewId();

        var cancel = await Wallet.CancelAsync(id, player.Id);
        var lateDebit = await Wallet.DebitAsync(player, id, 30m);
        var unknownWithoutPlayer = await Wallet.CancelAsync(NewId(), null);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((cancel.Status, cancel.Balance), Is.EqualTo((HttpStatusCode.OK, 100m)), cancel.ToString());
            Assert.That((lateDebit.Status, lateDebit.Code), Is.EqualTo((HttpStatusCode.Conflict, "TRANSACTION_CANCELLED")), lateDebit.ToString());
            Assert.That(unknownWithoutPlayer.Status, Is.EqualTo(HttpStatusCode.OK), "an unknown id is a successful no-op (§3.9)");
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(100m));
            var entry = (await Wallet.LedgerAsync(player)).Single();
            Assert.That(entry.GetProperty("status").GetString(), Is.EqualTo("tombstone"));
        }
    }

    [Test]
    public async Task A_batch_applies_each_item_on_its_own_and_idempotently()
    {
        var alice = await Wallet.NewPlayerAsync(10m);
        var bob = await Wallet.NewPlayerAsync(20m);
        var batchId = "batch-" + Guid.NewGuid().ToString("N");
        var (a, bad, b) = (NewId(), NewId(), NewId());
        var body = $$"""
            {"batch_id":"{{batchId}}","transactions":[
              {{WalletClient.TransactionJson(alice, a, "Credit", 5.55m)}},
              {{WalletClient.TransactionJson(bob, bad, "Credit", 1m, currency: "USD")}},
              {{WalletClient.TransactionJson(bob, b, "Credit", 0.45m)}}]}
            """;

        var first = await Wallet.SendAsync(HttpMethod.Post, "/wallet/transaction/batch", body);
        var repeat = await Wallet.SendAsync(HttpMethod.Post, "/wallet/transaction/batch", body);

        Assert.That(first.Status, Is.EqualTo(HttpStatusCode.OK), first.ToString());
        var results = first.Json.GetProperty("results").EnumerateArray().ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Json.GetProperty("batch_id").GetString(), Is.EqualTo(batchId));
            Assert.That(results.Select(r => r.GetProperty("transaction_id").GetString()), Is.EqualTo(new[] { a, bad, b }));
            Assert.That(results.Select(r => r.GetProperty("status").GetString()), Is.EqualTo(new[] { "ok", "error", "ok" }));
            Assert.That(results[0].GetProperty("balance").GetDecimal(), Is.EqualTo(15.55m));
            Assert.That(results[1].GetProperty("code").GetString(), Is.EqualTo("INVALID_PROPERTY_VALUE"));
            Assert.That(results[2].GetProperty("balance").GetDecimal(), Is.EqualTo(20.45m));
            Assert.That(repeat.Body, Is.EqualTo(first.Body), "a repeated batch changes nothing");
            Assert.That(await Wallet.BalanceOfAsync(alice), Is.EqualTo(15.55m));
            Assert.That(await Wallet.BalanceOfAsync(bob), Is.EqualTo(20.45m));
        }
    }

    [Test]
    public async Task Cancelling_a_batch_reverses_its_items_and_refuses_them_afterwards()
    {
        var player = await Wallet.NewPlayerAsync(10m);
        var batchId = "batch-" + Guid.NewGuid().ToString("N");
        var body = WalletClient.Json(new
        {
            batch_id = batchId,
            transactions = new[]
            {
                JsonDocument.Parse(WalletClient.TransactionJson(player, NewId(), "Credit", 1m)).RootElement,
                JsonDocument.Parse(WalletClient.TransactionJson(player, NewId(), "Credit", 2m)).RootElement,
            },
        });
        await Wallet.SendAsync(HttpMethod.Post, "/wallet/transaction/batch", body);
        Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(13m));

        var cancel = await Wallet.SendAsync(HttpMethod.Delete, "/wallet/transaction/batch", WalletClient.Json(new { batch_id = batchId }));
        var retried = await Wallet.SendAsync(HttpMethod.Post, "/wallet/transaction/batch", body);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(cancel.Status, Is.EqualTo(HttpStatusCode.OK), cancel.ToString());
            Assert.That(cancel.Json.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("status").GetString()), Is.EqualTo(new[] { "ok", "ok" }));
            Assert.That(retried.Json.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("code").GetString()),
                Is.EqualTo(new[] { "TRANSACTION_CANCELLED", "TRANSACTION_CANCELLED" }), retried.ToString());
            Assert.That(await Wallet.BalanceOfAsync(player), Is.EqualTo(10m));
        }
    }

    [Test]
    public async Task The_simulation_controls_need_the_admin_token()
    {
        var reply = await Wallet.AdminAsync(HttpMethod.Get, "/sim/transactions", token: "wrong-token-0123456789");
        var fault = await Wallet.AdminAsync(HttpMethod.Put, "/sim/faults", new { operation = "transaction", mode = "http_error" }, token: "x");

        Assert.That((reply.Status, reply.Code), Is.EqualTo((HttpStatusCode.Unauthorized, "UNAUTHORIZED")));
        Assert.That(fault.Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await Wallet.AdminAsync(HttpMethod.Get, "/sim/faults")).Json.GetArrayLength(), Is.Zero, "nothing was armed");
    }
}
