using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.Primitives;

namespace ThrillSuite.Grpc;

/// <summary>The gRPC-over-HTTP/2 wire rules (PROTOCOL-HTTP2.md): framing, timeouts, status text, metadata.</summary>
public static class Wire
{
    public const string ContentType = "application/grpc";
    public const int HeaderSize = 5;
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string TimeoutHeader = "grpc-timeout";

    public static bool IsGrpcContentType(string? contentType) =>
        contentType is not null
        && contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase)
        && (contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or ';');

    /// <summary>Reads one length-prefixed message; null at a clean end of stream.</summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(PipeReader reader, MessageParser parser, int maxSize, CancellationToken ct)
        where T : class, IMessage
    {
        var h = new byte[HeaderSize];
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (buffer.Length >= HeaderSize)
            {
                var header = buffer.Slice(0, HeaderSize);
                header.CopyTo(h);
                var length = BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(1));
                if (length > (uint)maxSize)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.ResourceExhausted,
                        $"Received message larger than max ({length} vs. {maxSize})");
                }
                if (h[0] != 0)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.Unimplemented, "Compressed messages are not supported (grpc-encoding identity only).");
                }
                if (buffer.Length >= HeaderSize + length)
                {
                    var payload = buffer.Slice(HeaderSize, length);
                    T message;
                    try
                    {
                        message = (T)parser.ParseFrom(payload);
                    }
                    catch (InvalidProtocolBufferException ex)
                    {
                        reader.AdvanceTo(payload.End);
                        throw new RpcException(StatusCode.Internal, $"Failed to deserialize message: {ex.Message}");
                    }
                    reader.AdvanceTo(payload.End);
                    return message;
                }
            }
            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                if (buffer.Length == 0) return null;
                throw new RpcException(StatusCode.Internal, "Incomplete message.");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Writes one length-prefixed, uncompressed message.</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, IMessage message, int? maxSize = null)
    {
        var size = message.CalculateSize();
        if (maxSize is { } max && size > max)
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {max})");
        var span = writer.GetSpan(HeaderSize + size);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)size);
        message.WriteTo(span.Slice(HeaderSize, size));
        writer.Advance(HeaderSize + size);
    }

    public static byte[] Frame(IMessage message, int? maxSize = null)
    {
        var buffer = new ArrayBufferWriter<byte>(HeaderSize + message.CalculateSize());
        WriteMessage(buffer, message, maxSize);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>grpc-timeout: at most 8 digits and a unit (H M S m u n).</summary>
    public static bool TryParseTimeout(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9) return false;
        if (!long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return false;
        var ticks = value[^1] switch
        {
            'H' => n * TimeSpan.TicksPerHour,
            'M' => n * TimeSpan.TicksPerMinute,
            'S' => n * TimeSpan.TicksPerSecond,
            'm' => n * TimeSpan.TicksPerMillisecond,
            'u' => n * 10,
            'n' => n / 100,
            _ => -1,
        };
        if (ticks < 0) return false;
        timeout = TimeSpan.FromTicks(ticks);
        return true;
    }

    public static string FormatTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero) timeout = TimeSpan.Zero;
        var ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
        if (ms < 100_000_000) return ms.ToString(CultureInfo.InvariantCulture) + "m";
        var s = (long)Math.Ceiling(timeout.TotalSeconds);
        if (s < 100_000_000) return s.ToString(CultureInfo.InvariantCulture) + "S";
        return Math.Min((long)Math.Ceiling(timeout.TotalHours), 99_999_999).ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>grpc-message is percent-encoded UTF-8: bytes outside 0x20–0x7E and '%' itself.</summary>
    public static string EncodeMessage(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    public static string DecodeMessage(string? encoded)
    {
        if (string.IsNullOrEmpty(encoded)) return "";
        if (!encoded.Contains('%')) return encoded;
        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%' && i + 2 < encoded.Length
                && byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else bytes.Add((byte)encoded[i]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Headers that carry the protocol itself, never surfaced as call metadata.</summary>
    public static bool IsReservedHeader(string name) =>
        name.StartsWith(':')
        || name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("te", StringComparison.OrdinalIgnoreCase)
        || name.Equals("host", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-length", StringComparison.OrdinalIgnoreCase);

    public static void AddToMetadata(Metadata metadata, string name, StringValues values)
    {
        if (IsReservedHeader(name)) return;
        var key = name.ToLowerInvariant();
        foreach (var value in values)
        {
            if (value is null) continue;
            if (key.EndsWith(Metadata.BinarySuffix, StringComparison.Ordinal)) metadata.Add(key, DecodeBase64(value));
            else metadata.Add(key, value);
        }
    }

    public static string HeaderValue(Metadata.Entry entry) =>
        entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes ?? []) : entry.Value ?? "";

    static byte[] DecodeBase64(string value)
    {
        // gRPC peers may omit base64 padding.
        var padded = value.Length % 4 == 0 ? value : value + new string('=', 4 - value.Length % 4);
        try { return Convert.FromBase64String(padded); }
        catch (FormatException) { return []; }
    }

    /// <summary>The status a client infers from a non-200 HTTP response (gRPC's http-grpc-status-mapping.md).</summary>
    public static StatusCode FromHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
