using Microsoft.AspNetCore.Http;

namespace ThrillSuite.Grpc;

public interface IServerStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

/// <summary>What a handler knows about its call: metadata in and out, deadline, cancellation.</summary>
public sealed class ServerCallContext
{
    readonly HttpContext httpContext;
    readonly ResponseSink sink;
    internal ResponseSink Sink => sink;

    internal ServerCallContext(HttpContext httpContext, ResponseSink sink, string method, DateTime deadline, CancellationToken cancellationToken)
    {
        this.httpContext = httpContext;
        this.sink = sink;
        Method = method;
        Deadline = deadline;
        CancellationToken = cancellationToken;
        Peer = $"{httpContext.Connection.RemoteIpAddress}:{httpContext.Connection.RemotePort}";
        foreach (var (name, values) in httpContext.Request.Headers)
            Wire.AddToMetadata(RequestHeaders, name, values);
    }

    /// <summary>The full method path, "/package.Service/Method".</summary>
    public string Method { get; }
    public string Peer { get; }
    /// <summary>UTC deadline from grpc-timeout; DateTime.MaxValue when the client set none.</summary>
    public DateTime Deadline { get; }
    /// <summary>Cancelled when the client goes away, the deadline passes or the server shuts the call down.</summary>
    public CancellationToken CancellationToken { get; }
    public Metadata RequestHeaders { get; } = new();
    public Metadata ResponseTrailers { get; } = new();

    public Task WriteResponseHeadersAsync(Metadata headers) => sink.WriteHeadersAsync(headers, CancellationToken);

    /// <summary>The underlying HTTP/2 request, for what gRPC does not model (authentication, connection info).</summary>
    public HttpContext GetHttpContext() => httpContext;
}
