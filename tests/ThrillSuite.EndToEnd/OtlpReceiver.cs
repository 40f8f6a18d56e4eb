using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using OpenTelemetry.Proto.Resource.V1;

namespace ThrillSuite.EndToEnd;

/// <summary>A span as exported; <see cref="Kind"/> is OTLP's SpanKind (1 internal, 2 server, 3 client, 4 producer, 5 consumer).</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, object> Attributes)
{
    public string? Tag(string key) => Attributes.TryGetValue(key, out var v) ? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) : null;
    public override string ToString() => $"{Service}:{Name}:{Kind}[{string.Join(",", Attributes.Select(a => $"{a.Key}={a.Value}"))}]";
}

/// <summary>
/// One data point of a metric as exported (<see cref="Type"/>: counter, updowncounter, gauge or histogram): a sum's or gauge's
/// value, or a histogram's count and sum. Counters and
/// histograms are cumulative here (the SDK's default), so the latest point of a series is its total so far.
/// </summary>
public sealed record ReceivedPoint(string Service, string Metric, string Type, string Unit, IReadOnlyDictionary<string, object> Attributes,
    double Value, ulong Count, DateTime Time)
{
    public string? Tag(string key) => Attributes.TryGetValue(key, out var v) ? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) : null;
}

/// <summary>
/// An OTLP/HTTP (protobuf) collector inside the test: the services export to it exactly as they would to a real collector,
/// and the test reads back which services exported which signals, the spans with their attributes, and the metrics' data
/// points. The messages are generated from the OTLP protos in protos/opentelemetry.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    readonly WebApplication app;
    public ConcurrentBag<ReceivedSpan> Spans { get; } = [];
    public ConcurrentBag<ReceivedPoint> Points { get; } = [];
    /// <summary>Every export received: (signal: traces, metrics or logs; the exporting service).</summary>
    public ConcurrentBag<(string Signal, string Service)> Exports { get; } = [];
    public string Endpoint { get; }

    OtlpReceiver(WebApplication app, string endpoint)
    {
        this.app = app;
        Endpoint = endpoint;
    }

    public static async Task<OtlpReceiver> StartAsync()
    {
        var port = TestEnvironment.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1AndHttp2));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, $"http://127.0.0.1:{port}");
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            body.Position = 0;
            byte[] response = signal switch
            {
                "traces" => receiver.Receive(ExportTraceServiceRequest.Parser.ParseFrom(body), new ExportTraceServiceResponse()),
                "metrics" => receiver.Receive(ExportMetricsServiceRequest.Parser.ParseFrom(body), new ExportMetricsServiceResponse()),
                "logs" => receiver.Receive(ExportLogsServiceRequest.Parser.ParseFrom(body), new ExportLogsServiceResponse()),
                _ => [],
            };
            return Results.Bytes(response, "application/x-protobuf");
        });
        await app.StartAsync();
        return receiver;
    }

    byte[] Receive(ExportTraceServiceRequest request, IMessage response)
    {
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var service = ServiceName(resourceSpans.Resource);
            Exports.Add(("traces", service));
            foreach (var span in resourceSpans.ScopeSpans.SelectMany(s => s.Spans))
                Spans.Add(new ReceivedSpan(service, Hex(span.TraceId), Hex(span.SpanId), Hex(span.ParentSpanId), span.Name, (int)span.Kind,
                    Attributes(span.Attributes)));
        }
        return response.ToByteArray();
    }

    byte[] Receive(ExportMetricsServiceRequest request, IMessage response)
    {
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var service = ServiceName(resourceMetrics.Resource);
            Exports.Add(("metrics", service));
            foreach (var metric in resourceMetrics.ScopeMetrics.SelectMany(s => s.Metrics))
            {
                var (type, numbers) = metric.DataCase switch
                {
                    Metric.DataOneofCase.Sum => (metric.Sum.IsMonotonic ? "counter" : "updowncounter", metric.Sum.DataPoints),
                    Metric.DataOneofCase.Gauge => ("gauge", metric.Gauge.DataPoints),
                    _ => ("", null),
                };
                foreach (var p in numbers ?? [])
                    Points.Add(new ReceivedPoint(service, metric.Name, type, metric.Unit, Attributes(p.Attributes),
                        p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? p.AsInt : p.AsDouble, 0, Time(p.TimeUnixNano)));
                if (metric.DataCase == Metric.DataOneofCase.Histogram)
                    foreach (var p in metric.Histogram.DataPoints)
                        Points.Add(new ReceivedPoint(service, metric.Name, "histogram", metric.Unit, Attributes(p.Attributes), p.Sum, p.Count,
                            Time(p.TimeUnixNano)));
            }
        }
        return response.ToByteArray();
    }

    byte[] Receive(ExportLogsServiceRequest request, IMessage response)
    {
        foreach (var resourceLogs in request.ResourceLogs) Exports.Add(("logs", ServiceName(resourceLogs.Resource)));
        return response.ToByteArray();
    }

    static string ServiceName(Resource? resource) =>
        resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value?.StringValue ?? "";

    static Dictionary<string, object> Attributes(IEnumerable<KeyValue> attributes) =>
        attributes.Where(a => a.Value is not null).ToDictionary(a => a.Key, a => Value(a.Value));

    static object Value(AnyValue v) => v.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => v.StringValue,
        AnyValue.ValueOneofCase.IntValue => v.IntValue,
        AnyValue.ValueOneofCase.BoolValue => v.BoolValue,
        AnyValue.ValueOneofCase.DoubleValue => v.DoubleValue,
        AnyValue.ValueOneofCase.ArrayValue => string.Join(",", v.ArrayValue.Values.Select(Value)),
        _ => v.ToString(),
    };

    static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.Span);

    static DateTime Time(ulong unixNanos) => DateTime.UnixEpoch.AddTicks((long)(unixNanos / 100));

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
