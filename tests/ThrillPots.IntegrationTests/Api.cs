using System.Net.Http.Headers;
using System.Text;

namespace ThrillPots.IntegrationTests;

public sealed class Api(HttpClient http) : IDisposable
{
    public Uri BaseAddress => http.BaseAddress!;

    public async Task<Reply> SendAsync(HttpMethod method, string path, string? token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
            request.Content = new StringContent(body is JsonNode node ? node.ToJsonString() : JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, text, response.Content.Headers.ContentType?.MediaType, response.Headers.WwwAuthenticate.ToString());
    }

    public Task<Reply> GetAsync(string path, string? token) => SendAsync(HttpMethod.Get, path, token);
    public Task<Reply> PostAsync(string path, string? token, object? body = null) => SendAsync(HttpMethod.Post, path, token, body ?? new { });
    public Task<Reply> PutAsync(string path, string? token, object body) => SendAsync(HttpMethod.Put, path, token, body);

    public void Dispose() => http.Dispose();
}

public sealed record Reply(HttpStatusCode Status, string Text, string? MediaType, string WwwAuthenticate)
{
    public JsonElement Json => JsonDocument.Parse(Text).RootElement;

    public Reply Expect(HttpStatusCode status)
    {
        Assert.That(Status, Is.EqualTo(status), Text);
        return this;
    }

    /// <summary>A 400 RFC 7807 validation problem naming <paramref name="field"/> among its errors.</summary>
    public Reply ExpectInvalid(string field)
    {
        Expect(HttpStatusCode.BadRequest);
        Assert.That(MediaType, Is.EqualTo("application/problem+json"));
        var names = Json.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(names, Does.Contain(field), Text);
        return this;
    }

    public Reply ExpectForbidden() => ExpectProblem(HttpStatusCode.Forbidden);
    public Reply ExpectNotFound() => ExpectProblem(HttpStatusCode.NotFound);
    public Reply ExpectConflict() => ExpectProblem(HttpStatusCode.Conflict);

    public Reply ExpectProblem(HttpStatusCode status)
    {
        Expect(status);
        Assert.That(MediaType, Is.EqualTo("application/problem+json"), Text);
        return this;
    }
}

public static class Currencies
{
    public static readonly object Defaults = new
    {
        base_currency = "EUR",
        multipliers = new Dictionary<string, decimal> { ["EUR"] = 1m, ["USD"] = 1.1m, ["SEK"] = 11.5m, ["GBP"] = 0.85m },
    };
}

/// <summary>Fresh data per test, so no test depends on another's rows.</summary>
public static class Fixtures
{
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    /// <summary>The spec §6 example, completed: three pots, 0.3 + 0.25 + 0.25 + 0.2 = 1.</summary>
    public static JsonObject Template(string owner = "tpa", string currency = "EUR") => JsonNode.Parse($$"""
        {
          "name": "Quick Hit", "owner_id": "{{owner}}", "currency": "{{currency}}",
          "contribution_rules": { "opt_in_required": true, "contribution_type": { "Fixed": 0.1 }, "operator_contribution_percentage": 0 },
          "house_hold_contribution": { "Percentage": 0.3 },
          "win_selector_strategy": "Highest",
          "pots": [
            { "id": "minor", "contribution": { "Percentage": 0.25 }, "seed_contribution": { "Percentage": 0.85 },
              "seed_strategy": { "initial_seed_value": 10, "min_reseed_value": 10, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "max_instantiation_count": null, "is_progressive": true, "supports_external_trigger": false,
              "pot_types": [ { "HitRate": { "max_magic_number": 5, "cost_per_attempt": 0.1 } } ], "criteria": null, "max_pot_value": null },
            { "id": "major", "contribution": { "Percentage": 0.25 }, "seed_contribution": { "Percentage": 0.85 },
              "seed_strategy": { "initial_seed_value": 100, "min_reseed_value": 100, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "max_instantiation_count": null, "is_progressive": true, "supports_external_trigger": false,
              "pot_types": [ { "MustDropByValue": { "max_value": 500 } } ], "criteria": null, "max_pot_value": null },
            { "id": "mega", "contribution": { "Percentage": 0.2 }, "seed_contribution": { "Percentage": 0.85 },
              "seed_strategy": { "initial_seed_value": 1000, "min_reseed_value": 1000, "fund_strategy": "CollectToMinReseed", "reseed_strategy": "Full" },
              "max_instantiation_count": null, "is_progressive": true, "supports_external_trigger": false,
              "pot_types": [ { "MustDropByTime": { "daily_time": "21:00", "window_seconds": 3600 } } ], "criteria": null, "max_pot_value": 100000 }
          ]
        }
        """)!.AsObject();

    public static async Task<string> PublishedTemplateAsync(string owner = "tpa", string? token = null)
    {
        token ??= owner.StartsWith("tpb") ? Servers.OperatorB : Servers.OperatorA;
        var id = (await Servers.Pots.PostAsync("/templates", token, Template(owner))).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        (await Servers.Pots.PostAsync($"/templates/{id}/publish", token)).Expect(HttpStatusCode.OK);
        return id;
    }

    public static async Task<JsonElement> InstanceAsync(string owner = "tpa", string[]? brands = null, long? start = null, string? token = null)
    {
        token ??= owner.StartsWith("tpb") ? Servers.OperatorB : Servers.OperatorA;
        var template = await PublishedTemplateAsync(owner.Split(':')[0], owner.StartsWith("tpb") ? Servers.OperatorB : Servers.OperatorA);
        return (await Servers.Pots.PostAsync("/templates/instantiate", token, new
        {
            template_id = template, owner_id = owner,
            allowed_brands = brands ?? (owner.StartsWith("tpb") ? ["tpb:x1"] : ["tpa:b1", "tpa:b2"]),
            start_timestamp = start,
        })).Expect(HttpStatusCode.Created).Json;
    }

    /// <summary>The audit rows of a resource, newest first, as the platform sees them.</summary>
    public static async Task<List<JsonElement>> AuditAsync(string resourceId) =>
        [.. (await Servers.Pots.GetAsync($"/audit?resource_id={Uri.EscapeDataString(resourceId)}", Servers.Platform))
            .Expect(HttpStatusCode.OK).Json.EnumerateArray()];
}
