using System.Diagnostics;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ThrillSuite.Grpc;

public sealed class GrpcServerOptions
{
    public int MaxReceiveMessageSize { get; set; } = Wire.DefaultMaxReceiveMessageSize;
    /// <summary>Null: unlimited, as gRPC's default.</summary>
    public int? MaxSendMessageSize { get; set; }
}

public static class GrpcServerExtensions
{
    /// <summary>The server itself (idempotent); a server with no services answers every call UNIMPLEMENTED.</summary>
    public static GrpcServiceRegistry AddGrpcServer(this IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(GrpcServiceRegistry))?.ImplementationInstance is GrpcServiceRegistry existing)
            return existing;
        var registry = new GrpcServiceRegistry();
        services.AddSingleton(registry);
        services.AddSingleton<GrpcServer>();
        services.AddOptions<GrpcServerOptions>();
        return registry;
    }

    /// <summary>Registers a service implementation for the methods of a protoc-generated service descriptor.</summary>
    public static IServiceCollection AddGrpcService<TService>(this IServiceCollection services, Google.Protobuf.Reflection.ServiceDescriptor descriptor)
        where TService : class
    {
        services.AddGrpcServer().Add<TService>(descriptor);
        services.AddScoped<TService>();
        return services;
    }

    /// <summary>Answers every request that arrives on <paramref name="port"/> (every request when null) as a gRPC call.</summary>
    public static IApplicationBuilder UseGrpcServer(this IApplicationBuilder app, int? port = null)
    {
        var server = app.ApplicationServices.GetRequiredService<GrpcServer>();
        return app.Use((context, next) =>
            port is null || context.Connection.LocalPort == port ? server.HandleAsync(context) : next(context));
    }
}

/// <summary>Dispatches HTTP/2 requests to bound methods and writes gRPC responses (PROTOCOL-HTTP2.md).</summary>
public sealed class GrpcServer(GrpcServiceRegistry registry, IOptions<GrpcServerOptions> options, ILogger<GrpcServer> logger)
{
    static readonly TimeSpan MaxDeadline = TimeSpan.FromDays(30);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }
        if (!Wire.IsGrpcContentType(request.ContentType))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            context.Response.Headers[Wire.StatusHeader] = ((int)StatusCode.Internal).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers[Wire.MessageHeader] = Wire.EncodeMessage($"Content-Type '{request.ContentType}' is not supported.");
            return;
        }

        var sink = new ResponseSink(context, options.Value.MaxSendMessageSize);
        var path = request.Path.Value ?? "";
        if (!registry.TryGet(path, out var binding))
        {
            await sink.CompleteAsync(new Status(StatusCode.Unimplemented, $"Method {path} is unimplemented."), new Metadata());
            return;
        }

        TimeSpan? timeout = Wire.TryParseTimeout(request.Headers[Wire.TimeoutHeader], out var t) && t < MaxDeadline ? t : null;
        var deadline = timeout is { } to ? DateTime.UtcNow + to : DateTime.MaxValue;
        using var deadlineCts = timeout is { } d ? new CancellationTokenSource(d) : new CancellationTokenSource();
        using var callCts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, deadlineCts.Token);
        var call = new ServerCallContext(context, sink, path, deadline, callCts.Token);

        var activity = Activity.Current;
        if (activity is not null)
        {
            activity.DisplayName = path.TrimStart('/');
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", binding.Method.Service.FullName);
            activity.SetTag("rpc.method", binding.Method.Name);
        }

        var work = RunAsync(context, binding, call, deadlineCts.Token);
        if (timeout is null || await Task.WhenAny(work, WhenCancelled(deadlineCts.Token)) == work)
        {
            var status = await work;
            await sink.CompleteAsync(status, call.ResponseTrailers);
            return;
        }

        // Deadline passed while the handler still runs: answer now, then wait for the handler so the
        // HttpContext outlives every use of it. Its late writes fail because the sink is complete.
        await sink.CompleteAsync(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), new Metadata());
        await context.Response.CompleteAsync();
        await work;
    }

    async Task<Status> RunAsync(HttpContext context, GrpcMethodBinding binding, ServerCallContext call, CancellationToken deadlineToken)
    {
        try
        {
            var reader = context.Request.BodyReader;
            var max = options.Value.MaxReceiveMessageSize;
            var message = await Wire.ReadMessageAsync<IMessage>(reader, binding.RequestParser, max, call.CancellationToken)
                ?? throw new RpcException(StatusCode.Internal, "The request did not include a message.");
            if (await Wire.ReadMessageAsync<IMessage>(reader, binding.RequestParser, max, call.CancellationToken) is not null)
                throw new RpcException(StatusCode.Internal, "A unary or server-streaming request must carry exactly one message.");

            var service = context.RequestServices.GetRequiredService(binding.ServiceType);
            await binding.Invoke(service, message, call, SinkOf(call));
            return Status.DefaultSuccess;
        }
        catch (RpcException ex)
        {
            foreach (var entry in ex.Trailers)
            {
                if (entry.IsBinary) call.ResponseTrailers.Add(entry.Key, entry.ValueBytes ?? []);
                else call.ResponseTrailers.Add(entry.Key, entry.Value ?? "");
            }
            return ex.Status;
        }
        catch (Exception ex) when (call.CancellationToken.IsCancellationRequested && ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            return deadlineToken.IsCancellationRequested
                ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")
                : new Status(StatusCode.Cancelled, "Call canceled by the client.");
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "gRPC method {Method} failed", binding.Path);
            return new Status(StatusCode.Unknown, "Exception was thrown by handler.");
        }
    }

    static ResponseSink SinkOf(ServerCallContext call) => call.Sink;

    static Task WhenCancelled(CancellationToken token)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => tcs.TrySetResult());
        return tcs.Task;
    }
}
