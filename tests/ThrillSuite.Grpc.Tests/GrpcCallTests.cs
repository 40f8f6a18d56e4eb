using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using ThrillSuite.Diagnostics.V1;
using ThrillSuite.Grpc.Diagnostics;

namespace ThrillSuite.Grpc.Tests;

public class GrpcCallTests
{
    LoopbackGrpcServer server = null!;
    GrpcClient client = null!;

    [SetUp]
    public async Task Start()
    {
        server = await LoopbackGrpcServer.StartAsync();
        client = GrpcClient.ForAddress(server.Address);
    }

    [TearDown]
    public async Task Stop()
    {
        client.Dispose();
        await server.DisposeAsync();
    }

    [Test]
    public async Task Unary_call_round_trips_message_and_metadata()
    {
        var headers = new Metadata().Add("x-tenant", "op1:brand1").Add("authorization", "Bearer secret").Add("x-blob-bin", [0, 1, 255]);
        var reply = await client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { Message = "hi", Payload = ByteString.CopyFrom(1, 2, 3) }, new CallOptions(headers));

        Assert.That(reply.Message, Is.EqualTo("hi"));
        Assert.That(reply.Payload.ToByteArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(reply.Metadata["x-tenant"], Is.EqualTo("op1:brand1"));
        Assert.That(reply.Metadata["x-blob-bin"], Is.EqualTo(Convert.ToBase64String([0, 1, 255])));
        Assert.That(reply.AuthorizationPresent, Is.True);
        Assert.That(reply.Metadata.ContainsKey("authorization"), Is.False, "credentials are never echoed");
    }

    [Test]
    public async Task Server_streaming_delivers_every_message_in_order_then_ends()
    {
        var indices = new List<int>();
        await foreach (var r in client.ServerStreamingAsync<CountReply>(DiagnosticsService.CountMethod, new CountRequest { Count = 50, IntervalMs = 1 }))
            indices.Add(r.Index);
        Assert.That(indices, Is.EqualTo(Enumerable.Range(0, 50)));
    }

    [Test]
    public void Error_status_and_non_ascii_detail_reach_the_client()
    {
        var ex = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { FailWithStatus = (int)StatusCode.FailedPrecondition, FailMessage = "pot ü is paused ✓" }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(ex.Status.Detail, Is.EqualTo("pot ü is paused ✓"));
    }

    [Test]
    public async Task Error_before_any_message_is_a_trailers_only_response()
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };
        using var request = RawRequest("/thrillsuite.diagnostics.v1.Diagnostics/Echo",
            new EchoRequest { FailWithStatus = (int)StatusCode.NotFound, FailMessage = "gone" });
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.GetValues("grpc-status").Single(), Is.EqualTo("5"));
        Assert.That(response.Headers.GetValues("grpc-message").Single(), Is.EqualTo("gone"));
        Assert.That(body, Is.Empty);
        Assert.That(response.TrailingHeaders.Contains("grpc-status"), Is.False);
    }

    [Test]
    public async Task Success_carries_status_in_trailers()
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };
        using var request = RawRequest("/thrillsuite.diagnostics.v1.Diagnostics/Echo", new EchoRequest { Message = "x" });
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/grpc"));
        Assert.That(body[0], Is.EqualTo(0), "uncompressed flag");
        Assert.That(EchoReply.Parser.ParseFrom(body.AsSpan(5).ToArray()).Message, Is.EqualTo("x"));
        Assert.That(response.TrailingHeaders.GetValues("grpc-status").Single(), Is.EqualTo("0"));
    }

    [Test]
    public async Task Unknown_method_is_unimplemented_and_wrong_content_type_is_415()
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };
        using var unknown = RawRequest("/thrillsuite.diagnostics.v1.Diagnostics/Nope", new EchoRequest());
        using var response = await http.SendAsync(unknown);
        Assert.That(response.Headers.GetValues("grpc-status").Single(), Is.EqualTo("12"));

        using var json = RawRequest("/thrillsuite.diagnostics.v1.Diagnostics/Echo", new EchoRequest());
        json.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var refused = await http.SendAsync(json);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
    }

    [Test]
    public void Client_deadline_gives_deadline_exceeded_promptly()
    {
        var watch = Stopwatch.StartNew();
        var ex = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { DelayMs = 5000 }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(200))));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public async Task Server_enforces_the_grpc_timeout_it_receives()
    {
        // A raw client that sends grpc-timeout but never gives up itself: the server must answer DEADLINE_EXCEEDED.
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };
        using var request = RawRequest("/thrillsuite.diagnostics.v1.Diagnostics/Echo", new EchoRequest { DelayMs = 10_000 });
        request.Headers.TryAddWithoutValidation("grpc-timeout", "150m");
        var watch = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        var status = response.Headers.Contains("grpc-status")
            ? response.Headers.GetValues("grpc-status").Single()
            : response.TrailingHeaders.GetValues("grpc-status").Single();
        Assert.That(status, Is.EqualTo(((int)StatusCode.DeadlineExceeded).ToString()));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public async Task Cancelling_a_stream_cancels_the_server_handler()
    {
        using var cts = new CancellationTokenSource();
        var received = 0;
        var ex = Assert.CatchAsync(async () =>
        {
            await foreach (var _ in client.ServerStreamingAsync<CountReply>(DiagnosticsService.CountMethod,
                               new CountRequest { Count = 10_000, IntervalMs = 20 }, new CallOptions(CancellationToken: cts.Token)))
            {
                if (++received == 3) await cts.CancelAsync();
            }
        });
        Assert.That(ex, Is.TypeOf<RpcException>().With.Property(nameof(RpcException.StatusCode)).EqualTo(StatusCode.Cancelled));
        Assert.That(received, Is.EqualTo(3));
        // The server is still healthy afterwards.
        var reply = await client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new EchoRequest { Message = "after" });
        Assert.That(reply.Message, Is.EqualTo("after"));
    }

    [Test]
    public async Task Message_size_limits_hold_on_both_sides()
    {
        var big = ByteString.CopyFrom(new byte[3 * 1024 * 1024]);
        var roomy = new GrpcClient(new HttpClient(GrpcClient.CreateHandler()) { BaseAddress = new Uri(server.Address) },
            new GrpcClientOptions { MaxReceiveMessageSize = 8 * 1024 * 1024 });
        var reply = await roomy.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new EchoRequest { Payload = big });
        Assert.That(reply.Payload.Length, Is.EqualTo(big.Length));

        var tooBig = Assert.ThrowsAsync<RpcException>(() => roomy.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) }));
        Assert.That(tooBig!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted), "server refuses > 4 MiB");

        var strict = new GrpcClient(new HttpClient(GrpcClient.CreateHandler()) { BaseAddress = new Uri(server.Address) },
            new GrpcClientOptions { MaxReceiveMessageSize = 1024 * 1024 });
        var clientSide = Assert.ThrowsAsync<RpcException>(() => strict.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new EchoRequest { Payload = big }));
        Assert.That(clientSide!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted), "client refuses > its limit");
    }

    [Test]
    public async Task Trace_context_of_the_caller_reaches_the_server()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("test");
        using var activity = source.StartActivity("caller")!;

        var reply = await client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new EchoRequest());

        Assert.That(reply.TraceId, Is.EqualTo(activity.TraceId.ToString()));
        Assert.That(reply.Metadata["traceparent"], Does.Contain(activity.TraceId.ToString()));
    }

    [Test]
    public async Task Unavailable_is_retried_and_then_succeeds()
    {
        var flaky = new FailFirstHandler(failures: 2) { InnerHandler = GrpcClient.CreateHandler() };
        var retrying = new GrpcClient(new HttpClient(flaky) { BaseAddress = new Uri(server.Address) },
            new GrpcClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1) });
        var reply = await retrying.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new EchoRequest { Message = "third time" });
        Assert.That(reply.Message, Is.EqualTo("third time"));
        Assert.That(flaky.Attempts, Is.EqualTo(3));
    }

    [Test]
    public void Unavailable_after_the_retry_budget_surfaces()
    {
        using var dead = GrpcClient.ForAddress("http://127.0.0.1:1", new GrpcClientOptions { MaxRetryAttempts = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(1) });
        var ex = Assert.ThrowsAsync<RpcException>(() => dead.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
    }

    [Test]
    public void Client_checks_message_types_against_the_descriptor()
    {
        Assert.ThrowsAsync<ArgumentException>(() => client.UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod, new CountRequest()));
        Assert.ThrowsAsync<ArgumentException>(() => client.UnaryAsync<CountReply>(DiagnosticsService.CountMethod, new CountRequest()));
    }

    [Test]
    public void A_service_class_that_does_not_match_its_descriptor_stops_start_up()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            new ServiceCollection().AddGrpcService<WrongDiagnostics>(DiagnosticsService.Descriptor));
        Assert.That(ex!.Message, Does.Contain("/thrillsuite.diagnostics.v1.Diagnostics/Echo"));
    }

    sealed class WrongDiagnostics
    {
        public Task<CountReply> Echo(EchoRequest request, ServerCallContext context) => Task.FromResult(new CountReply());
        public Task Count(CountRequest request, IServerStreamWriter<CountReply> writer, ServerCallContext context) => Task.CompletedTask;
    }

    sealed class FailFirstHandler(int failures) : DelegatingHandler
    {
        public int Attempts;
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            Interlocked.Increment(ref Attempts) <= failures
                ? throw new HttpRequestException("connection refused (simulated)")
                : base.SendAsync(request, ct);
    }

    static HttpRequestMessage RawRequest(string path, IMessage message)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(Wire.Frame(message)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        return request;
    }
}
