namespace ThrillConnect.IntegrationTests;

/// <summary>The sockets answer on /v1/events/… and on the un-prefixed /events/… of the OpenAPI text (spec §2.3).</summary>
public class PathTests
{
    [TestCase(true)]
    [TestCase(false)]
    public async Task Player_and_service_sockets_receive_events_with_and_without_the_v1_prefix(bool v1)
    {
        var p = await Servers.PlayerAsync();
        await using var player = await Ws.PlayerAsync(p, v1: v1);
        await using var service = await Ws.ServiceAsync(Servers.OperatorA, v1: v1);
        await player.SubscribeAsync("JackpotUpdate");
        await service.SubscribeAsync("JackpotUpdate");
        var instance = Guid.NewGuid();
        await Servers.Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"]));
        await player.NextAsync(f => f.Is("JackpotUpdate", instance), "the update on the player socket");
        await service.NextAsync(f => f.Is("JackpotUpdate", instance), "the update on the service socket");
    }

    [TestCase("/v1/events/cna/a1?token=t&currency=EUR")]
    [TestCase("/events/service?token=t")]
    public async Task A_plain_HTTP_request_to_a_socket_path_is_426(string path)
    {
        var reply = await Servers.Connect.GetAsync(path);
        reply.ExpectProblem(HttpStatusCode.UpgradeRequired);
    }
}
