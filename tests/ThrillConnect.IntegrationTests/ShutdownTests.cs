namespace ThrillConnect.IntegrationTests;

/// <summary>A ThrillConnect of its own (the shared one keeps serving the other tests), stopped as Kubernetes stops a pod.</summary>
public class ShutdownTests
{
    [Test]
    public async Task On_SIGTERM_every_socket_is_closed_1001_going_away_and_the_process_exits_cleanly()
    {
        var port = TestEnvironment.FreePort();
        await using var connect = Servers.StartConnect(port, Servers.Database("connstop"));
        await connect.WaitReadyAsync();
        var p = await Servers.PlayerAsync();
        await using var player = await Ws.ConnectAsync(Ws.PlayerUrl(p, port: port));
        await using var service = await Ws.ConnectAsync(Ws.ServiceUrl(Servers.OperatorA, port: port));
        await player.SubscribeAsync("*");
        await service.SubscribeAsync("*");

        connect.Terminate();
        Assert.That(await player.ClosedAsync(), Is.EqualTo((1001, "going away")));
        Assert.That(await service.ClosedAsync(), Is.EqualTo((1001, "going away")));
        Assert.That(await connect.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(0), connect.Output);
    }
}
