using ThrillSuite.Contracts.Pots;

namespace ThrillConnect.IntegrationTests;

/// <summary>
/// Raffles over the player socket (spec §9, §18): PlayerRaffleTicketsRequest answered with PlayerRaffleTicketResponse from
/// ThrillPots' tickets (gRPC GetRaffleTickets), and RaffleWinEvent pushed to the winners' brand.
/// </summary>
public class RaffleTicketTests
{
    static async Task<Guid> RaffleAsync(string brand)
    {
        var template = Jackpots.Template(Servers.OrgA, optIn: false, magic: 1);
        template["name"] = "Raffle";
        template["jackpot_type"] = "Raffle";
        template["contribution_rules"]!["contribution_type"]!["Fixed"] = 0.3m;
        template["raffle"] = JsonNode.Parse("""{ "ticket_price": 0.5, "ticket_basis": "Contribution", "period": {"Hours": 1}, "prizes": [1] }""");
        var pot = template["pots"]![0]!.DeepClone().AsObject();
        pot["contribution"] = JsonNode.Parse("""{ "Percentage": 0.7 }""");
        pot["pot_types"] = new JsonArray();
        template["pots"] = new JsonArray(pot);
        var pots = Servers.Pots;
        var id = (await pots.PostAsync("/templates", Servers.Platform, template)).Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
        (await pots.PostAsync($"/templates/{id}/publish", Servers.Platform)).Expect(HttpStatusCode.OK);
        return Guid.Parse((await pots.PostAsync("/templates/instantiate", Servers.Platform, new { template_id = id, owner_id = Servers.OrgA, allowed_brands = new[] { brand } }))
            .Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!);
    }

    [Test]
    public async Task A_player_reads_its_own_raffle_tickets_over_the_socket()
    {
        var p = await Servers.PlayerAsync("cna:a1");
        var raffle = new Jackpot(await RaffleAsync(p.BrandKey), "", [p.BrandKey]);
        for (var i = 0; i < 3; i++) await Jackpots.ContributeAsync(raffle, p.Id, p.BrandKey); // 0.9: one ticket, 0.4 toward the next
        await using var ws = await Ws.PlayerAsync(p);

        await ws.SendJsonAsync(new { PlayerRaffleTicketsRequest = new { player_id = p.Id, instance_id = raffle.Id, brand_id = p.BrandKey, request_id = "t-1" } });
        var reply = await ws.NextAsync(f => f.Name == "PlayerRaffleTicketResponse", "the tickets");
        Assert.That(reply.Type, Is.EqualTo("Message"));
        Assert.That(reply.Data.GetProperty("request_id").GetString(), Is.EqualTo("t-1"));
        var ticket = reply.Data.GetProperty("tickets").EnumerateArray().Single();
        Assert.That(ticket.GetProperty("instance_id").GetGuid(), Is.EqualTo(raffle.Id));
        Assert.That(ticket.GetProperty("player_id").GetString(), Is.EqualTo(p.Id));
        Assert.That(ticket.GetProperty("brand_id").GetString(), Is.EqualTo(p.BrandKey));
        Assert.That(ticket.GetProperty("ticket_count").GetInt64(), Is.EqualTo(1));
        Assert.That(ticket.GetProperty("accumulated_cost").GetString(), Is.EqualTo("0.4"));
        Assert.That(ticket.GetProperty("timestamp_end").GetInt64() - ticket.GetProperty("timestamp_start").GetInt64(), Is.EqualTo(3_600_000));

        // Without instance_id: every Active raffle the player holds tickets in.
        await ws.SendJsonAsync(new { PlayerRaffleTicketsRequest = new { player_id = p.Id, brand_id = p.BrandKey } });
        var all = await ws.NextAsync(f => f.Name == "PlayerRaffleTicketResponse", "the tickets of every raffle");
        Assert.That(all.Data.GetProperty("tickets").EnumerateArray().Select(t => t.GetProperty("instance_id").GetGuid()), Is.EqualTo(new[] { raffle.Id }));

        await ws.SendJsonAsync(new { PlayerRaffleTicketsRequest = new { player_id = p.Id, instance_id = "nope", brand_id = p.BrandKey } });
        var invalid = await ws.NextAsync(f => f.Type == "Error", "the refusal of a bad instance_id");
        Assert.That(invalid.Data.GetProperty("code").GetString(), Is.EqualTo("invalid_request"));
        Assert.That(invalid.Data.GetProperty("message").GetString(), Does.Contain("instance_id"));
        await ws.SendJsonAsync(new { PlayerRaffleTicketsRequest = new { player_id = "someone-else", instance_id = raffle.Id, brand_id = p.BrandKey } });
        var forbidden = await ws.NextAsync(f => f.Type == "Error", "the refusal of another player's tickets");
        Assert.That(forbidden.Data.GetProperty("code").GetString(), Is.EqualTo("forbidden"));
    }

    [Test]
    public async Task A_RaffleWinEvent_reaches_the_players_of_the_winners_brand_only()
    {
        var winner = await Servers.PlayerAsync("cna:a1");
        var other = await Servers.PlayerAsync("cna:a2");
        await using var ws = await Ws.PlayerAsync(winner);
        await using var elsewhere = await Ws.PlayerAsync(other);
        await ws.SubscribeAsync("RaffleWinEvent");
        await elsewhere.SubscribeAsync("*");
        var draw = Guid.NewGuid();
        var instance = Guid.NewGuid();
        await Servers.Bus.PublishAsync(new RaffleWon(draw, Servers.OrgA, winner.BrandKey, instance, "Raffle", "EUR",
            new CurrencyMultipliers(winner.BrandKey, "EUR", new Dictionary<string, decimal> { ["EUR"] = 1m }), Events.NextTimestamp(),
            [new PayoutRecord(winner.Id, winner.BrandKey, "EUR", 12.5m)], false, "pool", 1, 2, 7, 25m,
            [new RafflePlaceWon(1, winner.Id, winner.BrandKey, 3, 12.5m, Guid.NewGuid())]));

        var frame = await ws.NextAsync(f => f.Name == "RaffleWinEvent", "the RaffleWinEvent");
        Assert.That(frame.Type, Is.EqualTo("Event"));
        Assert.That(frame.Data.GetProperty("instance_id").GetGuid(), Is.EqualTo(instance));
        Assert.That(frame.Data.GetProperty("draw_id").GetGuid(), Is.EqualTo(draw));
        var w = frame.Data.GetProperty("winners").EnumerateArray().Single();
        Assert.That((w.GetProperty("player_id").GetString(), w.GetProperty("win_amount").GetDecimal()), Is.EqualTo((winner.Id, 12.5m)));
        await elsewhere.AssertNeverAsync(f => f.Name == "RaffleWinEvent", "another brand's raffle win");
    }
}
