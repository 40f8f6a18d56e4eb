using System.Diagnostics;
using System.Text.Json;
using Dapper;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;
using ThrillSuite.Contracts;
using ThrillSuite.Data.Inbox;
using ThrillSuite.Data.Outbox;
using ThrillSuite.Diagnostics.V1;
using ThrillSuite.Grpc;
using ThrillSuite.Grpc.Diagnostics;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

namespace ThrillSuite.ServiceDefaults.Diagnostics;

/// <summary>
/// A synthetic probe over the suite's real paths (ops canary): HTTP in, a gRPC call to the configured target,
/// a state change with its outbox row, RabbitMQ out to every service, each recording receipt with its trace id.
/// Enabled by Diagnostics:Enabled; a probe changes nothing but the diagnostic_probes table.
/// </summary>
public static class DiagnosticProbeEndpoints
{
    public sealed record ProbeSent(Guid ProbeId, string TraceId, string EchoedBy, string EchoTraceId);
    public sealed record ProbeRecord(string Role, string TraceId, JsonElement Detail, DateTimeOffset RecordedAt);
    public sealed record ProbeRecords(Guid ProbeId, IReadOnlyList<ProbeRecord> Records);

    public static void MapDiagnosticProbes(this WebApplication app)
    {
        var group = app.MapGroup("/diagnostics/probes").WithTags("Diagnostics");
        group.MapPost("", SendAsync);
        group.MapGet("/{probeId:guid}", GetAsync);
    }

    static async Task<IResult> SendAsync(ServiceSettings settings, GrpcClients clients, NpgsqlDataSource db, CancellationToken ct)
    {
        if (settings.ProbeTarget is not { } target)
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "This service sends no probes",
                detail: "Diagnostics:ProbeTarget names no gRPC client of this service.");
        var probeId = Guid.CreateVersion7();
        var traceId = Activity.Current?.TraceId.ToString() ?? "";
        EchoReply reply;
        try
        {
            reply = await clients.Get(target).UnaryAsync<EchoReply>(DiagnosticsService.EchoMethod,
                new EchoRequest { Message = probeId.ToString() }, CallOptions.WithTimeout(TimeSpan.FromSeconds(5), ct: ct));
        }
        catch (RpcException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The probe's gRPC hop failed",
                detail: $"{target} answered {ex.StatusCode}: {ex.Status.Detail}");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        const string sql = """
            insert into diagnostic_probes (probe_id, role, trace_id, detail)
            values (@probeId, 'sent', @traceId, cast(@detail as jsonb))
            """;
        var detail = JsonSerializer.Serialize(new { target, echoed_by = reply.Service, echo_trace_id = reply.TraceId });
        await connection.ExecuteAsync(new CommandDefinition(sql, new { probeId, traceId, detail }, tx, cancellationToken: ct));
        await Outbox.EnqueueAsync(tx, new DiagnosticProbeCompleted(probeId, settings.Name, reply.Service, traceId, DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/diagnostics/probes/{probeId}", new ProbeSent(probeId, traceId, reply.Service, reply.TraceId));
    }

    static async Task<IResult> GetAsync(Guid probeId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        const string sql = """
            select role, trace_id, detail::text as detail, recorded_at
            from diagnostic_probes where probe_id = @probeId order by recorded_at
            """;
        var rows = await connection.QueryAsync<(string Role, string TraceId, string Detail, DateTime RecordedAt)>(
            new CommandDefinition(sql, new { probeId }, cancellationToken: ct));
        var records = rows.Select(r => new ProbeRecord(r.Role, r.TraceId, JsonDocument.Parse(r.Detail).RootElement,
            new DateTimeOffset(DateTime.SpecifyKind(r.RecordedAt, DateTimeKind.Utc)))).ToList();
        return records.Count == 0
            ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown probe", detail: $"No record of probe {probeId} here.")
            : Results.Ok(new ProbeRecords(probeId, records));
    }
}

/// <summary>Records that this service received a probe over RabbitMQ, with the trace id of its consume span.</summary>
public sealed class DiagnosticProbeReceiver(NpgsqlDataSource db, ILogger<DiagnosticProbeReceiver> logger)
    : IdempotentConsumer<DiagnosticProbeCompleted>(db, logger)
{
    protected override Task HandleAsync(ConsumeContext<DiagnosticProbeCompleted> context, NpgsqlTransaction transaction)
    {
        var m = context.Message;
        const string sql = """
            insert into diagnostic_probes (probe_id, role, trace_id, detail)
            values (@ProbeId, 'received', @traceId, cast(@detail as jsonb))
            """;
        var detail = JsonSerializer.Serialize(new { origin = m.Origin, echoed_by = m.EchoedBy, sent_trace_id = m.TraceId, message_id = context.MessageId });
        return transaction.Connection!.ExecuteAsync(new CommandDefinition(sql,
            new { m.ProbeId, traceId = Activity.Current?.TraceId.ToString() ?? "", detail }, transaction, cancellationToken: context.CancellationToken));
    }
}
