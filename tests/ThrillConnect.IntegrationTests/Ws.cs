using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace ThrillConnect.IntegrationTests;

/// <summary>One frame the server sent, parsed, with when it arrived (Environment.TickCount64).</summary>
public sealed record Frame(JsonElement Json, long At)
{
    public string Type => Json.GetProperty("msg_type").GetString()!;
    public string Name => Json.GetProperty("msg_name").GetString()!;
    public JsonElement Data => Json.GetProperty("data");

    /// <summary>The instance a JackpotUpdate (data.id), WinEvent or OptInEvent (data.instance_id) is about; null for others.</summary>
    public Guid? InstanceId =>
        Data.ValueKind == JsonValueKind.Object && Data.TryGetProperty(Name == "JackpotUpdate" ? "id" : "instance_id", out var id)
        && id.ValueKind == JsonValueKind.String && Guid.TryParse(id.GetString(), out var g) ? g : null;

    public bool Is(string name, Guid instance) => Name == name && InstanceId == instance;

    public override string ToString() => Json.GetRawText();
}

/// <summary>
/// A WebSocket client (System.Net.WebSockets.ClientWebSocket): a background loop collects the server's frames into a channel,
/// and the test awaits the next frame matching a predicate. Every frame read is kept, so a test can assert what did not
/// arrive before a later frame that must (<see cref="BarrierAsync"/>).
/// </summary>
public sealed class Ws : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);
    readonly ClientWebSocket socket = new();
    readonly Channel<Frame> inbox = Channel.CreateUnbounded<Frame>();
    readonly List<Frame> read = [];
    readonly TaskCompletionSource<(int Code, string Reason)> closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Task loop = Task.CompletedTask;

    /// <summary>Every frame read so far by <see cref="NextAsync"/> and friends, in arrival order.</summary>
    public IReadOnlyList<Frame> Read => read;

    public static string BaseUrl => $"ws://127.0.0.1:{Servers.ConnectPort}";

    public static string PlayerUrl(Player p, bool v1 = true, string? currency = null, int? port = null) =>
        $"ws://127.0.0.1:{port ?? Servers.ConnectPort}{(v1 ? "/v1" : "")}/events/{p.Operator}/{p.Brand}?token={Uri.EscapeDataString(p.Token)}&currency={currency ?? p.Currency}";

    public static string ServiceUrl(string token, bool v1 = true, int? port = null) =>
        $"ws://127.0.0.1:{port ?? Servers.ConnectPort}{(v1 ? "/v1" : "")}/events/service?token={Uri.EscapeDataString(token)}";

    public static Task<Ws> PlayerAsync(Player p, string? origin = null, bool v1 = true) => ConnectAsync(PlayerUrl(p, v1), origin);

    public static Task<Ws> ServiceAsync(string token, string? origin = null, bool v1 = true) => ConnectAsync(ServiceUrl(token, v1), origin);

    public static async Task<Ws> ConnectAsync(string url, string? origin = null)
    {
        var ws = new Ws();
        if (origin is not null) ws.socket.Options.SetRequestHeader("Origin", origin);
        using var cts = new CancellationTokenSource(DefaultTimeout);
        await ws.socket.ConnectAsync(new Uri(url), cts.Token);
        ws.loop = Task.Run(ws.ReceiveLoopAsync);
        return ws;
    }

    async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var r = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    closed.TrySetResult(((int)(socket.CloseStatus ?? 0), socket.CloseStatusDescription ?? ""));
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    // Completes the close handshake the server started.
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
                    return;
                }
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                var json = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                message.SetLength(0);
                inbox.Writer.TryWrite(new Frame(json, Environment.TickCount64));
            }
        }
        catch (Exception ex)
        {
            closed.TrySetResult((-1, $"client: {ex.GetType().Name}: {ex.Message}"));
        }
        finally
        {
            inbox.Writer.TryComplete();
        }
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public Task SendJsonAsync(object message) => SendAsync(JsonSerializer.Serialize(message));

    public async Task SendAsync(byte[] bytes, WebSocketMessageType type)
    {
        using var cts = new CancellationTokenSource(DefaultTimeout);
        await socket.SendAsync(bytes, type, endOfMessage: true, cts.Token);
    }

    /// <summary>Subscribes to thrillpots events of the given types; returns once the server has acted on it (no ack exists).</summary>
    public Task SubscribeAsync(params string[] types) => SubscribeToAsync("thrillpots", types);

    /// <summary>Subscribes to a source's events of the given types (thrillgate: the freebet events).</summary>
    public async Task SubscribeToAsync(string source, params string[] types)
    {
        await SendJsonAsync(new { SubscribeRequest = new { events = types.Select(t => new { source, event_type = t }).ToArray() } });
        await BarrierAsync();
    }

    /// <summary>Reads frames until one matches; fails the test on a timeout or when the socket closes first.</summary>
    public async Task<Frame> NextAsync(Func<Frame, bool> match, string what, TimeSpan? timeout = null) =>
        await TryNextAsync(match, timeout ?? DefaultTimeout) ?? throw new AssertionException(
            $"No frame {what} within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s{(closed.Task.IsCompleted ? $"; the socket closed {closed.Task.Result}" : "")}." +
            $" Last frames read:\n{string.Join("\n", read.TakeLast(10))}");

    /// <summary>
    /// The first frame read so far or still to come that matches: for frames whose order is not given (tickers of several
    /// instances, events from different consumers, a reply and the event it causes).
    /// </summary>
    public async Task<Frame> SeenAsync(Func<Frame, bool> match, string what, TimeSpan? timeout = null) =>
        read.FirstOrDefault(match) ?? await NextAsync(match, what, timeout);

    /// <summary>Reads frames until <paramref name="count"/> of those read match; returns them.</summary>
    public async Task<IReadOnlyList<Frame>> CountAsync(Func<Frame, bool> match, int count, string what)
    {
        if (read.Count(match) < count) await NextAsync(f => match(f) && read.Count(match) >= count, $"{what} ({count} of them)");
        return [.. read.Where(match)];
    }

    /// <summary>Reads frames until one matches (returned) or the time runs out or the socket closes (null).</summary>
    public async Task<Frame?> TryNextAsync(Func<Frame, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var frame = await inbox.Reader.ReadAsync(cts.Token);
                read.Add(frame);
                if (match(frame)) return frame;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>
    /// A request the server answers (an unknown one, with a request_id) after everything it had queued for this socket:
    /// once its answer is read, every frame sent before it has been read too. Returns all frames read so far.
    /// </summary>
    public async Task<IReadOnlyList<Frame>> BarrierAsync()
    {
        var id = "barrier-" + Guid.NewGuid().ToString("N")[..12];
        await SendJsonAsync(new Dictionary<string, object> { ["Barrier"] = new { request_id = id } });
        await NextAsync(f => f.Type == "Error" && f.Data.TryGetProperty("request_id", out var r) && r.GetString() == id, "answering the barrier " + id);
        return read;
    }

    /// <summary>After the barrier: no frame read so far (from the connection's start) matches.</summary>
    public async Task AssertNeverAsync(Func<Frame, bool> forbidden, string what)
    {
        var all = await BarrierAsync();
        Assert.That(all.Where(forbidden).Select(f => f.ToString()), Is.Empty, what);
    }

    /// <summary>The close code and reason the server closed with (code -1: the connection broke without a close frame).</summary>
    public async Task<(int Code, string Reason)> ClosedAsync(TimeSpan? timeout = null)
    {
        var within = timeout ?? DefaultTimeout;
        try
        {
            await closed.Task.WaitAsync(within);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The server did not close the socket within {within.TotalSeconds:0.#} s. Frames read:\n{string.Join("\n", read.TakeLast(10))}");
        }
        while (inbox.Reader.TryRead(out var frame)) read.Add(frame);
        return await closed.Task;
    }

    public bool IsOpen => socket.State == WebSocketState.Open && !closed.Task.IsCompleted;

    public async ValueTask DisposeAsync()
    {
        if (socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
                await closed.Task.WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException) { }
        }
        socket.Abort();
        await loop;
        socket.Dispose();
    }
}
