using ThrillSuite.Testing;
using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using NUnit.Framework;
using ThrillSuite.Diagnostics.V1;
using ThrillSuite.Grpc;
using ThrillSuite.Grpc.Diagnostics;

namespace ThrillSuite.Interop.Tests;

/// <summary>Our client (ThrillSuite.Grpc's GrpcClient) × each independent SERVER script, run as a child process.</summary>
[TestFixture(Peers.Python)]
[TestFixture(Peers.Node)]
[NonParallelizable]
public sealed class OurClientAgainstPeerServerTests(string peer)
{
    const string ErrorDetail = "no such jackpot: \u00fc\u2713";
    const int KiB = 1024;
    const int MiB = 1024 * KiB;
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    PeerServer? server;
    readonly List<HttpClient> httpClients = [];

    [OneTimeSetUp]
    public async Task StartPeerServer()
    {
        InteropEnvironment.RequirePeer(peer);
        server = await PeerServer.StartAsync(InteropEnvironment.ServerCommand(peer, 0), TimeSpan.FromSeconds(30));
    }

    [OneTimeTearDown]
    public async Task StopPeerServer()
    {
        foreach (var h in httpClients) h.Dispose();
        if (server is null) return;
        await server.DisposeAsync();
        TestContext.Progress.WriteLine($"{server.Command} exited {server.ExitCode}; it printed:\n{server.Output}");
    }

    [TearDown]
    public void ShowServerOutputOnFailure()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed && server is not null)
            TestContext.Out.WriteLine($"{server.Command} printed so far:\n{server.Output}");
    }

    GrpcClient NewClient(GrpcClientOptions? options = null)
    {
        var http = new HttpClient(GrpcClient.CreateHandler(), disposeHandler: true) { BaseAddress = new Uri($"http://127.0.0.1:{server!.Port}") };
        httpClients.Add(http);
        return new GrpcClient(http, options);
    }

    static byte[] KnownBytes(int n)
    {
        var b = new byte[n];
        for (var i = 0; i < n; i++) b[i] = (byte)(i % 251);
        return b;
    }

    [Test]
    public async Task Unary_RoundTripsMessagePayloadAndMetadata_AuthorizationRedacted()
    {
        var client = NewClient();
        var payload = KnownBytes(1 * KiB);
        var headers = new Metadata().Add("x-interop", "thrillsuite").Add("authorization", "Bearer t0k3n");

        var reply = await client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { Message = "hello", Payload = ByteString.CopyFrom(payload) },
            CallOptions.WithTimeout(CallTimeout, headers));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Service, Is.EqualTo(Peers.ServiceName(peer)), "the reply must come from the peer server");
            Assert.That(reply.Message, Is.EqualTo("hello"));
            Assert.That(reply.Payload.ToByteArray(), Is.EqualTo(payload));
            Assert.That(reply.Metadata.TryGetValue("x-interop", out var xi) ? xi : null, Is.EqualTo("thrillsuite"));
            Assert.That(reply.AuthorizationPresent, Is.True);
            Assert.That(reply.Metadata.Keys, Does.Not.Contain("authorization"));
        }
    }

    [Test]
    public async Task Streaming_Count5_YieldsIndices0To4ThenOk()
    {
        var client = NewClient();
        var indices = new List<int>();

        // Completing the enumeration without an RpcException is the client seeing grpc-status 0.
        await foreach (var r in client.ServerStreamingAsync<CountReply>(DiagnosticsService.CountMethod,
                           new CountRequest { Count = 5, IntervalMs = 10 }, CallOptions.WithTimeout(CallTimeout)))
            indices.Add(r.Index);

        Assert.That(indices, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public async Task Deadline_200msOnA2sDelay_IsDeadlineExceededWithin1500ms()
    {
        var client = NewClient();
        // Warm the connection so the budget measures the call, not the TCP/HTTP/2 handshake.
        await client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new EchoRequest { Message = "warm" }, CallOptions.WithTimeout(CallTimeout));

        var sw = Stopwatch.StartNew();
        var ex = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { Message = "slow", DelayMs = 2000 }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(200))));
        sw.Stop();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded), ex.Message);
            Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromMilliseconds(1500)));
        }
    }

    [Test]
    public void Error_NotFoundWithNonAsciiDetail_ArrivesExactly()
    {
        var client = NewClient();

        var ex = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { Message = "x", FailWithStatus = (int)StatusCode.NotFound, FailMessage = ErrorDetail },
            CallOptions.WithTimeout(CallTimeout)));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.NotFound), ex.Message);
            Assert.That(ex.Status.Detail, Is.EqualTo(ErrorDetail));
        }
    }

    [Test]
    public async Task Large_3MiBEchoesWithRaisedReceiveLimit_5MiBRequestIsResourceExhaustedByServer()
    {
        var client = NewClient(new GrpcClientOptions { MaxReceiveMessageSize = 8 * MiB });
        var big = KnownBytes(3 * MiB);

        var reply = await client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { Message = "3MiB", Payload = ByteString.CopyFrom(big) }, CallOptions.WithTimeout(CallTimeout));
        Assert.That(reply.Payload.ToByteArray(), Is.EqualTo(big), "3 MiB echo");

        var ex = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { Message = "5MiB", Payload = ByteString.CopyFrom(KnownBytes(5 * MiB)) }, CallOptions.WithTimeout(CallTimeout)));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted), ex.Message);
            // The peer's own wording: proof the limit is the server's 4 MiB receive limit, not something on our side.
            Assert.That(ex.Status.Detail, Does.StartWith("Received message larger than max"));
        }
    }

    [Test]
    public void UnknownMethod_IsUnimplemented()
    {
        var client = NewClient();

        var ex = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(NopeMethod.Descriptor,
            new EchoRequest { Message = "x" }, CallOptions.WithTimeout(CallTimeout)));

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unimplemented), ex.Message);
    }

    /// <summary>
    /// /thrillsuite.diagnostics.v1.Diagnostics/Nope as a MethodDescriptor. GrpcClient takes only descriptors (no raw path),
    /// so this builds a one-method file "as generated code" whose message types map to the real EchoRequest/EchoReply.
    /// </summary>
    static class NopeMethod
    {
        public static readonly MethodDescriptor Descriptor = Build();

        static MethodDescriptor Build()
        {
            const string package = "thrillsuite.diagnostics.v1";
            var file = new FileDescriptorProto { Name = "interop/nope.proto", Package = package, Syntax = "proto3" };
            file.MessageType.Add(new DescriptorProto { Name = "EchoRequest" });
            file.MessageType.Add(new DescriptorProto { Name = "EchoReply" });
            file.Service.Add(new ServiceDescriptorProto
            {
                Name = "Diagnostics",
                Method = { new MethodDescriptorProto { Name = "Nope", InputType = $".{package}.EchoRequest", OutputType = $".{package}.EchoReply" } },
            });
            var fd = FileDescriptor.FromGeneratedCode(file.ToByteArray(), [], new GeneratedClrTypeInfo(null, null,
            [
                new GeneratedClrTypeInfo(typeof(EchoRequest), EchoRequest.Parser, [], null, null, null, null),
                new GeneratedClrTypeInfo(typeof(EchoReply), EchoReply.Parser, [], null, null, null, null),
            ]));
            return fd.Services[0].FindMethodByName("Nope");
        }
    }
}
