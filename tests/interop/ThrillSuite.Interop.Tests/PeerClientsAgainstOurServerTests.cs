using ThrillSuite.Testing;
using System.Text.Json;
using NUnit.Framework;

namespace ThrillSuite.Interop.Tests;

/// <summary>
/// Our server (ThrillSuite.Grpc's DiagnosticsService on Kestrel h2c) × each independent CLIENT script × each case.
/// The script checks its own expectations (exit 0) and prints one JSON line of what it observed, re-checked here.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class PeerClientsAgainstOurServerTests
{
    public static readonly string[] Cases = ["unary", "streaming", "deadline", "error", "large", "unimplemented"];
    const string ErrorDetail = "no such jackpot: \u00fc\u2713";
    const int MiB = 1024 * 1024;

    LoopbackGrpcServer? server;
    const string OurApplicationName = "ThrillSuite.Interop.Tests";

    [OneTimeSetUp]
    public async Task StartOurServer() => server = await LoopbackGrpcServer.StartAsync(OurApplicationName);

    [OneTimeTearDown]
    public async Task StopOurServer()
    {
        if (server is not null) await server.DisposeAsync();
    }

    [Test]
    public async Task PeerClient_AgainstOurServer(
        [ValueSource(typeof(Peers), nameof(Peers.All))] string peer,
        [ValueSource(nameof(Cases))] string @case)
    {
        InteropEnvironment.RequirePeer(peer);
        var psi = InteropEnvironment.ClientCommand(peer, $"127.0.0.1:{server!.Port}", @case);
        var result = await ChildProcess.RunAsync(psi, TimeSpan.FromSeconds(60));
        var context = result.Describe();
        TestContext.Out.WriteLine(context);

        Assert.That(result.ExitCode, Is.EqualTo(0), context);
        using var json = JsonDocument.Parse(result.LastStdoutLine);
        var root = json.RootElement;
        var observed = root.GetProperty("observed");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(root.GetProperty("ok").GetBoolean(), Is.True, context);
            Assert.That(root.GetProperty("peer").GetString(), Is.EqualTo(Peers.ServiceName(peer)));
            Assert.That(root.GetProperty("case").GetString(), Is.EqualTo(@case));
            switch (@case)
            {
                case "unary":
                    Assert.That(observed.GetProperty("status").GetString(), Is.EqualTo("OK"));
                    Assert.That(observed.GetProperty("message").GetString(), Is.EqualTo("hello"));
                    Assert.That(observed.GetProperty("payload_len").GetInt32(), Is.EqualTo(1024));
                    Assert.That(observed.GetProperty("service").GetString(), Is.EqualTo(OurApplicationName),
                        "the reply must come from our DiagnosticsService");
                    Assert.That(observed.GetProperty("authorization_present").GetBoolean(), Is.True);
                    var metadata = observed.GetProperty("metadata");
                    Assert.That(metadata.TryGetProperty("x-interop", out var xi) ? xi.GetString() : null, Is.EqualTo(peer));
                    Assert.That(metadata.TryGetProperty("authorization", out _), Is.False, "authorization must be redacted");
                    break;
                case "streaming":
                    Assert.That(observed.GetProperty("indices").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
                    Assert.That(observed.GetProperty("status").GetString(), Is.EqualTo("OK"));
                    break;
                case "deadline":
                    Assert.That(observed.GetProperty("status").GetString(), Is.EqualTo("DEADLINE_EXCEEDED"));
                    Assert.That(observed.GetProperty("elapsed_ms").GetInt32(), Is.LessThan(1500));
                    break;
                case "error":
                    Assert.That(observed.GetProperty("status").GetString(), Is.EqualTo("NOT_FOUND"));
                    Assert.That(observed.GetProperty("details").GetString(), Is.EqualTo(ErrorDetail));
                    break;
                case "large":
                    Assert.That(observed.GetProperty("ok3_payload_len").GetInt32(), Is.EqualTo(3 * MiB));
                    Assert.That(observed.GetProperty("big5_status").GetString(), Is.EqualTo("RESOURCE_EXHAUSTED"));
                    Assert.That(observed.GetProperty("big5_details").GetString(), Does.StartWith("Received message larger than max"),
                        "the 5 MiB request must be refused by our server's 4 MiB receive limit");
                    break;
                case "unimplemented":
                    Assert.That(observed.GetProperty("status").GetString(), Is.EqualTo("UNIMPLEMENTED"));
                    break;
                default:
                    Assert.Fail($"no expectations for case {@case}");
                    break;
            }
        }
    }
}
