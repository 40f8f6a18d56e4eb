using System.Globalization;
using Google.Protobuf.Reflection;
using ThrillSuite.Grpc;
using ThrillSuite.ServiceDefaults.Hosting;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillConnect.Rest;

public sealed record PotDoc(string Id, bool IsProgressive, decimal CurrentValue);

public sealed record OptInDoc(bool OptedIn, decimal? PreferredContributionValue, string? PreferredCurrency, long ContributionCount,
    decimal ContributionValue, long LastUpdated);

/// <summary>An instance as frontends read it: JackpotUpdate's data (spec §9.1) plus what a widget needs to opt a player in.</summary>
public sealed record InstanceDoc(Guid Id, string Name, string Status, string JackpotType, string Currency, IReadOnlyList<string> AllowedBrands,
    IReadOnlyList<string> AllowedSources, IReadOnlyList<PotDoc> Pots, long? TimestampStart, long? TimestampEnd, long LastUpdated, bool OptInRequired,
    decimal DefaultContributionValue, OptInDoc? OptIn);

public sealed record CurrenciesDoc(long LastUpdated, string BaseCurrency, IReadOnlyDictionary<string, decimal> Multipliers);

public sealed record SourceDoc(string OwnerId, string SourceId, string SourceName, IReadOnlyList<string> InstanceIds);

public sealed record LeaderboardEntryDoc(int Rank, string PlayerId, string BrandId, long ContributionCount, decimal ContributionValue,
    long LastContribution);

/// <summary>Top contributors of an instance; player ids are masked (<see cref="Jackpots.Mask"/>): this is a public read.</summary>
public sealed record LeaderboardDoc(Guid InstanceId, string Scope, string Currency, long? Since, IReadOnlyList<LeaderboardEntryDoc> Entries);

/// <summary>
/// ThrillPots' reads over gRPC (PlayerJackpots), each answer kept briefly and loaded once at a time (<see cref="ReadCache"/>):
/// a ticker page polled by thousands of players must not become thousands of calls. No database is shared with ThrillPots.
/// </summary>
public sealed class Jackpots(GrpcClients grpc, TimeProvider clock)
{
    static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = Proto.PotsReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("PlayerJackpots");
    public static readonly MethodDescriptor GetInstanceMethod = Service.FindMethodByName("GetInstance");
    public static readonly MethodDescriptor ResolveSourceMethod = Service.FindMethodByName("ResolveSource");
    public static readonly MethodDescriptor ListSourcesMethod = Service.FindMethodByName("ListSources");
    public static readonly MethodDescriptor GetCurrenciesMethod = Service.FindMethodByName("GetCurrencies");
    public static readonly MethodDescriptor SetOptInMethod = Service.FindMethodByName("SetOptIn");
    public static readonly MethodDescriptor GetLeaderboardMethod = Service.FindMethodByName("GetLeaderboard");

    static readonly TimeSpan ShortCache = TimeSpan.FromSeconds(1), LongCache = TimeSpan.FromSeconds(5);
    readonly ReadCache cache = new(clock);

    public GrpcClient Client => grpc.Get("thrillpots");

    /// <summary>The instance the brand's source feeds; null when it feeds none (RpcException NOT_FOUND for an unknown source).</summary>
    public Task<InstanceDoc?> BySourceAsync(string sourceId, string brandId, string? playerId, string? country, CancellationToken ct) =>
        cache.GetAsync($"source|{sourceId}|{brandId}|{playerId}|{country}", ShortCache, async ct =>
        {
            var list = await Client.UnaryAsync<Proto.InstanceList>(ResolveSourceMethod, new Proto.ResolveSourceRequest
            {
                SourceId = sourceId, BrandId = brandId, PlayerId = playerId ?? "", CountryCode = country ?? "",
            }, Call(ct));
            return list.Instances.Count == 0 ? null : Doc(list.Instances[0], playerId is not null);
        }, ct);

    public Task<InstanceDoc> InstanceAsync(Guid id, CancellationToken ct) =>
        cache.GetAsync($"instance|{id}", ShortCache, async ct =>
            Doc(await Client.UnaryAsync<Proto.Instance>(GetInstanceMethod, new Proto.GetInstanceRequest { InstanceId = id.ToString() }, Call(ct)), false), ct);

    public Task<CurrenciesDoc> CurrenciesAsync(string? brandId, CancellationToken ct) =>
        cache.GetAsync($"currencies|{brandId}", LongCache, async ct =>
        {
            var c = await Client.UnaryAsync<Proto.Currencies>(GetCurrenciesMethod, new Proto.GetCurrenciesRequest { BrandId = brandId ?? "" }, Call(ct));
            return new CurrenciesDoc(c.LastUpdated, c.BaseCurrency, c.Multipliers.ToDictionary(m => m.Key, m => Dec(m.Value)));
        }, ct);

    public Task<IReadOnlyList<SourceDoc>> SourcesAsync(string ownerId, CancellationToken ct) =>
        cache.GetAsync($"sources|{ownerId}", LongCache, async ct =>
        {
            var list = await Client.UnaryAsync<Proto.SourceList>(ListSourcesMethod, new Proto.ListSourcesRequest { OwnerId = ownerId }, Call(ct));
            return (IReadOnlyList<SourceDoc>)[.. list.Sources.Select(s => new SourceDoc(s.OwnerId, s.SourceId, s.SourceName, [.. s.InstanceIds]))];
        }, ct);

    /// <summary>Most entries a leaderboard shows (ThrillPots' limit too).</summary>
    public const int MaxLeaderboard = 100;

    /// <summary>
    /// The top <paramref name="limit"/> of the instance's board: the top 100 are loaded once per instance and scope and sliced,
    /// so limits 1–100 cost ThrillPots one ranking every 5 s, not one per limit asked.
    /// </summary>
    public async Task<LeaderboardDoc> LeaderboardAsync(Guid id, string scope, int limit, CancellationToken ct)
    {
        var board = await cache.GetAsync($"leaderboard|{id}|{scope}", LongCache, async ct =>
        {
            var b = await Client.UnaryAsync<Proto.Leaderboard>(GetLeaderboardMethod, new Proto.GetLeaderboardRequest
            {
                InstanceId = id.ToString(), Scope = scope, Limit = MaxLeaderboard,
            }, Call(ct));
            return new LeaderboardDoc(Guid.Parse(b.InstanceId), b.Scope, b.Currency, b.Since == 0 ? null : b.Since,
                [.. b.Entries.Select(e => new LeaderboardEntryDoc(e.Rank, Mask(e.PlayerId), e.BrandId, e.ContributionCount, Dec(e.ContributionValue),
                    e.LastContribution))]);
        }, ct);
        return board.Entries.Count <= limit ? board : board with { Entries = [.. board.Entries.Take(limit)] };
    }

    /// <summary>
    /// A player id as a public leaderboard shows it: the first two and last two characters around "***" (ids of six
    /// characters or fewer keep only their first). Enough for players to recognise themselves, not to harvest operators'
    /// player ids from a page anyone can read.
    /// </summary>
    public static string Mask(string playerId) =>
        playerId.Length <= 6 ? playerId[..1] + "***" : playerId[..2] + "***" + playerId[^2..];

    /// <summary>After an opt-in: the player's cached view of the source must not show the old state.</summary>
    public void ForgetPlayer(string playerId) =>
        cache.Forget(k => k.StartsWith("source|", StringComparison.Ordinal) && k.Contains($"|{playerId}|", StringComparison.Ordinal));

    public static InstanceDoc Doc(Proto.Instance i, bool withPlayer) => new(Guid.Parse(i.InstanceId), i.Name, i.State, i.JackpotType, i.Currency,
        [.. i.AllowedBrands], [.. i.AllowedSources], [.. i.Pots.Select(p => new PotDoc(p.Id, p.IsProgressive, Dec(p.CurrentValue)))],
        i.TimestampStart == 0 ? null : i.TimestampStart, i.TimestampEnd == 0 ? null : i.TimestampEnd, i.LastUpdated, i.OptInRequired,
        Dec(i.DefaultContributionValue), withPlayer && i.PlayerOptIn is { } o ? OptIn(o) : null);

    public static OptInDoc OptIn(Proto.OptInState o) => new(o.OptedIn, o.PreferredContributionValue.Length > 0 ? Dec(o.PreferredContributionValue) : null,
        o.PreferredCurrency.Length > 0 ? o.PreferredCurrency : null, o.ContributionCount, Dec(o.ContributionValue), o.LastUpdated);

    public static decimal Dec(string s) => s.Length == 0 ? 0m : decimal.Parse(s, CultureInfo.InvariantCulture);

    static CallOptions Call(CancellationToken ct) => CallOptions.WithTimeout(TimeSpan.FromSeconds(10), ct: ct);
}
