using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ThrillSuite.EndToEnd;

/// <summary>
/// An operator set up through the edge as an integrator would: an organisation with unit b1 in Thrill-ID, a service account
/// with thrillpots write and its client-credentials token (the "processor"), ThrillPots' operator and brand b1, EUR/USD
/// multipliers, a published jackpot whose one pot every contribution wins (hit rate 1 in 1: seed 5, half of a Fixed 0.5
/// into the pot), and b1's wallet (the reference wallet through ThrillGate) with wallet integration on and USD players.
/// </summary>
sealed record WinningJackpot(string Admin, string Processor, string Instance)
{
    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<WinningJackpot> SetUpAsync(string operatorId, string name, IEnumerable<string> players)
    {
        var admin = (await PostAsync("/accounts/auth", null, new { username = Suite.AdminUser, password = Suite.AdminPassword })).GetProperty("token").GetString()!;
        await PostAsync("/admin/organisations", admin, new { id = operatorId, units = new[] { "b1" }, enabled = true });
        var account = await PostAsync("/admin/accounts", admin, new
        {
            username = operatorId + "-processor", account_type = "Service", org_id = operatorId,
            permissions = new[] { new { system_id = "thrillpots", permissions = new[] { new { resource_id = "*", permission = "Write" } } } },
        });
        var client = await PostAsync($"/admin/accounts/{account.GetProperty("id").GetString()}/clients", admin, new { });
        string processor;
        using (var token = await Http.PostAsync($"{Suite.Edge}/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = client.GetProperty("client_id").GetString()!,
            ["client_secret"] = client.GetProperty("client_secret").GetString()!,
        })))
            processor = JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;

        await PostAsync("/config/operators", processor, new { id = operatorId, name = name + " operator" });
        await PostAsync($"/config/operators/{operatorId}/brands", processor, new[] { new { id = "b1", name = "Brand 1" } });
        await SendAsync(HttpMethod.Put, "/config/currencies", admin,
            new { base_currency = "EUR", multipliers = new Dictionary<string, decimal> { ["EUR"] = 1m, ["USD"] = 1.1m } });
        var template = JsonNode.Parse($$"""
            { "name": "{{name}}", "owner_id": "{{operatorId}}", "currency": "EUR",
              "contribution_rules": { "opt_in_required": false, "contribution_type": { "Fixed": 0.5 }, "operator_contribution_percentage": 0 },
              "house_hold_contribution": { "Percentage": 0.5 }, "win_selector_strategy": "Highest",
              "pots": [ { "id": "every", "contribution": { "Percentage": 0.5 }, "seed_contribution": { "Percentage": 0 },
                "seed_strategy": { "initial_seed_value": 5, "min_reseed_value": 5, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
                "max_instantiation_count": null, "is_progressive": true, "supports_external_trigger": false, "criteria": null, "max_pot_value": null,
                "pot_types": [ { "HitRate": { "max_magic_number": 1, "cost_per_attempt": 0.5 } } ] } ] }
            """)!;
        var templateId = (await PostAsync("/templates", processor, template)).GetProperty("id").GetString();
        await PostAsync($"/templates/{templateId}/publish", processor, new { });
        var instance = (await PostAsync("/templates/instantiate", processor,
            new { template_id = templateId, owner_id = operatorId, allowed_brands = new[] { $"{operatorId}:b1" } })).GetProperty("id").GetString()!;

        await PostAsync("/admin/wallets", admin, new
        {
            id = operatorId + "-wallet", operator_id = operatorId, brand_id = "b1", wallet_type = "StandardWallet",
            connection_details = new { protocol = "http", host = "127.0.0.1", port = Suite.Processes["ReferenceWallet"].HttpPort },
            endpoints = new Dictionary<string, object>
            {
                ["auth"] = new Dictionary<string, string> { ["POST"] = "/wallet/authenticate" },
                ["transaction"] = new Dictionary<string, string> { ["POST"] = "/wallet/transaction" },
                ["cancel_bet"] = new Dictionary<string, string> { ["DELETE"] = "/wallet/cancel" },
            },
            config = new { secret_key = Suite.WalletSecret, request_timeout = 5 },
        });
        await SendAsync(HttpMethod.Put, $"/config/operators/{operatorId}/brands/b1/wallet-integration", processor, new { enabled = true });
        foreach (var player in players)
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, $"{Suite.Processes["ReferenceWallet"].BaseUrl}/sim/players/{player}")
            {
                Content = JsonContent.Create(new { token = "token-" + player, currency = "USD", balance = 1000m, operator_id = operatorId, brand_id = "b1" }),
            };
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Suite.WalletAdminToken);
            using var r = await Http.SendAsync(put);
            Assert.That(r.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.OK), await r.Content.ReadAsStringAsync());
        }
        return new WinningJackpot(admin, processor, instance);
    }

    public static Task<JsonElement> PostAsync(string path, string? token, object body) => SendAsync(HttpMethod.Post, path, token, body);

    /// <summary>A call through the edge that must succeed (2xx); its JSON body, or default when it has none.</summary>
    public static async Task<JsonElement> SendAsync(HttpMethod method, string path, string? token, object body)
    {
        using var request = new HttpRequestMessage(method, Suite.Edge + path) { Content = JsonContent.Create(body) };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.InRange(200, 299), $"{path}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}
