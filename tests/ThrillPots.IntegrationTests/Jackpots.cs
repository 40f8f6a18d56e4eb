using Dapper;
using Google.Protobuf.Reflection;
using Npgsql;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.IntegrationTests;

/// <summary>A live instance of tpa for contribution tests, fed by a source of its own under tpa:b1 and tpa:b2.</summary>
public sealed record Jackpot(string Id, string Source)
{
    public Guid Guid => Guid.Parse(Id);
}

/// <summary>Instances built for contributions, and ways to look at what ThrillPots stored and answers over gRPC.</summary>
public static class Jackpots
{
    /// <summary>
    /// Two pots: "small" (HitRate 1 in <paramref name="magic"/> per 0.1, seed 10) and "big" (MustDropByValue within (100,
    /// <paramref name="dropMax"/>], seed 100); house 0.3. A huge <paramref name="magic"/> makes a win practically impossible,
    /// 1 makes every contribution win.
    /// </summary>
    public static JsonObject Template(bool optIn = false, long magic = 1_000_000_000_000_000, decimal fixedValue = 0.1m, decimal dropMax = 1_000_000m,
        string currency = "EUR") => JsonNode.Parse($$"""
        {
          "name": "Contribution test", "owner_id": "tpa", "currency": "{{currency}}",
          "contribution_rules": { "opt_in_required": {{(optIn ? "true" : "false")}}, "contribution_type": { "Fixed": {{fixedValue}} }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.3 },
          "win_selector_strategy": "Highest",
          "pots": [
            { "id": "small", "contribution": { "Percentage": 0.4 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 10, "min_reseed_value": 10, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null, "pot_types": [ { "HitRate": { "max_magic_number": {{magic}}, "cost_per_attempt": 0.1 } } ] },
            { "id": "big", "contribution": { "Percentage": 0.3 }, "seed_contribution": { "Percentage": 0.5 },
              "seed_strategy": { "initial_seed_value": 100, "min_reseed_value": 100, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "is_progressive": true, "supports_external_trigger": false, "max_instantiation_count": null, "criteria": null, "max_pot_value": null, "pot_types": [ { "MustDropByValue": { "max_value": {{dropMax}} } } ] }
          ]
        }
        """)!.AsObject();

    public static async Task<Jackpot> CreateAsync(JsonObject? template = null, string[]? brands = null, string[]? allowedSources = null)
    {
        var pots = Servers.Pots;
        var templateId = (await pots.PostAsync("/templates", Servers.OperatorA, template ?? Template())).Expect(HttpStatusCode.Created)
            .Json.GetProperty("id").GetString()!;
        (await pots.PostAsync($"/templates/{templateId}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        var id = (await pots.PostAsync("/templates/instantiate", Servers.OperatorA, new
        {
            template_id = templateId, owner_id = "tpa", allowed_brands = brands ?? ["tpa:b1", "tpa:b2"], allowed_sources = allowedSources,
        })).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        var source = Fixtures.Unique("src");
        foreach (var brand in brands ?? ["tpa:b1", "tpa:b2"])
        {
            (await pots.PostAsync("/config/sources", Servers.OperatorA, new[] { new { owner_id = brand, source_name = "Test " + source, source_id = source } }))
                .Expect(HttpStatusCode.Created);
            (await pots.PostAsync("/config/sources/assignjackpot", Servers.OperatorA, new { owner_id = brand, source_id = new[] { source }, instance_id = id }))
                .Expect(HttpStatusCode.OK);
        }
        return new Jackpot(id, source);
    }

    /// <summary>A v1 by-instance body; tweak it per test.</summary>
    public static JsonObject Body(Jackpot jackpot, string? player = null, string? round = null, string brand = "tpa:b1", decimal wager = 1m,
        string currency = "EUR") => new()
        {
            ["token"] = "session-token", ["brand_id"] = brand, ["player_id"] = player ?? Fixtures.Unique("p"), ["player_country"] = "MT",
            ["instance_id"] = jackpot.Id, ["gameround_id"] = round ?? Fixtures.Unique("r"), ["currency"] = currency, ["base_wager"] = wager,
            ["metadata"] = new JsonObject { ["bet_id"] = "b-1" },
        };

    public static Task<Reply> ContributeAsync(JsonObject body, string? token = null) =>
        Servers.Pots.PostAsync("/jackpots/contribute/instance", token ?? Servers.OperatorA, body);

    /// <summary>Pot values and reseed funds as stored.</summary>
    public static async Task<Dictionary<string, (decimal Value, decimal Fund)>> PotsAsync(Jackpot jackpot)
    {
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        return (await c.QueryAsync<(string PotId, decimal Value, decimal Fund)>(
                "select pot_id, value, reseed_fund from pots where instance_id = @id", new { id = jackpot.Guid }))
            .ToDictionary(p => p.PotId, p => (p.Value, p.Fund));
    }

    public static async Task<long> LedgerCountAsync(Jackpot jackpot)
    {
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        return await c.ExecuteScalarAsync<long>("select count(*) from contributions where instance_id = @id", new { id = jackpot.Guid });
    }

    public static async Task<JsonElement> ReconcileAsync(Jackpot jackpot) =>
        (await Servers.Pots.GetAsync($"/instances/{jackpot.Id}/reconciliation", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;

    public static async Task SetStateAsync(Jackpot jackpot, string state) =>
        (await Servers.Pots.PostAsync($"/instances/{jackpot.Id}/state", Servers.OperatorA, new { state })).Expect(HttpStatusCode.OK);

    // gRPC

    static readonly FileDescriptor Proto_ = Proto.PotsReflection.Descriptor;
    public static readonly MethodDescriptor ContributeBatch = Proto_.FindTypeByName<ServiceDescriptor>("Contributions").FindMethodByName("ContributeBatch");
    public static readonly MethodDescriptor SetOptIn = Proto_.FindTypeByName<ServiceDescriptor>("PlayerJackpots").FindMethodByName("SetOptIn");
    public static readonly MethodDescriptor GetOptIn = Proto_.FindTypeByName<ServiceDescriptor>("PlayerJackpots").FindMethodByName("GetOptIn");
    public static readonly MethodDescriptor GetLeaderboard = Proto_.FindTypeByName<ServiceDescriptor>("PlayerJackpots").FindMethodByName("GetLeaderboard");
    public static readonly MethodDescriptor GetInstance = Proto_.FindTypeByName<ServiceDescriptor>("PlayerJackpots").FindMethodByName("GetInstance");
    public static readonly MethodDescriptor ResolveSource = Proto_.FindTypeByName<ServiceDescriptor>("PlayerJackpots").FindMethodByName("ResolveSource");

    static GrpcClient? grpc;
    public static GrpcClient Grpc => grpc ??= GrpcClient.ForAddress($"http://127.0.0.1:{Servers.PotsGrpcPort}");

    public static Task<T> CallAsync<T>(MethodDescriptor method, Google.Protobuf.IMessage request, string? token = null) where T : class, Google.Protobuf.IMessage<T>
    {
        var headers = new Metadata();
        if (token is not null) headers.Add("authorization", "Bearer " + token);
        return Grpc.UnaryAsync<T>(method, request, CallOptions.WithTimeout(TimeSpan.FromSeconds(30), headers));
    }

    public static Task<Proto.OptInState> OptInAsync(Jackpot jackpot, string player, bool optIn = true, string value = "", string currency = "",
        string brand = "tpa:b1") =>
        CallAsync<Proto.OptInState>(SetOptIn, new Proto.SetOptInRequest
        {
            Target = new Proto.Target { Type = "instance", Id = jackpot.Id }, BrandId = brand, PlayerId = player, OptIn = optIn,
            ContributionValue = value, Currency = currency,
        });
}
