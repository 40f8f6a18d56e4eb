using System.Diagnostics;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace ThrillSuite.Grpc;

/// <summary>
/// Serialises everything written to one call's response: headers, messages, then status exactly once.
/// After the status is written (e.g. the deadline passed) further writes fail instead of corrupting the stream.
/// </summary>
internal sealed class ResponseSink(HttpContext context, int? maxSendMessageSize)
{
    readonly SemaphoreSlim gate = new(1, 1);
    bool headersWritten;
    bool completed;

    public bool IsCompleted => completed;

    public async Task WriteHeadersAsync(Metadata headers, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            if (headersWritten || completed) throw new InvalidOperationException("Response headers have already been written.");
            StartResponse(headers);
            await context.Response.BodyWriter.FlushAsync(ct);
        }
        finally { gate.Release(); }
    }

    public async Task WriteMessageAsync(IMessage message, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            if (completed) throw new InvalidOperationException("The call is already complete; the message cannot be written.");
            if (!headersWritten) StartResponse(null);
            Wire.WriteMessage(context.Response.BodyWriter, message, maxSendMessageSize);
            await context.Response.BodyWriter.FlushAsync(ct);
        }
        finally { gate.Release(); }
    }

    /// <summary>Writes the status (as trailers, or trailers-only when nothing was sent). Returns false if already complete.</summary>
    public async Task<bool> CompleteAsync(Status status, Metadata trailers)
    {
        await gate.WaitAsync();
        try
        {
            if (completed) return false;
            completed = true;
            var response = context.Response;
            Activity.Current?.SetTag("rpc.grpc.status_code", (int)status.StatusCode);
            if (!headersWritten && !response.HasStarted)
            {
                // Trailers-only response: the status travels in the one HEADERS frame.
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = Wire.ContentType;
                AppendStatus(status, trailers, (k, v) => response.Headers.Append(k, v));
            }
            else
            {
                AppendStatus(status, trailers, (k, v) => response.AppendTrailer(k, v));
            }
            return true;
        }
        finally { gate.Release(); }
    }

    void StartResponse(Metadata? headers)
    {
        headersWritten = true;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = Wire.ContentType;
        response.Headers["grpc-accept-encoding"] = "identity";
        if (headers is not null)
            foreach (var entry in headers)
                response.Headers.Append(entry.Key, Wire.HeaderValue(entry));
    }

    static void AppendStatus(Status status, Metadata trailers, Action<string, string> append)
    {
        append(Wire.StatusHeader, ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(status.Detail)) append(Wire.MessageHeader, Wire.EncodeMessage(status.Detail));
        foreach (var entry in trailers)
            append(entry.Key, Wire.HeaderValue(entry));
    }
}
