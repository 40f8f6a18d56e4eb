namespace ThrillConnect.IntegrationTests;

/// <summary>
/// A refused connection is accepted and closed at once with a code and a reason that say why (README "WebSocket"): 4400
/// bad parameters, 4401 a token refused, 4404 no wallet, 1011 the wallet cannot be asked now.
/// </summary>
public class RefusalTests
{
    static async Task<(int Code, string Reason)> ClosedAsync(string url)
    {
        await using var ws = await Ws.ConnectAsync(url);
        return await ws.ClosedAsync();
    }

    static Task<(int Code, string Reason)> PlayerClosedAsync(Player p, string? currency = null, string? brand = null) =>
        ClosedAsync(Ws.PlayerUrl(brand is null ? p : p with { Brand = brand }, currency: currency));

    [Test]
    public async Task A_token_the_wallet_never_issued_is_401()
    {
        var p = await Servers.PlayerAsync();
        var (code, reason) = await PlayerClosedAsync(p with { Token = "tok-forged-" + Guid.NewGuid().ToString("N") });
        Assert.That(code, Is.EqualTo(4401));
        Assert.That(reason, Does.StartWith("401 "));
    }

    [Test]
    public async Task A_token_the_wallet_replaced_is_401()
    {
        // The wallet gives the player a new session token: the old one has expired. (ThrillGate keeps a successful
        // authentication for a while, so the old token is never used before.)
        var p = await Servers.PlayerAsync();
        var renewed = await Servers.RenewTokenAsync(p);
        Assert.That((await PlayerClosedAsync(p)).Code, Is.EqualTo(4401));
        await using var again = await Ws.PlayerAsync(renewed);
        await again.SubscribeAsync("*");
        Assert.That(again.IsOpen, "the new token connects");
    }

    [Test]
    public async Task Another_brands_players_token_is_401()
    {
        var a2 = await Servers.PlayerAsync("cna:a2");
        Assert.That((await PlayerClosedAsync(a2, brand: "a1")).Code, Is.EqualTo(4401));
    }

    [Test]
    public async Task A_currency_other_than_the_wallets_is_refused_by_the_wallet_4401()
    {
        var p = await Servers.PlayerAsync(currency: "EUR");
        var (code, reason) = await PlayerClosedAsync(p, currency: "USD");
        Assert.That(code, Is.EqualTo(4401));
        Assert.That(reason, Does.StartWith("401 ").And.Contain("currency"));
    }

    [TestCase("token=&currency=EUR", "400 token")]
    [TestCase("token=t&currency=eur", "400 currency")]
    [TestCase("token=t", "400 currency")]
    public async Task Missing_or_malformed_parameters_are_4400_naming_them(string query, string reason)
    {
        var closed = await ClosedAsync($"{Ws.BaseUrl}/v1/events/cna/a1?{query}");
        Assert.That(closed.Code, Is.EqualTo(4400));
        Assert.That(closed.Reason, Does.StartWith(reason));
    }

    [Test]
    public async Task A_brand_without_a_wallet_is_4404()
    {
        var p = await Servers.PlayerAsync("cna:a3");
        Assert.That(await PlayerClosedAsync(p), Is.EqualTo((4404, "404 no wallet is configured for cna:a3")));
    }

    [Test]
    public async Task A_wallet_that_does_not_answer_is_1011_reconnect_later()
    {
        var p = await Servers.PlayerAsync("cna:a4");
        var (code, reason) = await PlayerClosedAsync(p);
        Assert.That(code, Is.EqualTo(1011));
        Assert.That(reason, Does.StartWith("server error"));
    }

    [Test]
    public async Task A_genuine_service_token_re_signed_with_Thrill_IDs_key_is_accepted()
    {
        // The control for the forgeries below: re-signing alone changes nothing.
        await using var ws = await Ws.ServiceAsync(await Tokens.ResignAsync(Servers.OperatorA, _ => { }));
        await ws.SubscribeAsync("*");
        Assert.That(ws.IsOpen);
    }

    const string NotValid = "401 the token is not a valid Thrill-ID access token";

    [TestCase("garbage", NotValid)]
    [TestCase("forged", NotValid)]
    [TestCase("expired", NotValid)]
    [TestCase("for another audience", NotValid)]
    [TestCase("of another issuer", NotValid)]
    [TestCase("without the events permission", "401 the token does not grant thrillconnect:events:read")]
    public async Task A_refused_service_token_is_4401(string token, string reason)
    {
        var genuine = Servers.OperatorA;
        var (code, closeReason) = await ClosedAsync(Ws.ServiceUrl(token switch
        {
            "forged" => Tokens.Forge(genuine),
            "expired" => await Tokens.ResignAsync(genuine, c => { c["iat"] = Tokens.Now - 7200; c["nbf"] = Tokens.Now - 7200; c["exp"] = Tokens.Now - 3600; }),
            "for another audience" => await Tokens.ResignAsync(genuine, c => c["aud"] = "someone-else"),
            "of another issuer" => await Tokens.ResignAsync(genuine, c => c["iss"] = "https://id.evil.example"),
            "without the events permission" => Servers.CorsReaderA,
            _ => "not-a-jwt",
        }));
        Assert.That(code, Is.EqualTo(4401));
        Assert.That(closeReason, Does.StartWith(reason));
    }

    [Test]
    public async Task A_service_connection_without_a_token_is_4400()
    {
        Assert.That((await ClosedAsync($"{Ws.BaseUrl}/v1/events/service")).Code, Is.EqualTo(4400));
    }

    [Test]
    public async Task A_service_connection_is_closed_4401_when_its_token_expires()
    {
        var shortLived = await Tokens.ResignAsync(Servers.OperatorA, c => c["exp"] = Tokens.Now + 3);
        await using var ws = await Ws.ServiceAsync(shortLived);
        await ws.SubscribeAsync("*");
        Assert.That(await ws.ClosedAsync(TimeSpan.FromSeconds(10)), Is.EqualTo((4401, "401 the token expired: reconnect with a new one")));
    }
}
