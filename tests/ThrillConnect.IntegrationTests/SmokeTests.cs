namespace ThrillConnect.IntegrationTests;

public class SmokeTests
{
    [Test]
    public async Task Fixture_starts()
    {
        var p = await Servers.PlayerAsync();
        await using var ws = await Ws.PlayerAsync(p);
        await ws.SubscribeAsync("*");
        Assert.That(ws.IsOpen);
    }
}
