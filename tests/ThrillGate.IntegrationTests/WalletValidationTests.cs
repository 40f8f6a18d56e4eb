namespace ThrillGate.IntegrationTests;

/// <summary>Every invalid field of a wallet definition is a 400 naming it, on create and on update, and nothing is stored.</summary>
public class WalletValidationTests
{
    static Api Gate => Servers.Gate;

    static TestCaseData Case(string field, Action<JsonObject> spoil, string name) => new TestCaseData(field, spoil).SetArgDisplayNames(name);

    static JsonObject Config(JsonObject d) => d["config"]!.AsObject();
    static JsonObject Connection(JsonObject d) => d["connection_details"]!.AsObject();
    static JsonObject Endpoints(JsonObject d) => d["endpoints"]!.AsObject();

    static IEnumerable<TestCaseData> Invalid()
    {
        yield return Case("id", d => d["id"] = "no spaces!", "id with spaces");
        yield return Case("id", d => d.Remove("id"), "id missing");
        yield return Case("operator_id", d => d.Remove("operator_id"), "operator_id missing");
        yield return Case("operator_id", d => d["operator_id"] = "-gta", "operator_id malformed");
        yield return Case("brand_id", d => d["brand_id"] = $"{Servers.Operator}:w1", "brand_id as an owner id");
        yield return Case("brand_id", d => d.Remove("brand_id"), "brand_id missing");
        yield return Case("wallet_type", d => d["wallet_type"] = "SeamlessWallet", "wallet_type unknown");
        yield return Case("connection_details", d => d.Remove("connection_details"), "connection_details missing");
        yield return Case("connection_details.protocol", d => Connection(d)["protocol"] = "ftp", "protocol ftp");
        yield return Case("connection_details.host", d => Connection(d)["host"] = "", "host empty");
        yield return Case("connection_details.host", d => Connection(d)["host"] = "bad host/name", "host malformed");
        yield return Case("connection_details.port", d => Connection(d)["port"] = 0, "port 0");
        yield return Case("connection_details.port", d => Connection(d)["port"] = 65536, "port 65536");
        yield return Case("connection_details.port", d => Connection(d)["port"] = "eighty", "port not a number");
        yield return Case("connection_details.base_path", d => Connection(d)["base_path"] = "api", "base_path without slash");
        yield return Case("endpoints", d => d.Remove("endpoints"), "endpoints missing");
        yield return Case("endpoints", d => d["endpoints"] = new JsonArray(), "endpoints an array");
        yield return Case("endpoints.refund", d => Endpoints(d)["refund"] = "/wallet/refund", "unknown operation");
        yield return Case("endpoints.auth", d => Endpoints(d)["auth"] = new JsonObject { ["FETCH"] = "/wallet/authenticate" }, "unknown verb");
        yield return Case("endpoints.balance", d => Endpoints(d)["balance"] = "wallet/balance", "path without slash");
        yield return Case("endpoints.transaction", d => Endpoints(d)["transaction"] = new JsonObject { ["POST"] = "/a", ["PUT"] = "/b" }, "two verbs");
        yield return Case("endpoints.cancel_bet", d => Endpoints(d)["cancel_bet"] = 42, "path a number");
        yield return Case("endpoints.auth", d => Endpoints(d).Remove("auth"), "auth missing");
        yield return Case("endpoints.transaction", d => Endpoints(d).Remove("transaction"), "transaction missing");
        yield return Case("endpoints.transaction", d => { Endpoints(d).Remove("transaction"); Endpoints(d)["debit"] = "/wallet/transaction"; }, "debit without credit");
        yield return Case("endpoints.cancel_bet", d => Endpoints(d).Remove("cancel_bet"), "cancel_bet missing");
        yield return Case("config", d => d.Remove("config"), "config missing");
        yield return Case("config.secret_key", d => Config(d).Remove("secret_key"), "secret_key missing");
        yield return Case("config.secret_key", d => Config(d)["secret_key"] = "short", "secret_key too short");
        yield return Case("config.request_timeout", d => Config(d)["request_timeout"] = 0, "request_timeout 0");
        yield return Case("config.request_timeout", d => Config(d)["request_timeout"] = 121, "request_timeout 121");
        yield return Case("config.request_retry_limit", d => Config(d)["request_retry_limit"] = -1, "request_retry_limit -1");
        yield return Case("config.request_retry_limit", d => Config(d)["request_retry_limit"] = 11, "request_retry_limit 11");
        yield return Case("config.request_retry_backoff", d => Config(d)["request_retry_backoff"] = 0.5, "request_retry_backoff 0.5");
        yield return Case("config.hmac_algorithm", d => Config(d)["hmac_algorithm"] = "HMACMD5", "hmac_algorithm MD5");
        yield return Case("config.hmac_encoding", d => Config(d)["hmac_encoding"] = "base32", "hmac_encoding base32");
        yield return Case("config.error_response_rules.FORBIDDEN", d => Config(d)["error_response_rules"] = new JsonObject { ["FORBIDDEN"] = new JsonObject() },
            "rule key without status");
        yield return Case("config.error_response_rules.200:OK", d => Config(d)["error_response_rules"] = new JsonObject { ["200:OK"] = new JsonObject() },
            "rule key of a success");
        yield return Case("config.error_response_rules.403:FORBIDDEN",
            d => Config(d)["error_response_rules"] = new JsonObject { ["403:FORBIDDEN"] = null }, "rule without a body");
    }

    [TestCaseSource(nameof(Invalid))]
    public async Task An_invalid_field_is_named_in_a_400(string field, Action<JsonObject> spoil)
    {
        var definition = Wallets.Definition(Brands.Next());
        spoil(definition);

        var reply = await Gate.PostAsync("/admin/wallets", Servers.OperatorA, definition);

        reply.ExpectInvalid(field);
        Assert.That(reply.Text, Does.Not.Contain(Servers.WalletSecret));
        if (definition["id"]?.GetValue<string>() is { } id)
            (await Gate.GetAsync("/admin/wallets/" + Uri.EscapeDataString(id), Servers.OperatorA)).ExpectProblem(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task Every_problem_of_a_body_is_named_at_once()
    {
        var definition = Wallets.Definition(Brands.Next());
        Connection(definition)["port"] = 0;
        Endpoints(definition).Remove("cancel_bet");
        Config(definition)["request_retry_limit"] = 99;

        var reply = (await Gate.PostAsync("/admin/wallets", Servers.OperatorA, definition)).ExpectInvalid("connection_details.port");

        Assert.That(reply.Json.GetProperty("errors").EnumerateObject().Select(p => p.Name),
            Is.EquivalentTo(new[] { "connection_details.port", "endpoints.cancel_bet", "config.request_retry_limit" }));
    }

    [Test]
    public async Task An_invalid_update_is_a_400_and_changes_nothing()
    {
        var brand = Brands.Next();
        var id = await Wallets.CreateAsync(Wallets.Definition(brand));
        var spoiled = Wallets.Definition(brand, id: id);
        Config(spoiled)["hmac_encoding"] = "base32";

        (await Gate.PutAsync("/admin/wallets/" + id, Servers.OperatorA, spoiled)).ExpectInvalid("config.hmac_encoding");
        (await Gate.PutAsync("/admin/wallets/" + id, Servers.OperatorA, Wallets.Definition(brand, id: id + "x"))).ExpectInvalid("id");
        (await Gate.PostAsync("/admin/wallets", Servers.OperatorA, new RawJson("{not json"))).ExpectInvalid("body");

        var stored = (await Gate.GetAsync("/admin/wallets/" + id, Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That((stored.GetProperty("version").GetInt32(), stored.GetProperty("config").GetProperty("hmac_encoding").GetString()), Is.EqualTo((1, "hex")));
    }
}
