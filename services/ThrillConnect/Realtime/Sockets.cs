using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using ThrillConnect.Cors;
using ThrillConnect.Rest;
using ThrillSuite.Grpc;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;
using GateProto = ThrillSuite.Gate.V1;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillConnect.Realtime;

/// <summary>
/// The WebSocket endpoints (spec §2.3, README "WebSocket"): authenticate, check the Origin, then run the connection's send
/// loop (its queue) and receive loop (client requests) until either side closes. A refused connection is accepted and
/// closed with a 44xx code whose reason starts with the HTTP status it stands for, because a browser cannot read the
/// status of a refused upgrade.
/// </summary>
public static class Sockets
{
    public const int MaxMessageBytes = 16 * 1024;
    public const int SoftMessagesPerSecond = 20, HardMessagesPerSecond = 40;
    public const string ReadPermissionResource = "events";

    static readonly Meter Meter = new("ThrillSuite.ThrillConnect");
    static readonly Counter<long> Opened = Meter.CreateCounter<long>("thrillconnect.connections.opened");
    static readonly Counter<long> Refused = Meter.CreateCounter<long>("thrillconnect.connections.refused");

    static readonly Google.Protobuf.Reflection.MethodDescriptor AuthenticatePlayerMethod = GateProto.GateReflection.Descriptor
        .FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("Wallets").FindMethodByName("AuthenticatePlayer");

    public static void MapSockets(this WebApplication app)
    {
        var hub = app.Services.GetRequiredService<Hub>();
        Meter.CreateObservableGauge("thrillconnect.connections", () => hub.Count);
        app.Lifetime.ApplicationStopping.Register(() => hub.CloseAll(WebSocketCloseStatus.EndpointUnavailable, "going away"));
        foreach (var prefix in new[] { "", "/v1" })
        {
            app.Map(prefix + "/events/service", ServiceAsync).WithTags("Events");
            app.Map(prefix + "/events/{operatorId}/{brandId}", PlayerAsync).WithTags("Events");
        }
    }

    static async Task PlayerAsync(HttpContext http, string operatorId, string brandId, Hub hub, CorsRules cors, GrpcClients grpc,
        Jackpots jackpots, ILoggerFactory logs)
    {
        if (await AcceptAsync(http) is not { } socket) return;
        var token = http.Request.Query["token"].ToString();
        var currency = http.Request.Query["currency"].ToString();
        if (!Ids.IsValid(operatorId) || !Ids.IsValid(brandId))
            await RefuseAsync(socket, 4400, "400 operator_id and brand_id: " + Ids.Rule);
        else if (token.Length is 0 or > 4096)
            await RefuseAsync(socket, 4400, "400 token: the player's session token is required");
        else if (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper))
            await RefuseAsync(socket, 4400, "400 currency: the player's wallet currency, an ISO 4217 code such as EUR");
        else if (await OriginRefusalAsync(http, cors, [$"{operatorId}:{brandId}"]) is { } refusal)
            await RefuseAsync(socket, 4403, refusal);
        else
        {
            GateProto.Player player;
            try
            {
                player = await grpc.Get("thrillgate").UnaryAsync<GateProto.Player>(AuthenticatePlayerMethod, new GateProto.AuthenticatePlayerRequest
                {
                    OperatorId = operatorId, BrandId = brandId, PlayerToken = token, Currency = currency,
                }, CallOptions.WithTimeout(TimeSpan.FromSeconds(10), ct: http.RequestAborted));
            }
            catch (RpcException ex)
            {
                var (code, reason) = ex.StatusCode switch
                {
                    StatusCode.Unauthenticated => (4401, "401 " + ex.Status.Detail),
                    StatusCode.NotFound => (4404, $"404 no wallet is configured for {operatorId}:{brandId}"),
                    StatusCode.InvalidArgument => (4400, "400 " + ex.Status.Detail),
                    _ => (1011, "server error: the player cannot be authenticated now; reconnect later"),
                };
                if (code == 1011) logs.CreateLogger(typeof(Sockets)).LogWarning("AuthenticatePlayer failed: {Status} {Detail}", ex.StatusCode, ex.Status.Detail);
                await RefuseAsync(socket, code, reason);
                return;
            }
            var connection = new Connection(socket, ConnectionKind.Player, operatorId, brandId, player.Id, currency, _ => false);
            await RunAsync(connection, hub, jackpots, http.RequestAborted, expires: null);
        }
    }

    static async Task ServiceAsync(HttpContext http, Hub hub, CorsRules cors, ServiceSettings settings, ISigningKeySource keys, Jackpots jackpots)
    {
        if (await AcceptAsync(http) is not { } socket) return;
        var token = http.Request.Query["token"].ToString();
        if (token.Length is 0 or > 8192)
        {
            await RefuseAsync(socket, 4400, "400 token: a Thrill-ID access token is required");
            return;
        }
        var result = await ServiceTokens.ValidateTokenAsync(token, new TokenValidationSettings(settings.Auth!.Issuer, settings.Auth.Audiences).Parameters(keys));
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            await RefuseAsync(socket, 4401, "401 the token is not a valid Thrill-ID access token (signature, issuer, audience, lifetime)");
            return;
        }
        var user = new ClaimsPrincipal(result.ClaimsIdentity);
        if (!user.HasPermission(CorsEndpoints.System, ReadPermissionResource, write: false) || user.OrgId() is not { } org)
        {
            await RefuseAsync(socket, 4401, "401 the token does not grant thrillconnect:events:read");
            return;
        }
        var readable = (IReadOnlyList<string>)[org, .. user.UnitIds().Select(u => $"{org}:{u}"), .. user.BoundUnit() is { } b ? [$"{org}:{b}"] : Array.Empty<string>()];
        if (await OriginRefusalAsync(http, cors, readable.Where(user.CanActFor).ToList()) is { } refusal)
        {
            await RefuseAsync(socket, 4403, refusal);
            return;
        }
        var connection = new Connection(socket, ConnectionKind.Service, org, null, null, null, owner => MayRead(user, owner));
        await RunAsync(connection, hub, jackpots, http.RequestAborted, jwt.ValidTo);
    }

    static readonly CachingTokenHandler ServiceTokens = new() { MapInboundClaims = false };

    /// <summary>An organisation-level account reads all its brands; a brand account, its brand; nobody another organisation's.</summary>
    public static bool MayRead(ClaimsPrincipal user, string ownerId)
    {
        if (user.CanActFor(ownerId)) return true;
        var (org, unit) = Permissions.ParseOwner(ownerId);
        return unit is not null && user.BoundUnit() is null && user.OrgId() == org;
    }

    static async Task<WebSocket?> AcceptAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(statusCode: StatusCodes.Status426UpgradeRequired, title: "Upgrade Required",
                detail: "This is a WebSocket endpoint: connect with a WebSocket client (Connection: Upgrade, Upgrade: websocket).").ExecuteAsync(http);
            return null;
        }
        return await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.FromSeconds(30) });
    }

    /// <summary>A browser (Origin header) must come from an origin on the allow-list of one of the owners; servers send none.</summary>
    static async Task<string?> OriginRefusalAsync(HttpContext http, CorsRules cors, IReadOnlyList<string> owners)
    {
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length == 0) return null;
        foreach (var owner in owners)
            if (await cors.AllowsAsync(owner, origin, http.RequestAborted)) return null;
        return $"403 origin {Truncate(origin, 60)} is not allowed";
    }

    static async Task RefuseAsync(WebSocket socket, int code, string reason)
    {
        Refused.Add(1, new KeyValuePair<string, object?>("code", code));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            // A close reason is at most 123 bytes.
            await socket.CloseOutputAsync((WebSocketCloseStatus)code, Truncate(reason, 120), timeout.Token);
            await DrainAsync(socket, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { }
    }

    static async Task DrainAsync(WebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[256];
        while (socket.State is WebSocketState.CloseSent or WebSocketState.Open)
        {
            var r = await socket.ReceiveAsync(buffer, ct);
            if (r.MessageType == WebSocketMessageType.Close) return;
        }
    }

    static async Task RunAsync(Connection c, Hub hub, Jackpots jackpots, CancellationToken aborted, DateTime? expires)
    {
        Opened.Add(1, new KeyValuePair<string, object?>("kind", c.Kind.ToString()));
        if (hub.Stopping)
        {
            await c.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "going away");
            return;
        }
        hub.Add(c);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, c.Closing.Token);
        using var expiry = expires is { } at ? new Timer(_ => c.RequestClose((WebSocketCloseStatus)4401, "401 the token expired: reconnect with a new one"),
            null, Max(at - DateTime.UtcNow), Timeout.InfiniteTimeSpan) : null;
        try
        {
            var sending = c.SendLoopAsync(linked.Token);
            var receiving = new Requests(c, hub, jackpots).ReceiveLoopAsync(linked.Token);
            // Whichever side starts the close, the other gets a moment to finish the handshake (the send loop sends our close
            // frame; the receive loop reads the client's), then both stop.
            await Task.WhenAny(sending, receiving);
            await Task.WhenAny(Task.WhenAll(sending, receiving), Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
            await c.Closing.CancelAsync();
            await Task.WhenAll(Quiet(sending), Quiet(receiving));
        }
        finally
        {
            hub.Remove(c);
        }
    }

    static TimeSpan Max(TimeSpan t) => t < TimeSpan.Zero ? TimeSpan.Zero : t;

    static async Task Quiet(Task t)
    {
        try { await t; }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    /// <summary>The client → server side of one connection: framing limits, rate limits, and the requests of spec §2.5–2.6.</summary>
    sealed class Requests(Connection c, Hub hub, Jackpots jackpots)
    {
        long windowStart = Environment.TickCount64;
        int inWindow;

        public async Task ReceiveLoopAsync(CancellationToken ct)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(MaxMessageBytes);
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    var length = 0;
                    ValueWebSocketReceiveResult r;
                    do
                    {
                        if (length == MaxMessageBytes)
                        {
                            c.RequestClose(WebSocketCloseStatus.MessageTooBig, $"message too big: at most {MaxMessageBytes} bytes");
                            length = 0;
                        }
                        r = await c.Socket.ReceiveAsync(buffer.AsMemory(length, MaxMessageBytes - length), ct);
                        length += r.Count;
                    } while (!r.EndOfMessage && r.MessageType != WebSocketMessageType.Close);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        c.RequestClose(WebSocketCloseStatus.NormalClosure, "");
                        return;
                    }
                    // Once anything has asked to close (a limit, the token's expiry, shutdown), what the client still sends is
                    // read and dropped until its close frame: a socket closed with unread data is reset, and the reset can
                    // overtake our close frame, so the client would see a broken connection instead of the code saying why
                    // (RunAsync bounds the wait).
                    if (c.CloseRequested) continue;
                    // Past the hard limit the connection is closing; past the soft one only this message is dropped.
                    if (!Allowed()) continue;
                    if (r.MessageType != WebSocketMessageType.Text)
                    {
                        Error("InvalidMessage", "invalid_message", "Messages are JSON text frames.", null);
                        continue;
                    }
                    await HandleAsync(buffer.AsMemory(0, length), ct);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                // However reading ended (close frame, error, a limit), the send loop closes our side.
                c.RequestClose(WebSocketCloseStatus.NormalClosure, "");
            }
        }

        /// <summary>Past the soft limit a message is answered with an Error and not acted on; past the hard limit the connection closes.</summary>
        bool Allowed()
        {
            var now = Environment.TickCount64;
            if (now - windowStart >= 1000)
            {
                windowStart = now;
                inWindow = 0;
            }
            inWindow++;
            if (inWindow > HardMessagesPerSecond)
            {
                c.RequestClose((WebSocketCloseStatus)4429, $"429 more than {HardMessagesPerSecond} messages a second");
                return false;
            }
            if (inWindow > SoftMessagesPerSecond)
            {
                Error("RateLimited", "rate_limited", $"At most {SoftMessagesPerSecond} messages a second; this one was not acted on.", null);
                return false;
            }
            return true;
        }

        async Task HandleAsync(ReadOnlyMemory<byte> message, CancellationToken ct)
        {
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(message, new JsonDocumentOptions { MaxDepth = 16 });
            }
            catch (JsonException)
            {
                Error("InvalidMessage", "invalid_message", "The message is not JSON.", null);
                return;
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Count() != 1)
                {
                    Error("InvalidMessage", "invalid_message", "A message is an object with one member naming the request, e.g. {\"SubscribeRequest\": {…}}.", null);
                    return;
                }
                var request = root.EnumerateObject().First();
                var body = request.Value;
                var requestId = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("request_id", out var rid) && rid.ValueKind == JsonValueKind.String
                    && rid.GetString()!.Length <= 64 ? rid.GetString() : null;
                if (body.ValueKind != JsonValueKind.Object)
                {
                    Error(request.Name, "invalid_request", $"{request.Name}'s value must be an object.", null);
                    return;
                }
                switch (request.Name)
                {
                    case "SubscribeRequest":
                        await SubscribeAsync(body);
                        break;
                    case "PlayerOptInRequest":
                    case "PlayerOptInRequestV2":
                        await OptInAsync(request.Name, body, requestId, ct);
                        break;
                    case "PlayerRaffleTicketsRequest":
                        await RaffleTicketsAsync(request.Name, body, requestId, ct);
                        break;
                    default:
                        Error("InvalidMessage", "unknown_message",
                            $"Unknown request '{Truncate(request.Name, 64)}': SubscribeRequest, PlayerOptInRequest, PlayerOptInRequestV2, PlayerRaffleTicketsRequest.", requestId);
                        break;
                }
            }
        }

        static readonly Dictionary<string, HashSet<string>> EventTypes = new(StringComparer.Ordinal)
        {
            [Hub.Source] = ["*", "JackpotUpdate", "WinEvent", "OptInEvent", "RaffleWinEvent"],
            [Hub.GateSource] = ["*", "PlayerBonusAdded", "PlayerBonusRemoved", "PlayerBonusUpdated", "PlayerBonusConsumed", "PlayerBonusExpired"],
        };

        const string KnownEvents = "source thrillpots with event_type *, JackpotUpdate, WinEvent, OptInEvent or RaffleWinEvent; " +
            "source thrillgate with event_type *, PlayerBonusAdded, PlayerBonusRemoved, PlayerBonusUpdated, PlayerBonusConsumed or PlayerBonusExpired";

        async Task SubscribeAsync(JsonElement body)
        {
            if (!body.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array || events.GetArrayLength() is 0 or > 32)
            {
                Error("SubscribeRequest", "invalid_request", "events: an array of 1-32 { source, event_type }.", null);
                return;
            }
            var wanted = new List<(string, string)>();
            foreach (var e in events.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object || Text(e, "source") is not { } source || Text(e, "event_type") is not { } type)
                {
                    Error("SubscribeRequest", "invalid_request", $"events[]: {{ \"source\", \"event_type\" }}: {KnownEvents}.", null);
                    return;
                }
                if (!EventTypes.TryGetValue(source, out var types) || !types.Contains(type))
                {
                    Error("SubscribeRequest", "invalid_request", $"Unknown event {Truncate(source, 32)}/{Truncate(type, 32)}: {KnownEvents}.", null);
                    return;
                }
                wanted.Add((source, type));
            }
            var hadTickers = c.Wants(Hub.Source, "JackpotUpdate");
            c.Subscribe(wanted);
            if (!hadTickers && c.Wants(Hub.Source, "JackpotUpdate")) await hub.SendSnapshotAsync(c);
        }

        async Task OptInAsync(string name, JsonElement body, string? requestId, CancellationToken ct)
        {
            if (c.Kind != ConnectionKind.Player)
            {
                Error(name, "forbidden", "Opt-ins are sent on a player connection.", requestId);
                return;
            }
            var errors = new List<string>();
            string? playerId, brandKey, country;
            Proto.Target target;
            if (name == "PlayerOptInRequest")
            {
                playerId = Text(body, "player_id");
                brandKey = Text(body, "brand_id");
                country = Text(body, "player_country");
                var instance = Text(body, "instance_id");
                if (!Guid.TryParse(instance, out _)) errors.Add("instance_id: the instance's UUID");
                target = new Proto.Target { Type = "instance", Id = instance ?? "" };
            }
            else
            {
                var player = body.TryGetProperty("player", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
                playerId = player.ValueKind == JsonValueKind.Object ? Text(player, "id") : null;
                country = player.ValueKind == JsonValueKind.Object ? Text(player, "country") : null;
                var bareBrand = player.ValueKind == JsonValueKind.Object ? Text(player, "brand_id") : null;
                brandKey = Text(body, "operator_id") is { } op && bareBrand is not null ? $"{op}:{bareBrand}" : null;
                if (brandKey is null) errors.Add("operator_id and player.brand_id: required");
                var t = body.TryGetProperty("target", out var te) && te.ValueKind == JsonValueKind.Object ? te : default;
                var type = t.ValueKind == JsonValueKind.Object ? Text(t, "type") : null;
                var id = t.ValueKind == JsonValueKind.Object ? Text(t, "id") : null;
                if (type is not ("source" or "instance") || id is not { Length: > 0 and <= 128 }) errors.Add("target: { type: source | instance, id }");
                target = new Proto.Target { Type = type ?? "", Id = id ?? "" };
            }
            if (playerId is null) errors.Add(name == "PlayerOptInRequest" ? "player_id: required" : "player.id: required");
            if (country is not null && (country.Length != 2 || !country.All(char.IsAsciiLetterUpper))) errors.Add("player_country: two upper-case letters");
            if (!body.TryGetProperty("opt_in", out var optIn) || optIn.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) errors.Add("opt_in: true or false");
            string value = "";
            if (body.TryGetProperty("contribution_value", out var v) && v.ValueKind != JsonValueKind.Null)
            {
                if (v.ValueKind == JsonValueKind.Number && decimal.TryParse(v.GetRawText(), System.Globalization.NumberStyles.Float,
                        System.Globalization.CultureInfo.InvariantCulture, out var d) && d > 0)
                    value = d.ToString(System.Globalization.CultureInfo.InvariantCulture);
                else errors.Add("contribution_value: a number > 0, or left out");
            }
            var optLinked = body.TryGetProperty("opt_linked", out var linked) && linked.ValueKind == JsonValueKind.True;
            if (errors.Count > 0)
            {
                Error(name, "invalid_request", string.Join("; ", errors) + ".", requestId);
                return;
            }
            if (playerId != c.PlayerId || brandKey != c.BrandKey)
            {
                Error(name, "forbidden", "A connection opts in only its own player of its own brand.", requestId);
                return;
            }
            try
            {
                var state = await jackpots.Client.UnaryAsync<Proto.OptInState>(Jackpots.SetOptInMethod, new Proto.SetOptInRequest
                {
                    Target = target, BrandId = brandKey, PlayerId = playerId, PlayerCountry = country ?? "", OptIn = optIn.GetBoolean(),
                    ContributionValue = value, Currency = value.Length > 0 ? c.Currency! : "", OptLinked = optLinked,
                }, CallOptions.WithTimeout(TimeSpan.FromSeconds(10), ct: ct));
                jackpots.ForgetPlayer(c.PlayerId!);
                c.Enqueue(Hub.Reply(c, "Message", "PlayerOptInResponse", new OptInResponse(Guid.Parse(state.InstanceId), state.PlayerId, state.PlayerBrandId,
                    state.OptedIn, state.PreferredContributionValue.Length > 0 ? Jackpots.Dec(state.PreferredContributionValue) : null,
                    state.PreferredCurrency.Length > 0 ? state.PreferredCurrency : null, state.ContributionCount, Jackpots.Dec(state.ContributionValue),
                    state.LastUpdated, requestId)));
            }
            catch (RpcException ex)
            {
                var detail = ex.Status.Detail;
                var colon = detail.IndexOf(": ", StringComparison.Ordinal);
                var reason = colon > 0 && detail[..colon] is "not_found" or "instance_not_active" or "brand_not_allowed" ? detail[..colon] : null;
                var (code, message) = ex.StatusCode switch
                {
                    StatusCode.InvalidArgument => ("invalid_request", detail),
                    StatusCode.NotFound => ("not_found", reason is null ? detail : detail[(colon + 2)..]),
                    StatusCode.FailedPrecondition when reason is not null => (reason, detail[(colon + 2)..]),
                    _ => ("unavailable", "The opt-in could not be recorded now; try again."),
                };
                Error(name, code, message, requestId);
            }
        }

        /// <summary>Spec §9: {"PlayerRaffleTicketsRequest": {player_id, instance_id, brand_id}} → PlayerRaffleTicketResponse, the
        /// connection's own player only; without instance_id, every Active raffle.</summary>
        async Task RaffleTicketsAsync(string name, JsonElement body, string? requestId, CancellationToken ct)
        {
            if (c.Kind != ConnectionKind.Player)
            {
                Error(name, "forbidden", "Raffle tickets are asked on a player connection.", requestId);
                return;
            }
            var playerId = Text(body, "player_id");
            var brandKey = Text(body, "brand_id");
            var instance = Text(body, "instance_id");
            var errors = new List<string>();
            if (playerId is null) errors.Add("player_id: required");
            if (brandKey is null) errors.Add("brand_id: required");
            var given = body.TryGetProperty("instance_id", out var i) && i.ValueKind != JsonValueKind.Null;
            if (given && (instance is null || !Guid.TryParse(instance, out _))) errors.Add("instance_id: the raffle's UUID, or left out");
            if (errors.Count > 0)
            {
                Error(name, "invalid_request", string.Join("; ", errors) + ".", requestId);
                return;
            }
            if (playerId != c.PlayerId || brandKey != c.BrandKey)
            {
                Error(name, "forbidden", "A connection reads only its own player's tickets of its own brand.", requestId);
                return;
            }
            try
            {
                var list = await jackpots.Client.UnaryAsync<Proto.RaffleTicketList>(RaffleTicketsMethod, new Proto.GetRaffleTicketsRequest
                {
                    BrandId = brandKey, PlayerId = playerId, InstanceId = instance ?? "",
                }, CallOptions.WithTimeout(TimeSpan.FromSeconds(10), ct: ct));
                c.Enqueue(Hub.Reply(c, "Message", "PlayerRaffleTicketResponse", new RaffleTicketsResponse(
                    [.. list.Tickets.Select(t => new RaffleTicketData(Guid.Parse(t.InstanceId), t.BrandId, t.PlayerId, t.ExtPlayerId, t.TicketCount,
                        t.AccumulatedCost, t.TimestampStart, t.TimestampEnd))], requestId)));
            }
            catch (RpcException ex)
            {
                Error(name, ex.StatusCode == StatusCode.InvalidArgument ? "invalid_request" : "unavailable",
                    ex.StatusCode == StatusCode.InvalidArgument ? ex.Status.Detail : "The tickets could not be read now; try again.", requestId);
            }
        }

        static readonly Google.Protobuf.Reflection.MethodDescriptor RaffleTicketsMethod = Proto.PotsReflection.Descriptor
            .FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("PlayerJackpots").FindMethodByName("GetRaffleTickets");

        void Error(string name, string code, string message, string? requestId) =>
            c.Enqueue(Hub.Reply(c, "Error", name, new ErrorData(code, message, requestId)));

        static string? Text(JsonElement e, string property) =>
            e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}

public sealed record ErrorData(string Code, string Message,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? RequestId);

public sealed record OptInResponse(Guid InstanceId, string PlayerId, string PlayerBrandId, bool OptedIn, decimal? PreferredContributionValue,
    string? PreferredCurrency, long ContributionCount, decimal ContributionValue, long LastUpdated,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? RequestId);
