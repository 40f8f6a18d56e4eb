using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace ThrillSuite.EndToEnd;

public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind);

/// <summary>
/// An OTLP/HTTP (protobuf) collector inside the test: the services export to it exactly as they would to a
/// real collector, and the test reads back which services exported which signals, and the spans. Only the fields the tests read are decoded
/// (opentelemetry-proto: ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    readonly WebApplication app;
    public ConcurrentBag<ReceivedSpan> Spans { get; } = [];
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
            receiver.Decode(signal, body.ToArray());
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return receiver;
    }

    // Traces, metrics and logs requests share their outer shape: field 1 holds Resource{Spans,Metrics,Logs},
    // whose field 1 is the Resource with the service.name attribute.
    void Decode(string signal, byte[] request)
    {
        foreach (var resourceSignal in Fields(request, 1))
        {
            var service = "";
            foreach (var resource in Fields(resourceSignal, 1))
            foreach (var attribute in Fields(resource, 1))
                if (String(attribute, 1) == "service.name")
                    service = Fields(attribute, 2).Select(v => String(v, 1)).FirstOrDefault() ?? "";
            Exports.Add((signal, service));
            if (signal != "traces") continue;
            foreach (var scopeSpans in Fields(resourceSignal, 2))
            foreach (var span in Fields(scopeSpans, 2))
                Spans.Add(new ReceivedSpan(service, Hex(span, 1), Hex(span, 2), Hex(span, 4), String(span, 5), (int)Varint(span, 6)));
        }
    }

    static IEnumerable<byte[]> Fields(byte[] message, int field)
    {
        var input = new CodedInputStream(message);
        var found = new List<byte[]>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                found.Add(input.ReadBytes().ToByteArray());
            else input.SkipLastField();
        }
        return found;
    }

    static string String(byte[] message, int field) =>
        Fields(message, field).Select(b => System.Text.Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";

    static string Hex(byte[] message, int field) =>
        Fields(message, field).Select(Convert.ToHexStringLower).FirstOrDefault() ?? "";

    static ulong Varint(byte[] message, int field)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint) return input.ReadUInt64();
            input.SkipLastField();
        }
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
