using System.Diagnostics;
using Google.Protobuf.Reflection;
using Microsoft.Extensions.Hosting;
using ThrillSuite.Diagnostics.V1;

namespace ThrillSuite.Grpc.Diagnostics;

/// <summary>thrillsuite.diagnostics.v1.Diagnostics: a synthetic check of the gRPC path, for ops and tests.</summary>
public sealed class DiagnosticsService(IHostEnvironment environment)
{
    public static ServiceDescriptor Descriptor => DiagnosticsReflection.Descriptor.Services[0];
    public static MethodDescriptor EchoMethod => Descriptor.FindMethodByName("Echo");
    public static MethodDescriptor CountMethod => Descriptor.FindMethodByName("Count");

    const int MaxDelayMs = 60_000;
    const int MaxCount = 10_000;

    public async Task<EchoReply> Echo(EchoRequest request, ServerCallContext context)
    {
        if (request.DelayMs is < 0 or > MaxDelayMs)
            throw new RpcException(StatusCode.InvalidArgument, $"delay_ms must be within [0, {MaxDelayMs}].");
        if (request.DelayMs > 0) await Task.Delay(request.DelayMs, context.CancellationToken);
        if (request.FailWithStatus != 0)
        {
            if (!Enum.IsDefined((StatusCode)request.FailWithStatus))
                throw new RpcException(StatusCode.InvalidArgument, "fail_with_status is not a gRPC status code.");
            throw new RpcException((StatusCode)request.FailWithStatus, request.FailMessage);
        }

        var reply = new EchoReply
        {
            Message = request.Message,
            Payload = request.Payload,
            Service = environment.ApplicationName,
            TraceId = Activity.Current?.TraceId.ToString() ?? "",
        };
        foreach (var entry in context.RequestHeaders)
        {
            // Credentials are never echoed, only their presence.
            if (entry.Key == "authorization") reply.AuthorizationPresent = true;
            else if (entry.Key != "cookie")
                reply.Metadata[entry.Key] = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes ?? []) : entry.Value ?? "";
        }
        return reply;
    }

    public async Task Count(CountRequest request, IServerStreamWriter<CountReply> writer, ServerCallContext context)
    {
        if (request.Count is < 0 or > MaxCount)
            throw new RpcException(StatusCode.InvalidArgument, $"count must be within [0, {MaxCount}].");
        if (request.IntervalMs is < 0 or > MaxDelayMs)
            throw new RpcException(StatusCode.InvalidArgument, $"interval_ms must be within [0, {MaxDelayMs}].");
        for (var i = 0; i < request.Count; i++)
        {
            if (i > 0 && request.IntervalMs > 0) await Task.Delay(request.IntervalMs, context.CancellationToken);
            await writer.WriteAsync(new CountReply { Index = i });
        }
    }
}
