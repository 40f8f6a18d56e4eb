using System.IO.Pipelines;
using ThrillSuite.Diagnostics.V1;

namespace ThrillSuite.Grpc.Tests;

public class WireTests
{
    [TestCase("100m", 100 * TimeSpan.TicksPerMillisecond)]
    [TestCase("3S", 3 * TimeSpan.TicksPerSecond)]
    [TestCase("2M", 2 * TimeSpan.TicksPerMinute)]
    [TestCase("1H", TimeSpan.TicksPerHour)]
    [TestCase("2500u", 25_000)]
    [TestCase("99999999n", 999_999)]
    public void Parses_grpc_timeout(string value, long ticks)
    {
        Assert.That(Wire.TryParseTimeout(value, out var t), Is.True);
        Assert.That(t.Ticks, Is.EqualTo(ticks));
    }

    [TestCase("")]
    [TestCase("m")]
    [TestCase("10x")]
    [TestCase("-5m")]
    [TestCase("123456789m")]
    public void Rejects_malformed_grpc_timeout(string value) =>
        Assert.That(Wire.TryParseTimeout(value, out _), Is.False);

    [Test]
    public void Formats_timeouts_within_eight_digits()
    {
        Assert.That(Wire.FormatTimeout(TimeSpan.FromMilliseconds(250)), Is.EqualTo("250m"));
        Assert.That(Wire.FormatTimeout(TimeSpan.FromDays(500)), Does.EndWith("S"));
        Assert.That(Wire.TryParseTimeout(Wire.FormatTimeout(TimeSpan.FromDays(500)), out var back), Is.True);
        Assert.That(back, Is.GreaterThanOrEqualTo(TimeSpan.FromDays(500)));
    }

    [TestCase("plain text", "plain text")]
    [TestCase("100%", "100%25")]
    [TestCase("ü✓\n", "%C3%BC%E2%9C%93%0A")]
    public void Percent_encodes_grpc_message(string text, string encoded)
    {
        Assert.That(Wire.EncodeMessage(text), Is.EqualTo(encoded));
        Assert.That(Wire.DecodeMessage(encoded), Is.EqualTo(text));
    }

    [Test]
    public async Task Reads_a_message_split_across_many_segments()
    {
        var frame = Wire.Frame(new EchoRequest { Message = "split", Payload = Google.Protobuf.ByteString.CopyFrom(new byte[1000]) });
        var pipe = new Pipe();
        var read = Wire.ReadMessageAsync<EchoRequest>(pipe.Reader, EchoRequest.Parser, 4096, CancellationToken.None);
        foreach (var chunk in frame.Chunk(7))
        {
            await pipe.Writer.WriteAsync(chunk);
        }
        await pipe.Writer.CompleteAsync();
        var message = await read;
        Assert.That(message!.Message, Is.EqualTo("split"));
        Assert.That(await Wire.ReadMessageAsync<EchoRequest>(pipe.Reader, EchoRequest.Parser, 4096, CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task Refuses_an_oversized_message_from_its_header_alone()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[] { 0, 0, 0x10, 0, 0 }); // declares 1 MiB, sends nothing more
        var ex = Assert.ThrowsAsync<RpcException>(async () =>
            await Wire.ReadMessageAsync<EchoRequest>(pipe.Reader, EchoRequest.Parser, 1024, CancellationToken.None));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task A_truncated_message_is_internal()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Wire.Frame(new EchoRequest { Message = "truncated" }).AsMemory(0, 8));
        await pipe.Writer.CompleteAsync();
        var ex = Assert.ThrowsAsync<RpcException>(async () =>
            await Wire.ReadMessageAsync<EchoRequest>(pipe.Reader, EchoRequest.Parser, 1024, CancellationToken.None));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Internal));
    }
}
