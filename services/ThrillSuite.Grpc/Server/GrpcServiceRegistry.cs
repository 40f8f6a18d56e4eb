using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ThrillSuite.Grpc;

/// <summary>
/// The methods this server answers, bound once at start-up from the protoc-generated service descriptors:
/// for each method of the descriptor the implementation must have a public method of the same name,
/// <c>Task&lt;TResponse&gt; M(TRequest, ServerCallContext)</c> for unary calls or
/// <c>Task M(TRequest, IServerStreamWriter&lt;TResponse&gt;, ServerCallContext)</c> for server streaming,
/// with the descriptor's message types. A mismatch stops start-up with a message naming the method.
/// </summary>
public sealed class GrpcServiceRegistry
{
    readonly Dictionary<string, GrpcMethodBinding> methods = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Paths => methods.Keys;

    internal bool TryGet(string? path, out GrpcMethodBinding binding) =>
        methods.TryGetValue(path ?? "", out binding!);

    public void Add<TService>(ServiceDescriptor service) where TService : class
    {
        foreach (var method in service.Methods)
        {
            var path = $"/{service.FullName}/{method.Name}";
            if (methods.ContainsKey(path)) throw new InvalidOperationException($"gRPC method {path} is registered twice.");
            methods[path] = Bind(typeof(TService), method, path);
        }
    }

    static GrpcMethodBinding Bind(Type serviceType, MethodDescriptor method, string path)
    {
        if (method.IsClientStreaming)
            throw new NotSupportedException($"gRPC method {path}: client and bidirectional streaming are not supported by ThrillSuite.Grpc.");
        var requestType = method.InputType.ClrType;
        var responseType = method.OutputType.ClrType;
        var candidates = serviceType.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.Name == method.Name).ToList();
        if (candidates.Count != 1)
            throw new InvalidOperationException(
                $"gRPC method {path}: {serviceType.Name} must have exactly one public method named {method.Name} (found {candidates.Count}).");
        var mi = candidates[0];
        var binder = method.IsServerStreaming ? nameof(BindServerStreaming) : nameof(BindUnary);
        var expected = method.IsServerStreaming
            ? $"Task {method.Name}({requestType.Name}, IServerStreamWriter<{responseType.Name}>, ServerCallContext)"
            : $"Task<{responseType.Name}> {method.Name}({requestType.Name}, ServerCallContext)";
        try
        {
            var invoke = (Func<object, IMessage, ServerCallContext, ResponseSink, Task>)typeof(GrpcServiceRegistry)
                .GetMethod(binder, BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(serviceType, requestType, responseType)
                .Invoke(null, [mi])!;
            return new GrpcMethodBinding(path, method, serviceType, method.InputType.Parser, invoke);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is ArgumentException)
        {
            throw new InvalidOperationException($"gRPC method {path}: {serviceType.Name}.{mi.Name} must be {expected}.", ex.InnerException);
        }
    }

    static Func<object, IMessage, ServerCallContext, ResponseSink, Task> BindUnary<TService, TRequest, TResponse>(MethodInfo mi)
        where TResponse : IMessage
    {
        var handler = mi.CreateDelegate<Func<TService, TRequest, ServerCallContext, Task<TResponse>>>();
        return async (service, request, call, sink) =>
        {
            var response = await handler((TService)service, (TRequest)request, call)
                ?? throw new InvalidOperationException($"{mi.Name} returned no response.");
            await sink.WriteMessageAsync(response, call.CancellationToken);
        };
    }

    static Func<object, IMessage, ServerCallContext, ResponseSink, Task> BindServerStreaming<TService, TRequest, TResponse>(MethodInfo mi)
        where TResponse : IMessage
    {
        var handler = mi.CreateDelegate<Func<TService, TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task>>();
        return (service, request, call, sink) => handler((TService)service, (TRequest)request, new StreamWriter<TResponse>(sink, call), call);
    }

    sealed class StreamWriter<T>(ResponseSink sink, ServerCallContext call) : IServerStreamWriter<T> where T : IMessage
    {
        public Task WriteAsync(T message, CancellationToken cancellationToken = default) =>
            sink.WriteMessageAsync(message, cancellationToken.CanBeCanceled ? cancellationToken : call.CancellationToken);
    }
}

internal sealed record GrpcMethodBinding(
    string Path,
    MethodDescriptor Method,
    Type ServiceType,
    MessageParser RequestParser,
    Func<object, IMessage, ServerCallContext, ResponseSink, Task> Invoke);
