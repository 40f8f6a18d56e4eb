using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using ThrillConnect.Rest;
using ThrillSuite.Contracts.Pots;

namespace ThrillConnect.Realtime;

/// <summary>The server → client envelope of spec §2.4.</summary>
public sealed record Envelope(string MsgType, string Source, string MsgName, string OperatorId, string? BrandId, string? PlayerId, object Data, long Timestamp)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public ReadOnlyMemory<byte> Bytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);
}

public sealed record PotData(string Id, bool IsProgressive, decimal CurrentValue,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? PlayerValue,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? DropCommitments);

/// <summary>JackpotUpdate's data (spec §9.1), with the pots also in the player's currency on a player connection.</summary>
public sealed record UpdateData(Guid Id, string Status, string JackpotType, string Currency, IReadOnlyList<string> AllowedBrands,
    IReadOnlyList<string> AllowedSources, IReadOnlyList<PotData> Pots, long? TimestampStart, long? TimestampEnd, long LastUpdated,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PlayerCurrency);

/// <summary>WinEvent's data (spec §9.2), with the win also in the receiving player's currency.</summary>
public sealed record WinData(string BrandId, string PlayerId, string? SourceId, Guid InstanceId, string JackpotName, string JackpotCurrency,
    long Timestamp, string WinPotId, decimal WinAmount, CurrencyMultipliers CurrencyMultipliers, IReadOnlyList<string> GamesInJackpot, decimal Seed,
    bool WinWithheld, decimal SeedDeficit, IReadOnlyList<PayoutRecord>? CommunityWinners, JsonElement? Metadata, Guid WinId,
    IReadOnlyList<DropReveal> Reveals,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PlayerCurrency,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? PlayerValue);

public sealed record OptInData(Guid InstanceId, string PlayerId, string ExtPlayerId, string PlayerBrandId, decimal? PreferredContributionValue,
    string? PreferredCurrency, long ContributionCount, decimal ContributionValue, bool OptedIn, long LastUpdated);

/// <summary>
/// Every open socket of this replica and the routing of events to them (design.md §7): a brand's players get the public
/// events of the instances that allow their brand, a player's own events go to that player only, service connections get
/// what their account may read. Each event is serialised once per distinct envelope (brand, currency) and the bytes shared.
/// </summary>
public sealed class Hub(Jackpots jackpots, ILogger<Hub> logger)
{
    public const string Source = "thrillpots";
    /// <summary>The source of the freebet events (ThrillGate's).</summary>
    public const string GateSource = "thrillgate";
    readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, Connection>> players = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<Guid, Connection> services = new();
    readonly ConcurrentDictionary<Guid, JackpotUpdated> latest = new();
    readonly ConcurrentDictionary<Guid, byte> recentWins = new();
    readonly ConcurrentDictionary<(Guid, string), byte> recentDraws = new();
    readonly ConcurrentDictionary<Guid, byte> recentBonusEvents = new();

    public int Count => services.Count + players.Values.Sum(p => p.Count);

    public void Add(Connection c)
    {
        if (c.Kind == ConnectionKind.Service) services[c.Id] = c;
        else players.GetOrAdd(c.BrandKey!, _ => new())[c.Id] = c;
    }

    public void Remove(Connection c)
    {
        if (c.Kind == ConnectionKind.Service) services.TryRemove(c.Id, out _);
        else if (players.TryGetValue(c.BrandKey!, out var brand)) brand.TryRemove(c.Id, out _);
    }

    public IEnumerable<Connection> All => services.Values.Concat(players.Values.SelectMany(p => p.Values));

    public async Task PublishAsync(JackpotUpdated u)
    {
        // Consumers run concurrently: an update overtaken by a newer one of the same instance is not shown.
        if (!ReferenceEquals(latest.AddOrUpdate(u.Id, u, (_, seen) => seen.LastUpdated > u.LastUpdated ? seen : u), u)) return;
        foreach (var brand in u.AllowedBrands)
        {
            if (!players.TryGetValue(brand, out var connections)) continue;
            var frames = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
            foreach (var c in connections.Values)
            {
                if (!c.Wants(Source, "JackpotUpdate")) continue;
                var currency = c.Currency ?? u.Currency;
                if (!frames.TryGetValue(currency, out var frame))
                    frames[currency] = frame = Frame("JackpotUpdate", c.OperatorId, c.Brand, null, await UpdateDataAsync(u, brand, currency));
                c.EnqueueTicker(u.Id, frame);
            }
        }
        ReadOnlyMemory<byte>? serviceFrame = null;
        foreach (var c in services.Values)
        {
            if (!c.Wants(Source, "JackpotUpdate") || !MayRead(c, u.OwnerId, u.AllowedBrands)) continue;
            c.EnqueueTicker(u.Id, serviceFrame ??= Frame("JackpotUpdate", Operator(u.OwnerId), Brand(u.OwnerId), null, await UpdateDataAsync(u, null, null)));
        }
    }

    public async Task PublishAsync(JackpotWon w)
    {
        // A re-published win (outbox after a crash) is shown once.
        if (!FirstSight(recentWins, w.WinId)) return;
        var brands = latest.TryGetValue(w.InstanceId, out var u) ? u.AllowedBrands : [w.BrandId];
        foreach (var brand in brands)
        {
            if (!players.TryGetValue(brand, out var connections)) continue;
            var frames = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
            foreach (var c in connections.Values)
            {
                if (!c.Wants(Source, "WinEvent")) continue;
                var currency = c.Currency ?? w.JackpotCurrency;
                // The winner, in the currency they won in, is shown what their wallet is credited (rounded down to the minor
                // unit), not a conversion of it; everyone else sees the win converted with its own multipliers.
                var winner = brand == w.BrandId && c.PlayerId == w.PlayerId && currency == w.PlayerCurrency;
                var key = winner ? "\0winner" : currency;
                if (!frames.TryGetValue(key, out var frame))
                    frames[key] = frame = Frame("WinEvent", c.OperatorId, c.Brand, null,
                        winner ? await WinDataAsync(w, brand, currency) with { PlayerValue = w.PlayerWinAmount } : await WinDataAsync(w, brand, currency));
                c.Enqueue(frame, "WinEvent");
            }
        }
        ReadOnlyMemory<byte>? serviceFrame = null;
        foreach (var c in services.Values)
            if (c.Wants(Source, "WinEvent") && c.MayRead(w.BrandId))
                c.Enqueue(serviceFrame ??= Frame("WinEvent", Operator(w.BrandId), Brand(w.BrandId), null, await WinDataAsync(w, null, null)), "WinEvent");
    }

    public void Publish(OptInChanged o)
    {
        var data = new OptInData(o.InstanceId, o.PlayerId, o.ExtPlayerId, o.PlayerBrandId, o.PreferredContributionValue, o.PreferredCurrency,
            o.ContributionCount, o.ContributionValue, o.OptedIn, o.LastUpdated);
        var frame = Frame("OptInEvent", Operator(o.PlayerBrandId), Brand(o.PlayerBrandId), o.PlayerId, data);
        if (players.TryGetValue(o.PlayerBrandId, out var connections))
            foreach (var c in connections.Values)
                if (c.PlayerId == o.PlayerId && c.Wants(Source, "OptInEvent")) c.Enqueue(frame, "OptInEvent");
        foreach (var c in services.Values)
            if (c.Wants(Source, "OptInEvent") && c.MayRead(o.PlayerBrandId)) c.Enqueue(frame, "OptInEvent");
    }

    /// <summary>A raffle draw: to the players of the winners' brand and to the services that may read it (spec §18.1 RaffleWinEvent).</summary>
    public void Publish(RaffleWon r)
    {
        // A re-published draw (outbox after a crash) is shown once.
        if (!FirstSight(recentDraws, (r.DrawId, r.BrandId))) return;
        var frame = Frame("RaffleWinEvent", Operator(r.BrandId), Brand(r.BrandId), null, RaffleWinData.Of(r));
        if (players.TryGetValue(r.BrandId, out var connections))
            foreach (var c in connections.Values)
                if (c.Wants(Source, "RaffleWinEvent")) c.Enqueue(frame, "RaffleWinEvent");
        foreach (var c in services.Values)
            if (c.Wants(Source, "RaffleWinEvent") && c.MayRead(r.BrandId)) c.Enqueue(frame, "RaffleWinEvent");
    }

    /// <summary>
    /// A freebet event (source thrillgate, spec §9.4): to the player's own sockets and to the services that may read the brand.
    /// A message the outbox sent again (same message id) is shown once.
    /// </summary>
    public void PublishBonus(Guid? messageId, string name, string operatorId, string brandId, string playerId,
        ThrillSuite.Contracts.Gate.PlayerBonus bonus, long timestamp)
    {
        if (messageId is { } id && !FirstSight(recentBonusEvents, id)) return;
        var frame = new Envelope("Event", GateSource, name, operatorId, brandId, playerId, bonus, timestamp).Bytes();
        var brandKey = $"{operatorId}:{brandId}";
        if (players.TryGetValue(brandKey, out var connections))
            foreach (var c in connections.Values)
                if (c.PlayerId == playerId && c.Wants(GateSource, name)) c.Enqueue(frame);
        foreach (var c in services.Values)
            if (c.Wants(GateSource, name) && c.MayRead(brandKey)) c.Enqueue(frame);
    }

    /// <summary>After a subscription that covers JackpotUpdate: the instances it may see, at once.</summary>
    public async Task SendSnapshotAsync(Connection c)
    {
        foreach (var u in latest.Values)
        {
            if (c.Kind == ConnectionKind.Player)
            {
                if (!u.AllowedBrands.Contains(c.BrandKey!)) continue;
                c.EnqueueTicker(u.Id, Frame("JackpotUpdate", c.OperatorId, c.Brand, null, await UpdateDataAsync(u, c.BrandKey, c.Currency ?? u.Currency)));
            }
            else if (MayRead(c, u.OwnerId, u.AllowedBrands))
                c.EnqueueTicker(u.Id, Frame("JackpotUpdate", Operator(u.OwnerId), Brand(u.OwnerId), null, await UpdateDataAsync(u, null, null)));
        }
    }

    /// <summary>Set once shutdown starts: every socket is closed and new ones are turned away.</summary>
    public bool Stopping { get; private set; }

    public void CloseAll(WebSocketCloseStatus status, string reason)
    {
        Stopping = true;
        foreach (var c in All) c.RequestClose(status, reason);
    }

    /// <summary>False for a key already seen; the memory of keys is bounded (forgotten at 10,000).</summary>
    static bool FirstSight<TKey>(ConcurrentDictionary<TKey, byte> seen, TKey key) where TKey : notnull
    {
        if (!seen.TryAdd(key, 0)) return false;
        if (seen.Count > 10_000) seen.Clear();
        return true;
    }

    static bool MayRead(Connection c, string ownerId, IEnumerable<string> brands) => c.MayRead(ownerId) || brands.Any(c.MayRead);

    async Task<UpdateData> UpdateDataAsync(JackpotUpdated u, string? brand, string? currency)
    {
        var convert = await ConverterAsync(brand, u.Currency, currency);
        return new UpdateData(u.Id, u.Status, u.JackpotType, u.Currency, u.AllowedBrands, u.AllowedSources,
            [.. u.Pots.Select(p => new PotData(p.Id, p.IsProgressive, p.CurrentValue, convert?.Invoke(p.CurrentValue), p.DropCommitments is { Count: > 0 } d ? d : null))],
            u.TimestampStart, u.TimestampEnd, u.LastUpdated, convert is null ? null : currency);
    }

    async Task<WinData> WinDataAsync(JackpotWon w, string? brand, string? currency)
    {
        decimal? value = null;
        // The win's own multipliers (in force when it was won) when they know the currency; else the brand's current ones.
        if (currency is not null && currency != w.JackpotCurrency)
            value = Convert(w.CurrencyMultipliers.Multipliers, w.CurrencyMultipliers.BaseCurrency, w.JackpotCurrency, currency, w.WinAmount)
                ?? (await ConverterAsync(brand, w.JackpotCurrency, currency))?.Invoke(w.WinAmount);
        else if (currency is not null) value = w.WinAmount;
        return new WinData(w.BrandId, w.PlayerId, w.SourceId, w.InstanceId, w.JackpotName, w.JackpotCurrency, w.Timestamp, w.WinPotId, w.WinAmount,
            w.CurrencyMultipliers, w.GamesInJackpot, w.Seed, w.WinWithheld, w.SeedDeficit, w.CommunityWinners, w.Metadata, w.WinId, w.Reveals,
            value is null ? null : currency, value);
    }

    /// <summary>Jackpot currency → the player's, with the brand's multipliers; null when no conversion is known or needed.</summary>
    async Task<Func<decimal, decimal>?> ConverterAsync(string? brand, string from, string? to)
    {
        if (to is null || brand is null) return null;
        if (to == from) return v => v;
        try
        {
            var rates = await jackpots.CurrenciesAsync(brand, CancellationToken.None);
            return Convert(rates.Multipliers, rates.BaseCurrency, from, to, 1m) is null ? null : v => Convert(rates.Multipliers, rates.BaseCurrency, from, to, v)!.Value;
        }
        catch (ThrillSuite.Grpc.RpcException ex)
        {
            logger.LogWarning("No multipliers for {Brand} ({Status}); amounts stay in {Currency}", brand, ex.StatusCode, from);
            return null;
        }
    }

    static decimal? Convert(IReadOnlyDictionary<string, decimal> multipliers, string baseCurrency, string from, string to, decimal amount)
    {
        decimal? Of(string c) => multipliers.TryGetValue(c, out var m) && m > 0 ? m : c == baseCurrency ? 1m : null;
        return Of(from) is { } f && Of(to) is { } t ? decimal.Round(amount * t / f, 8) : null;
    }

    /// <summary>A reply to one connection's request: <paramref name="type"/> is Message or Error.</summary>
    public static ReadOnlyMemory<byte> Reply(Connection c, string type, string name, object data) =>
        new Envelope(type, Source, name, c.OperatorId, c.Brand, c.PlayerId, data, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).Bytes();

    static ReadOnlyMemory<byte> Frame(string name, string operatorId, string? brand, string? playerId, object data) =>
        new Envelope("Event", Source, name, operatorId, brand, playerId, data, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).Bytes();

    static string Operator(string ownerId) => ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(ownerId).Org;

    static string? Brand(string ownerId) => ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(ownerId).Unit;
}
