namespace ThrillSuite.Contracts;

/// <summary>A synthetic probe crossed HTTP and gRPC and is now announced over RabbitMQ (ops canary, E2E tests).</summary>
public sealed record DiagnosticProbeCompleted(Guid ProbeId, string Origin, string EchoedBy, string TraceId, DateTimeOffset CompletedAt);
