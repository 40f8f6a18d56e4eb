namespace ThrillConnect.IntegrationTests;

/// <summary>
/// Opt-ins over the player socket (spec §2.6, README): ThrillPots records them, the requester gets a PlayerOptInResponse,
/// the player's connections the OptInEvent, and the REST read shows the new state.
/// </summary>
public class OptInTests
{
    static async Task<(Jackpot Jackpot, Player Player, Ws Ws)> OpenAsync()
    {
        var jackpot = await Jackpots.CreateAsync(["cna:a1"], optIn: true);
        var p = await Servers.PlayerAsync("cna:a1");
        var ws = await Ws.PlayerAsync(p);
        await ws.SubscribeAsync("OptInEvent");
        return (jackpot, p, ws);
    }

    static async Task<JsonElement> OptInStateAsync(Jackpot jackpot, Player p) =>
        (await Servers.Connect.GetAsync($"/v1/thrillpots/instances/source/{jackpot.Source}/brand/{p.BrandKey}?player_id={p.Id}"))
            .Expect(HttpStatusCode.OK).Json.GetProperty("opt_in");

    [Test]
    public async Task A_PlayerOptInRequest_is_answered_recorded_and_announced()
    {
        var (jackpot, p, ws) = await OpenAsync();
        await using var _ = ws;
        await ws.SendJsonAsync(new
        {
            PlayerOptInRequest = new
            {
                instance_id = jackpot.Id, player_id = p.Id, brand_id = p.BrandKey, player_country = "MT", opt_in = true, contribution_value = 0.3,
                request_id = "opt-1",
            },
        });

        var response = await ws.NextAsync(f => f.Name == "PlayerOptInResponse", "the response");
        Assert.That(response.Type, Is.EqualTo("Message"));
        Assert.That(response.Json.GetProperty("player_id").GetString(), Is.EqualTo(p.Id));
        Assert.That(response.Data.GetProperty("request_id").GetString(), Is.EqualTo("opt-1"));
        Assert.That(response.Data.GetProperty("instance_id").GetGuid(), Is.EqualTo(jackpot.Id));
        Assert.That(response.Data.GetProperty("opted_in").GetBoolean(), Is.True);
        Assert.That(response.Data.GetProperty("preferred_contribution_value").GetDecimal(), Is.EqualTo(0.3m));
        Assert.That(response.Data.GetProperty("preferred_currency").GetString(), Is.EqualTo("EUR"));
        var announced = await ws.SeenAsync(f => f.Is("OptInEvent", jackpot.Id), "the OptInEvent from ThrillPots");
        Assert.That(announced.Data.GetProperty("opted_in").GetBoolean(), Is.True);
        Assert.That(announced.Data.GetProperty("player_brand_id").GetString(), Is.EqualTo("cna:a1"));

        var state = await OptInStateAsync(jackpot, p);
        Assert.That(state.GetProperty("opted_in").GetBoolean(), Is.True, "ThrillPots recorded it");
        Assert.That(state.GetProperty("preferred_contribution_value").GetDecimal(), Is.EqualTo(0.3m));
    }

    [Test]
    public async Task A_PlayerOptInRequestV2_targets_the_instance_a_source_feeds_and_opts_out_as_well()
    {
        var (jackpot, p, ws) = await OpenAsync();
        await using var _ = ws;
        object V2(bool optIn, string requestId) => new
        {
            PlayerOptInRequestV2 = new
            {
                target = new { type = "source", id = jackpot.Source }, operator_id = p.Operator, player = new { id = p.Id, country = "MT", brand_id = p.Brand },
                opt_in = optIn, request_id = requestId,
            },
        };

        await ws.SendJsonAsync(V2(true, "in"));
        var optedIn = await ws.NextAsync(f => f.Name == "PlayerOptInResponse", "the opt-in response");
        Assert.That(optedIn.Data.GetProperty("instance_id").GetGuid(), Is.EqualTo(jackpot.Id));
        Assert.That(optedIn.Data.GetProperty("opted_in").GetBoolean(), Is.True);
        Assert.That((await OptInStateAsync(jackpot, p)).GetProperty("opted_in").GetBoolean(), Is.True);

        await ws.SendJsonAsync(V2(false, "out"));
        var optedOut = await ws.NextAsync(f => f.Name == "PlayerOptInResponse", "the opt-out response");
        Assert.That(optedOut.Data.GetProperty("request_id").GetString(), Is.EqualTo("out"));
        Assert.That(optedOut.Data.GetProperty("opted_in").GetBoolean(), Is.False);
        await ws.SeenAsync(f => f.Is("OptInEvent", jackpot.Id) && !f.Data.GetProperty("opted_in").GetBoolean(), "the opt-out's OptInEvent");
        Assert.That((await OptInStateAsync(jackpot, p)).GetProperty("opted_in").GetBoolean(), Is.False, "the read is not served from a stale cache");
    }

    [Test]
    public async Task A_socket_opts_in_only_its_own_player_and_only_on_a_player_connection()
    {
        var (jackpot, p, ws) = await OpenAsync();
        await using var _ = ws;
        await using var service = await Ws.ServiceAsync(Servers.OperatorA);
        object Request(string player, string brand) => new
        {
            PlayerOptInRequest = new { instance_id = jackpot.Id, player_id = player, brand_id = brand, player_country = "MT", opt_in = true, request_id = "x" },
        };

        foreach (var (socket, request) in new[] { (ws, Request("someone-else", p.BrandKey)), (ws, Request(p.Id, "cna:a2")), (service, Request(p.Id, p.BrandKey)) })
        {
            await socket.SendJsonAsync(request);
            var error = await socket.NextAsync(f => f.Type == "Error", "the refusal");
            Assert.That(error.Name, Is.EqualTo("PlayerOptInRequest"));
            Assert.That(error.Data.GetProperty("code").GetString(), Is.EqualTo("forbidden"));
            Assert.That(error.Data.GetProperty("request_id").GetString(), Is.EqualTo("x"));
        }
        Assert.That((await OptInStateAsync(jackpot, p)).ValueKind, Is.EqualTo(JsonValueKind.Null), "nothing was recorded");
    }

    [Test]
    public async Task An_opt_in_to_an_unknown_instance_is_a_not_found_error()
    {
        var (_, p, ws) = await OpenAsync();
        await using var __ = ws;
        await ws.SendJsonAsync(new
        {
            PlayerOptInRequest = new { instance_id = Guid.NewGuid(), player_id = p.Id, brand_id = p.BrandKey, player_country = "MT", opt_in = true },
        });
        var error = await ws.NextAsync(f => f.Type == "Error", "the error");
        Assert.That(error.Data.GetProperty("code").GetString(), Is.EqualTo("not_found"), error.ToString());
        Assert.That(ws.IsOpen);
    }
}
