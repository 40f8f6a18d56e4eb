using System.Diagnostics;

namespace ThrillConnect.IntegrationTests;

/// <summary>
/// An independent client, npm's ws (tests/interop/node/ws-client.js), on a player socket: the frames it reads have the
/// envelope of spec §2.4 exactly, and the data of §9.1 (JackpotUpdate), §9.2 (WinEvent) and §9.3 (OptInEvent).
/// </summary>
public class InteropTests
{
    static readonly string InteropDir = Path.Combine(TestEnvironment.RepoRoot, "tests", "interop");
    static readonly string[] Envelope = ["msg_type", "source", "msg_name", "operator_id", "brand_id", "player_id", "data", "timestamp"];

    [Test]
    public async Task The_ws_client_reads_frames_with_the_specs_envelope_and_field_names()
    {
        if (!File.Exists(Path.Combine(InteropDir, "node_modules", "ws", "package.json")))
            Assert.Ignore("tests/interop/node_modules lacks ws: run `npm ci` in tests/interop (build/test does).");
        var p = await Servers.PlayerAsync();
        var instance = Guid.NewGuid();
        // Known before the client subscribes, so its snapshot holds the instance.
        await using (var witness = await Ws.PlayerAsync(p))
        {
            await witness.SubscribeAsync("JackpotUpdate");
            await Servers.Bus.PublishAsync(Events.Update(instance, Servers.OrgA, ["cna:a1"]));
            await witness.NextAsync(f => f.Is("JackpotUpdate", instance), "the update");
        }

        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("INTEROP_NODE") ?? "node") { WorkingDirectory = InteropDir };
        foreach (var a in new[] { Path.Combine(InteropDir, "node", "ws-client.js"), "--url", Ws.PlayerUrl(p), "--until", "JackpotUpdate,WinEvent,OptInEvent" })
            psi.ArgumentList.Add(a);
        var run = ChildProcess.RunAsync(psi, TimeSpan.FromSeconds(60));
        // No acknowledgement tells when the client's subscription holds: announce a win and an opt-in until it has both.
        while (!run.IsCompleted)
        {
            await Servers.Bus.PublishAsync(Events.Win(instance, "cna:a1", p.Id, 5m));
            await Servers.Bus.PublishAsync(Events.OptIn(instance, "cna:a1", p.Id));
            await Task.WhenAny(run, Task.Delay(500));
        }
        var result = await run;
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Describe());

        var frames = result.Observation.GetProperty("frames").EnumerateArray().ToList();
        foreach (var frame in frames)
        {
            Assert.That(frame.EnumerateObject().Select(f => f.Name), Is.EqualTo(Envelope), frame.GetRawText());
            Assert.That(frame.GetProperty("msg_type").GetString(), Is.EqualTo("Event"));
            Assert.That(frame.GetProperty("source").GetString(), Is.EqualTo("thrillpots"));
            Assert.That(frame.GetProperty("operator_id").GetString(), Is.EqualTo("cna"));
            Assert.That(frame.GetProperty("brand_id").GetString(), Is.EqualTo("a1"), "the bare brand");
            Assert.That(frame.GetProperty("timestamp").ValueKind, Is.EqualTo(JsonValueKind.Number));
        }
        JsonElement Data(string name) => frames.First(f => f.GetProperty("msg_name").GetString() == name).GetProperty("data");
        JsonElement Frame(string name) => frames.First(f => f.GetProperty("msg_name").GetString() == name);

        Assert.That(Frame("JackpotUpdate").GetProperty("player_id").ValueKind, Is.EqualTo(JsonValueKind.Null), "a broadcast");
        Assert.That(Data("JackpotUpdate").EnumerateObject().Select(f => f.Name), Is.SupersetOf(new[]
            { "id", "jackpot_type", "currency", "pots", "allowed_brands", "allowed_sources", "status", "timestamp_start", "timestamp_end", "last_updated" }));
        Assert.That(Data("JackpotUpdate").GetProperty("pots")[0].EnumerateObject().Select(f => f.Name), Is.SupersetOf(new[] { "id", "is_progressive", "current_value" }));
        Assert.That(Frame("WinEvent").GetProperty("player_id").ValueKind, Is.EqualTo(JsonValueKind.Null), "a win is told to the whole brand");
        Assert.That(Data("WinEvent").EnumerateObject().Select(f => f.Name), Is.SupersetOf(new[]
        {
            "brand_id", "player_id", "source_id", "instance_id", "jackpot_name", "jackpot_currency", "timestamp", "win_pot_id", "currency_multipliers",
            "win_withheld", "community_winners", "games_in_jackpot", "seed", "metadata",
        }));
        Assert.That(Data("WinEvent").GetProperty("currency_multipliers").EnumerateObject().Select(f => f.Name),
            Is.EquivalentTo(new[] { "brand_id", "base_currency", "multipliers" }));
        Assert.That(Frame("OptInEvent").GetProperty("player_id").GetString(), Is.EqualTo(p.Id), "an opt-in is the player's own");
        Assert.That(Data("OptInEvent").EnumerateObject().Select(f => f.Name), Is.SupersetOf(new[]
        {
            "instance_id", "player_id", "ext_player_id", "player_brand_id", "preferred_contribution_value", "contribution_count", "contribution_value",
            "opted_in", "last_updated",
        }));
    }
}
