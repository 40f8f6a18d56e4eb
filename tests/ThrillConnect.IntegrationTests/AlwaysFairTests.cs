namespace ThrillConnect.IntegrationTests;

/// <summary>
/// Always Fair multi-currency as a player sees it through ThrillConnect (spec wallet §6.2, §6.4): an opt-in value outside the
/// template's range for the player's currency is refused with the range; a win reaches the winner in their currency as the
/// amount their wallet is credited, and other players as the win converted with its multipliers. Multipliers: SEK 11.5.
/// </summary>
public class AlwaysFairTests
{
    static Task<Jackpot> CreateAsync(long magic = 1_000_000_000_000_000) => Jackpots.CreateAsync(["cna:a1"], magic: magic, changeTemplate: t =>
        t["contribution_rules"]!["currency_limits"] = JsonNode.Parse("""{"EUR": {"min": 0.1, "max": 5}, "SEK": {"min": 1, "max": 50}}"""));

    static object OptIn(Jackpot jackpot, Player p, decimal value, string requestId) => new
    {
        PlayerOptInRequest = new
        {
            instance_id = jackpot.Id, player_id = p.Id, brand_id = p.BrandKey, player_country = "SE", opt_in = true, contribution_value = value,
            request_id = requestId,
        },
    };

    [Test]
    public async Task An_opt_in_value_outside_the_currencys_range_is_an_error_naming_the_range()
    {
        var jackpot = await CreateAsync();
        var p = await Servers.PlayerAsync("cna:a1", currency: "SEK");
        await using var ws = await Ws.PlayerAsync(p);

        await ws.SendJsonAsync(OptIn(jackpot, p, 0.5m, "low"));
        var error = await ws.NextAsync(f => f.Type == "Error", "the refusal");
        Assert.That(error.Name, Is.EqualTo("PlayerOptInRequest"), error.ToString());
        Assert.That(error.Data.GetProperty("code").GetString(), Is.EqualTo("invalid_request"), error.ToString());
        Assert.That(error.Data.GetProperty("message").GetString(), Does.Contain("min 1, max 50 SEK"), error.ToString());

        await ws.SendJsonAsync(OptIn(jackpot, p, 50m, "top"));
        var accepted = await ws.NextAsync(f => f.Name == "PlayerOptInResponse", "the opt-in at the maximum");
        Assert.That(accepted.Data.GetProperty("preferred_contribution_value").GetDecimal(), Is.EqualTo(50m));
        Assert.That(accepted.Data.GetProperty("preferred_currency").GetString(), Is.EqualTo("SEK"));
    }

    [Test]
    public async Task The_winner_sees_the_amount_credited_in_their_currency_and_others_the_converted_win()
    {
        // HitRate 1: every contribution wins the small pot.
        var jackpot = await CreateAsync(magic: 1);
        var winner = await Servers.PlayerAsync("cna:a1", currency: "SEK");
        var watcher = await Servers.PlayerAsync("cna:a1", currency: "SEK");
        await using var wsWinner = await Ws.PlayerAsync(winner);
        await using var wsWatcher = await Ws.PlayerAsync(watcher);
        await wsWinner.SubscribeAsync("*");
        await wsWatcher.SubscribeAsync("*");
        await wsWatcher.SeenAsync(f => f.Is("JackpotUpdate", jackpot.Id), "the instance's ticker (ThrillConnect learns its brands)");
        // SEK 1.725 = EUR 0.15: the small pot gets 0.03 of it, so the win (EUR 10.03) is SEK 115.345, credited as SEK 115.34.
        await wsWinner.SendJsonAsync(OptIn(jackpot, winner, 1.725m, "in"));
        await wsWinner.NextAsync(f => f.Name == "PlayerOptInResponse", "the opt-in");

        var result = (await Servers.Pots.PostAsync("/jackpots/contribute/instance", Servers.Platform, new
        {
            token = "session-token", brand_id = winner.BrandKey, player_id = winner.Id, player_country = "SE", instance_id = jackpot.Id.ToString(),
            gameround_id = "r-" + Guid.NewGuid().ToString("N")[..12], currency = "SEK", base_wager = 1m,
        })).Expect(HttpStatusCode.OK).Json;
        var win = result.GetProperty("wins")[0];
        var amount = win.GetProperty("win_amount").GetDecimal();
        var credited = win.GetProperty("player_win_amount").GetDecimal();
        Assert.That(credited, Is.Not.EqualTo(decimal.Round(amount * 11.5m, 8)), "a case where the conversion and the credit differ");

        var own = await wsWinner.NextAsync(f => f.Is("WinEvent", jackpot.Id), "the win on the winner's socket");
        var seen = await wsWatcher.NextAsync(f => f.Is("WinEvent", jackpot.Id), "the win on another player's socket");
        Assert.That(own.Data.GetProperty("win_amount").GetDecimal(), Is.EqualTo(amount), "in the jackpot currency");
        Assert.That(own.Data.GetProperty("jackpot_currency").GetString(), Is.EqualTo("EUR"));
        Assert.That(own.Data.GetProperty("currency_multipliers").GetProperty("multipliers").GetProperty("SEK").GetDecimal(), Is.EqualTo(11.5m));
        Assert.That(own.Data.GetProperty("player_currency").GetString(), Is.EqualTo("SEK"));
        Assert.That(own.Data.GetProperty("player_value").GetDecimal(), Is.EqualTo(credited));
        Assert.That(seen.Data.GetProperty("player_currency").GetString(), Is.EqualTo("SEK"));
        Assert.That(seen.Data.GetProperty("player_value").GetDecimal(), Is.EqualTo(decimal.Round(amount * 11.5m, 8)));
    }
}
