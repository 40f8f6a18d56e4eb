using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Polly;
using Polly.Retry;

namespace ThrillSuite.Grpc;

public readonly record struct CallOptions(Metadata? Headers = null, DateTime? Deadline = null, CancellationToken CancellationToken = default)
{
    public static CallOptions WithTimeout(TimeSpan timeout, Metadata? headers = null, CancellationToken ct = default) =>
        new(headers, DateTime.UtcNow + timeout, ct);
}

public sealed class GrpcClientOptions
{
    public int MaxReceiveMessageSize { get; set; } = Wire.DefaultMaxReceiveMessageSize;
    /// <summary>Null: unlimited, as gRPC's default.</summary>
    public int? MaxSendMessageSize { get; set; }
    /// <summary>Retries of a unary call answered UNAVAILABLE (the server did not process it), within its deadline.</summary>
    public int MaxRetryAttempts { get; set; } = 3;
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);
    /// <summary>Used when a call sets no deadline of its own.</summary>
    public TimeSpan? DefaultTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// gRPC client over HttpClient and HTTP/2 (h2c for http:// addresses). Calls name their method by its
/// protoc-generated <see cref="MethodDescriptor"/>; the path, parsers and streaming kind come from it.
/// HttpClient propagates W3C trace context (traceparent) from the current activity.
/// </summary>
public sealed class GrpcClient : IDisposable
{
    public static readonly ActivitySource Source = new("ThrillSuite.Grpc");
    readonly HttpClient http;
    readonly GrpcClientOptions options;
    readonly ResiliencePipeline retry;
    readonly bool ownsHttp;

    public GrpcClient(HttpClient http, GrpcClientOptions? options = null) : this(http, options, ownsHttp: false) { }

    GrpcClient(HttpClient http, GrpcClientOptions? options, bool ownsHttp)
    {
        this.ownsHttp = ownsHttp;
        if (http.BaseAddress is null) throw new ArgumentException("The HttpClient needs a BaseAddress (the server's gRPC address).", nameof(http));
        this.http = http;
        this.http.DefaultRequestVersion = HttpVersion.Version20;
        this.http.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        this.http.Timeout = Timeout.InfiniteTimeSpan; // deadlines are per call
        this.options = options ?? new GrpcClientOptions();
        retry = this.options.MaxRetryAttempts <= 0
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => e.StatusCode == StatusCode.Unavailable),
                MaxRetryAttempts = this.options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = this.options.RetryBaseDelay,
            }).Build();
    }

    /// <summary>A client that owns its connection pool; dispose it when done.</summary>
    public static GrpcClient ForAddress(string address, GrpcClientOptions? options = null) =>
        new(new HttpClient(CreateHandler(), disposeHandler: true) { BaseAddress = new Uri(address) }, options, ownsHttp: true);

    public void Dispose()
    {
        if (ownsHttp) http.Dispose();
    }

    public static SocketsHttpHandler CreateHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        KeepAlivePingDelay = TimeSpan.FromSeconds(60),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>
    /// A unary call, traced as an RPC client span (rpc.system grpc, rpc.service, rpc.method, rpc.grpc.status_code) around its
    /// attempts, whose HTTP/2 requests are HttpClient's own child spans.
    /// </summary>
    public async Task<TResponse> UnaryAsync<TResponse>(MethodDescriptor method, IMessage request, CallOptions callOptions = default)
        where TResponse : class, IMessage<TResponse>
    {
        using var activity = Source.StartActivity($"{method.Service.FullName}/{method.Name}", ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", method.Service.FullName);
            activity.SetTag("rpc.method", method.Name);
            activity.SetTag("server.address", http.BaseAddress!.Host);
            activity.SetTag("server.port", http.BaseAddress.Port);
        }
        try
        {
            var response = await UnaryCoreAsync<TResponse>(method, request, callOptions);
            activity?.SetTag("rpc.grpc.status_code", (int)StatusCode.OK);
            return response;
        }
        catch (RpcException ex)
        {
            activity?.SetTag("rpc.grpc.status_code", (int)ex.StatusCode);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Status.Detail);
            throw;
        }
    }

    async Task<TResponse> UnaryCoreAsync<TResponse>(MethodDescriptor method, IMessage request, CallOptions callOptions)
        where TResponse : class, IMessage<TResponse>
    {
        Check<TResponse>(method, request, serverStreaming: false);
        var deadline = DeadlineOf(callOptions);
        using var deadlineCts = CreateDeadlineCts(deadline);
        using var callCts = CancellationTokenSource.CreateLinkedTokenSource(callOptions.CancellationToken, deadlineCts.Token);
        try
        {
            return await retry.ExecuteAsync(async ct =>
            {
                using var response = await SendAsync(method, request, callOptions.Headers, deadline, ct);
                var reader = PipeReader.Create(await response.Content.ReadAsStreamAsync(ct));
                var parser = method.OutputType.Parser;
                var message = await Wire.ReadMessageAsync<TResponse>(reader, parser, options.MaxReceiveMessageSize, ct);
                if (message is not null && await Wire.ReadMessageAsync<TResponse>(reader, parser, options.MaxReceiveMessageSize, ct) is not null)
                    throw new RpcException(StatusCode.Internal, "The server sent more than one message for a unary call.");
                ThrowIfNotOk(response.TrailingHeaders);
                return message ?? throw new RpcException(StatusCode.Internal, "The server sent no message for a unary call.");
            }, callCts.Token);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex, deadlineCts.Token, callOptions.CancellationToken);
        }
    }

    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TResponse>(
        MethodDescriptor method, IMessage request, CallOptions callOptions = default,
        [EnumeratorCancellation] CancellationToken enumeratorCancellation = default)
        where TResponse : class, IMessage<TResponse>
    {
        Check<TResponse>(method, request, serverStreaming: true);
        var deadline = DeadlineOf(callOptions);
        using var deadlineCts = CreateDeadlineCts(deadline);
        using var callCts = CancellationTokenSource.CreateLinkedTokenSource(callOptions.CancellationToken, enumeratorCancellation, deadlineCts.Token);
        var ct = callCts.Token;
        HttpResponseMessage response;
        PipeReader reader;
        try
        {
            response = await SendAsync(method, request, callOptions.Headers, deadline, ct);
            reader = PipeReader.Create(await response.Content.ReadAsStreamAsync(ct));
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex, deadlineCts.Token, callCts.Token);
        }

        using (response)
        {
            while (true)
            {
                TResponse? message;
                try
                {
                    message = await Wire.ReadMessageAsync<TResponse>(reader, method.OutputType.Parser, options.MaxReceiveMessageSize, ct);
                    if (message is null) ThrowIfNotOk(response.TrailingHeaders);
                }
                catch (Exception ex) when (ex is not RpcException)
                {
                    throw Translate(ex, deadlineCts.Token, callCts.Token);
                }
                if (message is null) yield break;
                yield return message;
            }
        }
    }

    async Task<HttpResponseMessage> SendAsync(MethodDescriptor method, IMessage request, Metadata? headers, DateTime? deadline, CancellationToken ct)
    {
        var httpRequest = new HttpRequestMessage(HttpMethod.Post, $"/{method.Service.FullName}/{method.Name}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(Wire.Frame(request, options.MaxSendMessageSize)),
        };
        httpRequest.Content.Headers.ContentType = new MediaTypeHeaderValue(Wire.ContentType);
        httpRequest.Headers.TryAddWithoutValidation("te", "trailers");
        httpRequest.Headers.TryAddWithoutValidation("grpc-accept-encoding", "identity");
        httpRequest.Headers.TryAddWithoutValidation("user-agent", "thrillsuite-grpc/1.0");
        if (deadline is { } d)
        {
            var remaining = d - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero) throw new RpcException(StatusCode.DeadlineExceeded, "Deadline Exceeded");
            httpRequest.Headers.TryAddWithoutValidation(Wire.TimeoutHeader, Wire.FormatTimeout(remaining));
        }
        if (headers is not null)
            foreach (var entry in headers)
                httpRequest.Headers.TryAddWithoutValidation(entry.Key, Wire.HeaderValue(entry));

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(httpRequest, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException ex)
        {
            httpRequest.Dispose();
            // The request never reached a handler: safe to retry.
            throw new RpcException(StatusCode.Unavailable, $"Error connecting to the server: {ex.Message}");
        }

        try
        {
            if (response.StatusCode != HttpStatusCode.OK)
                throw new RpcException(Wire.FromHttpStatus((int)response.StatusCode),
                    $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}");
            // Trailers-only response: the status is in the headers and there is no body.
            if (response.Headers.Contains(Wire.StatusHeader))
            {
                ThrowIfNotOk(response.Headers);
                throw new RpcException(StatusCode.Internal, "The server ended the call without a message.");
            }
            if (!Wire.IsGrpcContentType(response.Content.Headers.ContentType?.MediaType))
                throw new RpcException(StatusCode.Internal, $"Bad gRPC response. Content-Type '{response.Content.Headers.ContentType}'.");
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    static void ThrowIfNotOk(HttpHeaders headers)
    {
        var code = headers.TryGetValues(Wire.StatusHeader, out var codes) ? codes.FirstOrDefault() : null;
        if (code is null) throw new RpcException(StatusCode.Internal, "The server's response has no grpc-status.");
        if (!int.TryParse(code, out var value)) throw new RpcException(StatusCode.Internal, $"Invalid grpc-status '{code}'.");
        if (value == 0) return;
        var detail = headers.TryGetValues(Wire.MessageHeader, out var messages) ? Wire.DecodeMessage(messages.FirstOrDefault()) : "";
        var trailers = new Metadata();
        foreach (var (name, values) in headers)
            Wire.AddToMetadata(trailers, name, values.ToArray());
        throw new RpcException(new Status((StatusCode)value, detail), trailers);
    }

    static Exception Translate(Exception ex, CancellationToken deadline, CancellationToken caller)
    {
        if (deadline.IsCancellationRequested) return new RpcException(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        if (caller.IsCancellationRequested) return new RpcException(StatusCode.Cancelled, "Call canceled by the client.");
        return ex switch
        {
            HttpRequestException or IOException => new RpcException(StatusCode.Unavailable, $"Error reading the response: {ex.Message}"),
            _ => new RpcException(StatusCode.Internal, $"Error in the gRPC call: {ex.Message}"),
        };
    }

    DateTime? DeadlineOf(CallOptions call) =>
        call.Deadline ?? (options.DefaultTimeout is { } t ? DateTime.UtcNow + t : null);

    static CancellationTokenSource CreateDeadlineCts(DateTime? deadline)
    {
        if (deadline is not { } d) return new CancellationTokenSource();
        var remaining = d - DateTime.UtcNow;
        return new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
    }

    static void Check<TResponse>(MethodDescriptor method, IMessage request, bool serverStreaming)
    {
        if (method.IsClientStreaming || method.IsServerStreaming != serverStreaming)
            throw new ArgumentException($"{method.FullName} is not a {(serverStreaming ? "server-streaming" : "unary")} method.", nameof(method));
        if (request.GetType() != method.InputType.ClrType)
            throw new ArgumentException($"{method.FullName} takes {method.InputType.ClrType.Name}, not {request.GetType().Name}.", nameof(request));
        if (typeof(TResponse) != method.OutputType.ClrType)
            throw new ArgumentException($"{method.FullName} returns {method.OutputType.ClrType.Name}, not {typeof(TResponse).Name}.");
    }
}
