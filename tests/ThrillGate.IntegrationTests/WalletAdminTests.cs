using ThrillSuite.Grpc;

namespace ThrillGate.IntegrationTests;

/// <summary>/admin/wallets (spec §5.2): both endpoint shapes, the life of a definition, its audit, and who may touch it.</summary>
public class WalletAdminTests
{
    static Api Gate => Servers.Gate;
    static string Operator => Servers.OperatorA;

    [Test]
    public async Task A_wallet_is_created_in_the_object_shape_and_answered_without_its_secret()
    {
        var brand = Brands.Next();
        var definition = Wallets.Definition(brand);

        var created = (await Gate.PostAsync("/admin/wallets", Operator, definition)).Expect(HttpStatusCode.Created);
        var id = definition["id"]!.GetValue<string>();
        var fetched = (await Gate.GetAsync("/admin/wallets/" + id, Operator)).Expect(HttpStatusCode.OK);

        var doc = created.Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(created.Location, Is.EqualTo("/admin/wallets/" + id));
            Assert.That((doc.GetProperty("id").GetString(), doc.GetProperty("operator_id").GetString(), doc.GetProperty("brand_id").GetString()),
                Is.EqualTo((id, Servers.Operator, brand)));
            Assert.That(doc.GetProperty("wallet_type").GetString(), Is.EqualTo("StandardWallet"));
            Assert.That(JsonNode.DeepEquals(JsonNode.Parse(doc.GetProperty("endpoints").GetRawText()), Wallets.Endpoints()), doc.GetProperty("endpoints").GetRawText());
            Assert.That(doc.GetProperty("connection_details").GetProperty("port").GetInt32(), Is.EqualTo(Servers.WalletPort));
            var config = doc.GetProperty("config");
            Assert.That(config.GetProperty("secret_key_set").GetBoolean(), Is.True);
            Assert.That(config.TryGetProperty("secret_key", out _), Is.False);
            Assert.That((config.GetProperty("request_timeout").GetInt32(), config.GetProperty("request_retry_limit").GetInt32()), Is.EqualTo((5, 2)));
            Assert.That((config.GetProperty("hmac_algorithm").GetString(), config.GetProperty("hmac_encoding").GetString()), Is.EqualTo(("HMACSHA256", "hex")),
                "the defaults of spec §3.1 as inferred");
            Assert.That((doc.GetProperty("enabled").GetBoolean(), doc.GetProperty("version").GetInt32()), Is.EqualTo((true, 1)));
            Assert.That(created.Text, Does.Not.Contain(Servers.WalletSecret));
            Assert.That(fetched.Text, Is.EqualTo(created.Text));
        }
    }

    [Test]
    public async Task A_wallet_in_the_legacy_string_shape_is_answered_in_the_object_shape_with_the_default_verbs_and_works()
    {
        var brand = Brands.Next();
        var definition = Wallets.Definition(brand);
        // Jan 2025 shape (spec §3.2): bare paths, no wallet_type, debit and credit instead of transaction.
        definition.Remove("wallet_type");
        definition["endpoints"] = new JsonObject
        {
            ["auth"] = "/wallet/authenticate", ["balance"] = "/wallet/balance", ["debit"] = "/wallet/transaction", ["credit"] = "/wallet/transaction",
            ["cancel_bet"] = "/wallet/cancel",
        };

        var created = (await Gate.PostAsync("/admin/wallets", Operator, definition)).Expect(HttpStatusCode.Created).Json;
        var player = await Servers.Wallet.NewPlayerAsync(brand, 40m);
        var authenticated = await Wallets.AuthenticateAsync(brand, player.Token);
        var balance = await Wallets.BalanceAsync(brand, player.Id);
        var debit = await Wallets.DebitAsync(player, Wallets.NewTransactionId(), "15");
        var cancelTx = Wallets.NewTransactionId();
        await Wallets.DebitAsync(player, cancelTx, "5");
        var cancelled = await Wallets.CancelAsync(player, cancelTx);

        var expected = new JsonObject
        {
            ["auth"] = new JsonObject { ["POST"] = "/wallet/authenticate" }, ["balance"] = new JsonObject { ["GET"] = "/wallet/balance" },
            ["debit"] = new JsonObject { ["POST"] = "/wallet/transaction" }, ["credit"] = new JsonObject { ["POST"] = "/wallet/transaction" },
            ["cancel_bet"] = new JsonObject { ["DELETE"] = "/wallet/cancel" },
        };
        using (Assert.EnterMultipleScope())
        {
            Assert.That(JsonNode.DeepEquals(JsonNode.Parse(created.GetProperty("endpoints").GetRawText()), expected), created.GetProperty("endpoints").GetRawText());
            Assert.That(created.GetProperty("wallet_type").GetString(), Is.EqualTo("StandardWallet"));
            // Each call reached the wallet with the verb the legacy shape implies (POST, GET, DELETE), or it would have refused it.
            Assert.That(authenticated.Id, Is.EqualTo(player.Id));
            Assert.That(ReferenceWallet.Parse(balance.Balance), Is.EqualTo(40m));
            Assert.That(ReferenceWallet.Parse(debit.Balance), Is.EqualTo(25m));
            Assert.That(ReferenceWallet.Parse(cancelled.Balance), Is.EqualTo(25m));
            Assert.That(await Servers.Wallet.BalanceAsync(player), Is.EqualTo(25m));
        }
    }

    [Test]
    public async Task A_wallet_is_read_listed_updated_disabled_and_enabled_and_its_secret_never_shows()
    {
        var (brand, id, player) = await Wallets.BrandAsync(balance: 10m);
        var other = Brands.Next();
        await Wallets.CreateAsync(Wallets.Definition(other));
        var wrongSecret = "wrong-secret-" + Guid.NewGuid().ToString("N");

        var listed = (await Gate.GetAsync($"/admin/wallets?operator_id={Servers.Operator}&brand_id={brand}", Operator)).Expect(HttpStatusCode.OK);
        var all = (await Gate.GetAsync($"/admin/wallets?operator_id={Servers.Operator}", Operator)).Expect(HttpStatusCode.OK);

        // Without config.secret_key the stored secret stays: the wallet still accepts ThrillGate's signature.
        var keep = Wallets.Definition(brand, id: id);
        keep["config"]!.AsObject().Remove("secret_key");
        keep["config"]!["request_timeout"] = 7;
        var kept = (await Gate.PutAsync("/admin/wallets/" + id, Operator, keep)).Expect(HttpStatusCode.OK);
        var balanceWithKeptSecret = await Wallets.BalanceAsync(brand, player.Id);

        // With it, the secret changes: a wrong one is refused by the wallet, the right one works again.
        var changed = (await Gate.PutAsync("/admin/wallets/" + id, Operator, Wallets.Definition(brand, id: id, secret: wrongSecret))).Expect(HttpStatusCode.OK);
        var refused = await Wallets.FailsAsync(() => Wallets.BalanceAsync(brand, player.Id));
        var restored = (await Gate.PutAsync("/admin/wallets/" + id, Operator, Wallets.Definition(brand, id: id))).Expect(HttpStatusCode.OK);
        var balanceAgain = await Wallets.BalanceAsync(brand, player.Id);

        await Wallets.AuthenticateAsync(brand, player.Token); // cached from here on
        var disabled = (await Gate.PostAsync($"/admin/wallets/{id}/disable", Operator)).Expect(HttpStatusCode.OK);
        var whileDisabled = await Wallets.FailsAsync(() => Wallets.BalanceAsync(brand, player.Id));
        var authenticateWhileDisabled = await Wallets.FailsAsync(() => Wallets.AuthenticateAsync(brand, player.Token));
        var enabled = (await Gate.PostAsync($"/admin/wallets/{id}/enable", Operator)).Expect(HttpStatusCode.OK);
        var balanceEnabled = await Wallets.BalanceAsync(brand, player.Id);
        var deleted = (await Gate.SendAsync(HttpMethod.Delete, "/admin/wallets/" + id, Operator)).Expect(HttpStatusCode.OK);
        var audit = (await Gate.GetAsync($"/thrillgate/audit?resource_id={id}", Operator)).Expect(HttpStatusCode.OK);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(listed.Json.EnumerateArray().Select(w => w.GetProperty("id").GetString()), Is.EqualTo(new[] { id }));
            Assert.That(all.Json.EnumerateArray().Select(w => w.GetProperty("brand_id").GetString()), Does.Contain(brand).And.Contain(other));
            Assert.That((kept.Json.GetProperty("version").GetInt32(), kept.Json.GetProperty("config").GetProperty("request_timeout").GetInt32()), Is.EqualTo((2, 7)));
            Assert.That(ReferenceWallet.Parse(balanceWithKeptSecret.Balance), Is.EqualTo(10m));
            Assert.That(changed.Json.GetProperty("version").GetInt32(), Is.EqualTo(3));
            Assert.That((refused.StatusCode, refused.Trailers.GetValue("wallet-status"), refused.Trailers.GetValue("wallet-code")),
                Is.EqualTo((StatusCode.FailedPrecondition, "401", "INVALID_SIGNATURE")), refused.Message);
            Assert.That(restored.Json.GetProperty("version").GetInt32(), Is.EqualTo(4));
            Assert.That(ReferenceWallet.Parse(balanceAgain.Balance), Is.EqualTo(10m));
            Assert.That((disabled.Json.GetProperty("enabled").GetBoolean(), disabled.Json.GetProperty("version").GetInt32()), Is.EqualTo((false, 5)));
            Assert.That(whileDisabled.StatusCode, Is.EqualTo(StatusCode.NotFound), whileDisabled.Message);
            Assert.That(authenticateWhileDisabled.StatusCode, Is.EqualTo(StatusCode.NotFound), "not even a cached player: " + authenticateWhileDisabled.Message);
            Assert.That(enabled.Json.GetProperty("enabled").GetBoolean(), Is.True);
            Assert.That(ReferenceWallet.Parse(balanceEnabled.Balance), Is.EqualTo(10m));
            Assert.That(deleted.Json.GetProperty("enabled").GetBoolean(), Is.False, "DELETE disables: the definition stays, for its audit and credits");
            Assert.That(audit.Json.EnumerateArray().Select(a => a.GetProperty("action").GetString()),
                Is.EqualTo(new[] { "wallet.disable", "wallet.enable", "wallet.disable", "wallet.update", "wallet.update", "wallet.update", "wallet.create" }));
            Assert.That(audit.Json.EnumerateArray().Select(a => a.GetProperty("owner_id").GetString()), Is.All.EqualTo($"{Servers.Operator}:{brand}"));
            foreach (var text in new[] { listed.Text, all.Text, kept.Text, changed.Text, restored.Text, disabled.Text, enabled.Text, deleted.Text, audit.Text, refused.Message })
                Assert.That(text, Does.Not.Contain(Servers.WalletSecret).And.Not.Contain(wrongSecret));
            Assert.That(Servers.GateOutput, Does.Not.Contain(Servers.WalletSecret).And.Not.Contain(wrongSecret), "nor in ThrillGate's logs");
        }
    }

    [Test]
    public async Task Only_one_wallet_per_brand_is_enabled_and_ids_are_unique()
    {
        var brand = Brands.Next();
        var first = await Wallets.CreateAsync(Wallets.Definition(brand));
        var second = Wallets.Definition(brand);
        var secondId = second["id"]!.GetValue<string>();

        var whileFirstEnabled = await Gate.PostAsync("/admin/wallets", Operator, second);
        var sameId = await Gate.PostAsync("/admin/wallets", Operator, Wallets.Definition(Brands.Next(), id: first));
        (await Gate.PostAsync($"/admin/wallets/{first}/disable", Operator)).Expect(HttpStatusCode.OK);
        var afterDisable = await Gate.PostAsync("/admin/wallets", Operator, second);
        var enableFirst = await Gate.PostAsync($"/admin/wallets/{first}/enable", Operator);
        // Moving an enabled wallet onto a brand that already has one is the same conflict.
        var third = await Wallets.CreateAsync(Wallets.Definition(Brands.Next()));
        var moved = await Gate.PutAsync("/admin/wallets/" + third, Operator, Wallets.Definition(brand, id: third));

        whileFirstEnabled.ExpectProblem(HttpStatusCode.Conflict);
        sameId.ExpectProblem(HttpStatusCode.Conflict);
        afterDisable.Expect(HttpStatusCode.Created);
        enableFirst.ExpectProblem(HttpStatusCode.Conflict);
        moved.ExpectProblem(HttpStatusCode.Conflict);
        Assert.That((await Gate.GetAsync("/admin/wallets/" + secondId, Operator)).Json.GetProperty("enabled").GetBoolean(), Is.True);
    }

    [Test]
    public async Task An_unknown_wallet_is_404()
    {
        var id = "no-such-wallet-" + Guid.NewGuid().ToString("N")[..8];

        (await Gate.GetAsync("/admin/wallets/" + id, Operator)).ExpectProblem(HttpStatusCode.NotFound);
        (await Gate.PutAsync("/admin/wallets/" + id, Operator, Wallets.Definition(Brands.Next(), id: id))).ExpectProblem(HttpStatusCode.NotFound);
        (await Gate.PostAsync($"/admin/wallets/{id}/disable", Operator)).ExpectProblem(HttpStatusCode.NotFound);
        (await Gate.PostAsync($"/admin/wallets/{id}/enable", Operator)).ExpectProblem(HttpStatusCode.NotFound);
        (await Gate.SendAsync(HttpMethod.Delete, "/admin/wallets/" + id, Operator)).ExpectProblem(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task Without_a_token_it_is_401_and_without_the_permission_or_the_owner_403()
    {
        var (brand, id, _) = await Wallets.BrandAsync();
        var foreign = Wallets.Definition("x1");
        foreign["operator_id"] = Servers.OtherOperator;

        var anonymous = await Gate.PostAsync("/admin/wallets", null, Wallets.Definition(Brands.Next()));
        var anonymousRead = await Gate.GetAsync("/admin/wallets/" + id, null);
        var forgedToken = await Gate.GetAsync("/admin/wallets/" + id, Operator[..^4] + "AAAA");
        var readOnlyCreate = await Gate.PostAsync("/admin/wallets", Servers.ReadOnlyA, Wallets.Definition(Brands.Next()));
        var readOnlyUpdate = await Gate.PutAsync("/admin/wallets/" + id, Servers.ReadOnlyA, Wallets.Definition(brand, id: id));
        var readOnlyDisable = await Gate.PostAsync($"/admin/wallets/{id}/disable", Servers.ReadOnlyA);
        var readOnlyGet = await Gate.GetAsync("/admin/wallets/" + id, Servers.ReadOnlyA);
        var noPermission = await Gate.GetAsync("/admin/wallets/" + id, Servers.NoPermissionA);
        var otherOperatorsBrand = await Gate.PostAsync("/admin/wallets", Operator, foreign);
        var otherOperatorGet = await Gate.GetAsync("/admin/wallets/" + id, Servers.OperatorB);
        var otherOperatorUpdate = await Gate.PutAsync("/admin/wallets/" + id, Servers.OperatorB, Wallets.Definition(brand, id: id));
        var otherOperatorDisable = await Gate.PostAsync($"/admin/wallets/{id}/disable", Servers.OperatorB);
        var otherOperatorList = await Gate.GetAsync("/admin/wallets", Servers.OperatorB);
        var otherOperatorAudit = await Gate.GetAsync("/thrillgate/audit?resource_id=" + id, Servers.OperatorB);
        // An operator moving its own wallet to another operator's brand.
        var movedAway = await Gate.PutAsync("/admin/wallets/" + id, Operator, foreign.DeepClone().AsObject().Also(f => f["id"] = id));

        using (Assert.EnterMultipleScope())
        {
            foreach (var reply in new[] { anonymous, anonymousRead, forgedToken })
            {
                Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.Unauthorized), reply.ToString());
                Assert.That(reply.WwwAuthenticate, Does.StartWith("Bearer"));
            }
            foreach (var reply in new[] { readOnlyCreate, readOnlyUpdate, readOnlyDisable, noPermission, otherOperatorsBrand, otherOperatorGet,
                         otherOperatorUpdate, otherOperatorDisable, movedAway })
                Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.Forbidden), reply.ToString());
            Assert.That(readOnlyGet.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(otherOperatorList.Json.EnumerateArray().Select(w => w.GetProperty("operator_id").GetString()), Has.None.EqualTo(Servers.Operator));
            Assert.That(otherOperatorAudit.Json.GetArrayLength(), Is.Zero);
        }
        var after = (await Gate.GetAsync("/admin/wallets/" + id, Operator)).Json;
        Assert.That((after.GetProperty("version").GetInt32(), after.GetProperty("enabled").GetBoolean()), Is.EqualTo((1, true)), "nothing refused changed it");
    }
}

static class JsonObjectExtensions
{
    public static JsonObject Also(this JsonObject o, Action<JsonObject> change)
    {
        change(o);
        return o;
    }
}
