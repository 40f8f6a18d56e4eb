using System.Diagnostics;
using System.Net.WebSockets;

namespace ThrillConnect.Realtime;

public enum ConnectionKind { Player, Service }

/// <summary>
/// One socket: who it is (its scope), what it subscribed to, and its outbound queue. Frames are pre-serialised bytes
/// shared between connections. Tickers are coalesced in place (the newest JackpotUpdate of an instance replaces one still
/// waiting) and sent at most once a second per instance; other frames queue in order, bounded: a connection that lets
/// its queue fill is closed (4408) rather than allowed to hold memory or anyone else back.
/// </summary>
public sealed class Connection(WebSocket socket, ConnectionKind kind, string operatorId, string? brand, string? playerId, string? currency,
    Func<string, bool> mayRead)
{
    public const int MaxQueued = 256;
    public static readonly ActivitySource Source = new("ThrillSuite.ThrillConnect");
    static readonly TimeSpan TickerInterval = TimeSpan.FromSeconds(1);

    readonly Lock gate = new();
    // With each event frame, the trace it arrived in: its push is a span of that trace.
    readonly Queue<(ReadOnlyMemory<byte> Frame, string? Event, ActivityContext Trace)> queue = new();
    readonly Dictionary<Guid, (ReadOnlyMemory<byte> Frame, long Arrived)> tickers = [];
    // When the last ticker sent for an instance became due (not when it was sent): a send delayed by a busy moment
    // does not push every later ticker of the instance back by as much.
    readonly Dictionary<Guid, long> tickerDue = [];
    readonly HashSet<(string Source, string EventType)> subscriptions = [];
    readonly SemaphoreSlim signal = new(0, 1);
    bool overflowed;
    (WebSocketCloseStatus Status, string Reason)? closeRequest;

    public Guid Id { get; } = Guid.NewGuid();
    public WebSocket Socket { get; } = socket;
    public ConnectionKind Kind { get; } = kind;
    public string OperatorId { get; } = operatorId;
    /// <summary>The bare brand of a player connection.</summary>
    public string? Brand { get; } = brand;
    public string? BrandKey => Brand is null ? null : $"{OperatorId}:{Brand}";
    public string? PlayerId { get; } = playerId;
    public string? Currency { get; } = currency;
    public CancellationTokenSource Closing { get; } = new();

    /// <summary>Whether a service connection may read an owner's events (player connections read only their brand's).</summary>
    public bool MayRead(string ownerId) => mayRead(ownerId);

    public bool Subscribe(IEnumerable<(string Source, string EventType)> events)
    {
        lock (gate)
        {
            var before = subscriptions.Count;
            foreach (var e in events) subscriptions.Add(e);
            return subscriptions.Count != before;
        }
    }

    public bool Wants(string source, string eventType)
    {
        lock (gate) return subscriptions.Contains((source, eventType)) || subscriptions.Contains((source, "*"));
    }

    /// <summary>A frame in order; an event's (<paramref name="eventName"/>) push is traced under the current activity (its consume).</summary>
    public void Enqueue(ReadOnlyMemory<byte> frame, string? eventName = null)
    {
        lock (gate)
        {
            if (overflowed) return;
            if (queue.Count >= MaxQueued)
            {
                overflowed = true;
                queue.Clear();
                tickers.Clear();
            }
            else queue.Enqueue((frame, eventName, eventName is null ? default : Activity.Current?.Context ?? default));
        }
        Wake();
    }

    public void EnqueueTicker(Guid instanceId, ReadOnlyMemory<byte> frame)
    {
        lock (gate)
        {
            if (overflowed) return;
            tickers[instanceId] = (frame, Environment.TickCount64);
        }
        Wake();
    }

    /// <summary>Whether anything has asked this connection to close (a limit, the token's expiry, shutdown, the client).</summary>
    public bool CloseRequested
    {
        get { lock (gate) return closeRequest is not null; }
    }

    /// <summary>Closes after what is already queued (the send loop owns the socket's output).</summary>
    public void RequestClose(WebSocketCloseStatus status, string reason)
    {
        lock (gate) closeRequest ??= (status, reason);
        Wake();
    }

    void Wake()
    {
        try { signal.Release(); }
        catch (SemaphoreFullException) { }
    }

    /// <summary>Sends until the socket closes; a slow client only ever delays itself.</summary>
    public async Task SendLoopAsync(CancellationToken ct)
    {
        var batch = new List<(ReadOnlyMemory<byte> Frame, string? Event, ActivityContext Trace)>();
        while (!ct.IsCancellationRequested && Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            TimeSpan? wait = null;
            bool overflow;
            (WebSocketCloseStatus Status, string Reason)? close;
            lock (gate)
            {
                overflow = overflowed;
                close = closeRequest;
                while (queue.TryDequeue(out var frame)) batch.Add(frame);
                var now = Environment.TickCount64;
                foreach (var (instance, (frame, arrived)) in tickers.ToList())
                {
                    var due = tickerDue.TryGetValue(instance, out var last) ? last + (long)TickerInterval.TotalMilliseconds : arrived;
                    if (due <= now)
                    {
                        batch.Add((frame, null, default));
                        tickers.Remove(instance);
                        tickerDue[instance] = Math.Max(due, arrived);
                    }
                    else if (wait is null || TimeSpan.FromMilliseconds(due - now) < wait) wait = TimeSpan.FromMilliseconds(due - now);
                }
            }
            if (overflow)
            {
                await CloseAsync((WebSocketCloseStatus)4408, "408 too slow: the connection's queue overflowed");
                return;
            }
            if (Socket.State == WebSocketState.Open)
                foreach (var (frame, eventName, trace) in batch)
                {
                    using var activity = trace == default ? null : Source.StartActivity($"push {eventName}", ActivityKind.Producer, trace);
                    activity?.SetTag("network.protocol.name", "websocket");
                    activity?.SetTag("thrillconnect.event", eventName);
                    activity?.SetTag("thrillconnect.connection.id", Id.ToString());
                    if (PlayerId is not null) activity?.SetTag("thrillconnect.player_id", PlayerId);
                    await Socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, ct);
                }
            batch.Clear();
            if (close is { } c)
            {
                await CloseAsync(c.Status, c.Reason);
                return;
            }
            try
            {
                if (wait is { } w) await signal.WaitAsync(w, ct);
                else await signal.WaitAsync(ct);
            }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Only from the send loop, or before it runs.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseOutputAsync(status, reason, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
    }
}
