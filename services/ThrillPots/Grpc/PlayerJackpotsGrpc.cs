using System.Globalization;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Contributions;
using ThrillPots.Engine;
using ThrillPots.Jackpots;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.Grpc;

/// <summary>
/// thrillsuite.pots.v1.PlayerJackpots, for ThrillConnect (internal: the edge never routes it): opt-in and the reads behind
/// its REST and WebSocket API. Players are authenticated by ThrillConnect; this service checks the facts (instance state,
/// brand allowed, values) and answers precise statuses.
/// </summary>
public sealed class PlayerJackpotsGrpc(NpgsqlDataSource db, Targets targets)
{
    public static readonly Google.Protobuf.Reflection.ServiceDescriptor Descriptor =
        Proto.PotsReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("PlayerJackpots");

    public const decimal MaxContributionValue = 1_000_000m;

    public async Task<Proto.OptInState> SetOptIn(Proto.SetOptInRequest request, ServerCallContext call)
    {
        var brandId = Brand(request.BrandId);
        var playerId = Required(request.PlayerId, "player_id");
        decimal? value = null;
        if (request.ContributionValue.Length > 0)
        {
            if (!decimal.TryParse(request.ContributionValue, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v)
                || v <= 0 || v > MaxContributionValue || v.Scale > Money.InternalScale)
                throw Invalid($"contribution_value: a decimal string > 0 and ≤ {MaxContributionValue}, e.g. \"0.20\".");
            if (!Money.IsKnownCurrency(request.Currency)) throw Invalid("currency: required with contribution_value, an ISO 4217 code such as EUR.");
            value = v;
        }
        if (request.PlayerCountry.Length > 0 && (request.PlayerCountry.Length != 2 || !request.PlayerCountry.All(char.IsAsciiLetterUpper)))
            throw Invalid("player_country: two upper-case letters.");
        var instanceId = await ResolveTargetAsync(request.Target, brandId, call.CancellationToken);
        try
        {
            var row = await OptIns.SetAsync(db, instanceId, brandId, playerId, request.PlayerCountry.Length > 0 ? request.PlayerCountry : null,
                request.OptIn, value, request.Currency, call.CancellationToken);
            if (request.OptLinked) await OptIns.SetLinkedAsync(db, instanceId, brandId, playerId, request.PlayerCountry.Length > 0 ? request.PlayerCountry : null,
                request.OptIn, value, request.Currency, call.CancellationToken);
            return ToProto(row);
        }
        catch (OptInException ex) when (ex.Reason == OptIns.OutOfRange)
        {
            // A bad value for this jackpot: the player's client shows the range (ThrillConnect passes the detail through).
            throw Invalid($"contribution_value: {ex.Message}");
        }
        catch (OptInException ex)
        {
            throw new RpcException(ex.Reason == "not_found" ? StatusCode.NotFound : StatusCode.FailedPrecondition, $"{ex.Reason}: {ex.Message}");
        }
    }

    public async Task<Proto.OptInState> GetOptIn(Proto.GetOptInRequest request, ServerCallContext call)
    {
        if (!Guid.TryParse(request.InstanceId, out var instanceId)) throw Invalid("instance_id: the instance's UUID.");
        var brandId = Brand(request.BrandId);
        var playerId = Required(request.PlayerId, "player_id");
        await using var c = await db.OpenConnectionAsync(call.CancellationToken);
        if ((await InstanceViews.LoadAsync(c, null, [instanceId], call.CancellationToken)).Count == 0)
            throw new RpcException(StatusCode.NotFound, $"not_found: No jackpot instance {instanceId}.");
        var row = await OptIns.GetAsync(c, instanceId, brandId, playerId, call.CancellationToken);
        return row is null
            ? new Proto.OptInState { InstanceId = instanceId.ToString(), PlayerId = playerId, PlayerBrandId = brandId, OptedIn = false, ContributionValue = "0" }
            : ToProto(row);
    }

    public async Task<Proto.Instance> GetInstance(Proto.GetInstanceRequest request, ServerCallContext call)
    {
        if (!Guid.TryParse(request.InstanceId, out var instanceId)) throw Invalid("instance_id: the instance's UUID.");
        await using var c = await db.OpenConnectionAsync(call.CancellationToken);
        var views = await InstanceViews.LoadAsync(c, null, [instanceId], call.CancellationToken);
        return views.Count == 0 ? throw new RpcException(StatusCode.NotFound, $"not_found: No jackpot instance {instanceId}.") : ToProto(views[0]);
    }

    /// <summary>The instances the brand's source feeds, best first (the one contributions go to leads); with player_id,
    /// each carries the player's opt-in.</summary>
    public async Task<Proto.InstanceList> ResolveSource(Proto.ResolveSourceRequest request, ServerCallContext call)
    {
        var brandId = Brand(request.BrandId);
        if (!Ids.IsValid(request.SourceId)) throw Invalid("source_id: " + Ids.Rule);
        var resolution = await targets.ResolveAsync(brandId, request.SourceId, call.CancellationToken);
        if (!resolution.Known) throw new RpcException(StatusCode.NotFound, $"not_found: Brand '{brandId}' has no source '{request.SourceId}'.");
        var eligible = resolution.Candidates
            .Where(i => i.AllowedBrands.Contains(brandId) && (i.AllowedSources.Length == 0 || i.AllowedSources.Contains(request.SourceId)))
            .OrderByDescending(i => i.Id == resolution.Instance).ThenByDescending(i => i.CreatedAt).Select(i => i.Id).ToArray();
        await using var c = await db.OpenConnectionAsync(call.CancellationToken);
        var views = (await InstanceViews.LoadAsync(c, null, eligible, call.CancellationToken)).ToDictionary(v => v.Id);
        var list = new Proto.InstanceList();
        foreach (var id in eligible.Where(views.ContainsKey))
        {
            var instance = ToProto(views[id]);
            if (request.PlayerId.Length > 0 && await OptIns.GetAsync(c, id, brandId, request.PlayerId, call.CancellationToken) is { } row)
                instance.PlayerOptIn = ToProto(row);
            list.Instances.Add(instance);
        }
        return list;
    }

    public async Task<Proto.SourceList> ListSources(Proto.ListSourcesRequest request, ServerCallContext call)
    {
        if (!Ids.IsOwner(request.OwnerId)) throw Invalid("owner_id: operator or operator:brand.");
        await using var c = await db.OpenConnectionAsync(call.CancellationToken);
        var rows = await Dapper.SqlMapper.QueryAsync<SourceEndpoints.Row>(c, new Dapper.CommandDefinition(
            SourceEndpoints.Select + " where s.owner_id = @OwnerId" + SourceEndpoints.GroupBy, new { request.OwnerId }, cancellationToken: call.CancellationToken));
        var list = new Proto.SourceList();
        foreach (var r in rows)
        {
            var source = new Proto.Source { OwnerId = r.OwnerId, SourceId = r.SourceId, SourceName = r.SourceName };
            source.InstanceIds.AddRange(r.InstanceIds);
            list.Sources.Add(source);
        }
        return list;
    }

    public async Task<Proto.Currencies> GetCurrencies(Proto.GetCurrenciesRequest request, ServerCallContext call)
    {
        if (request.BrandId.Length > 0 && !Ids.IsOwner(request.BrandId, brandRequired: true)) throw Invalid("brand_id: operator:brand, or empty.");
        await using var c = await db.OpenConnectionAsync(call.CancellationToken);
        var defaults = (await CurrencyEndpoints.LoadAsync(c, null, "", call.CancellationToken))!;
        var own = request.BrandId.Length > 0 ? await CurrencyEndpoints.LoadAsync(c, null, request.BrandId, call.CancellationToken) : null;
        var set = CurrencyEndpoints.Effective(defaults, own);
        var reply = new Proto.Currencies { BaseCurrency = set.BaseCurrency, LastUpdated = Time.Ms(own is { } o && o.UpdatedAt > defaults.UpdatedAt ? o.UpdatedAt : defaults.UpdatedAt) };
        foreach (var (code, m) in set.Multipliers) reply.Multipliers[code] = ContributionsGrpc.Format(m);
        return reply;
    }

    public async Task<Proto.Leaderboard> GetLeaderboard(Proto.GetLeaderboardRequest request, ServerCallContext call)
    {
        if (!Guid.TryParse(request.InstanceId, out var instanceId)) throw Invalid("instance_id: the instance's UUID.");
        var scope = request.Scope.Length == 0 ? Leaderboards.Lifetime : request.Scope;
        if (scope is not (Leaderboards.Lifetime or Leaderboards.SinceLastWin)) throw Invalid("scope: \"lifetime\" or \"since_last_win\".");
        var limit = request.Limit == 0 ? Leaderboards.DefaultLimit : request.Limit;
        if (limit is < 1 or > Leaderboards.MaxLimit) throw Invalid($"limit: 1-{Leaderboards.MaxLimit}.");
        await using var c = await db.OpenConnectionAsync(call.CancellationToken);
        var board = await Leaderboards.LoadAsync(c, instanceId, scope, limit, call.CancellationToken)
            ?? throw new RpcException(StatusCode.NotFound, $"not_found: No jackpot instance {instanceId}.");
        var reply = new Proto.Leaderboard { InstanceId = instanceId.ToString(), Scope = scope, Currency = board.Currency, Since = Time.Ms(board.Since) ?? 0 };
        reply.Entries.AddRange(board.Entries.Select(e => new Proto.LeaderboardEntry
        {
            Rank = e.Rank, PlayerId = e.PlayerId, BrandId = e.BrandId, ContributionCount = e.ContributionCount,
            ContributionValue = ContributionsGrpc.Format(e.ContributionValue), FirstContribution = Time.Ms(e.FirstAt), LastContribution = Time.Ms(e.LastAt),
        }));
        return reply;
    }

    async Task<Guid> ResolveTargetAsync(Proto.Target? target, string brandId, CancellationToken ct)
    {
        switch (target?.Type)
        {
            case "instance":
                return Guid.TryParse(target.Id, out var id) ? id : throw Invalid("target.id: the instance's UUID.");
            case "source":
                if (!Ids.IsValid(target.Id)) throw Invalid("target.id: a source id (" + Ids.Rule + ")");
                var resolution = await targets.ResolveAsync(brandId, target.Id, ct);
                return resolution.Instance ?? throw new RpcException(StatusCode.NotFound,
                    $"not_found: Source '{target.Id}' of '{brandId}' feeds no jackpot instance for the brand.");
            default:
                throw Invalid("target.type: \"source\" or \"instance\".");
        }
    }

    /// <summary>A player's raffle tickets in open periods (spec §9; ThrillConnect's PlayerRaffleTicketsRequest).</summary>
    public async Task<Proto.RaffleTicketList> GetRaffleTickets(Proto.GetRaffleTicketsRequest request, ServerCallContext call)
    {
        var brandId = Brand(request.BrandId);
        var playerId = Required(request.PlayerId, "player_id");
        Guid? instanceId = null;
        if (request.InstanceId.Length > 0)
            instanceId = Guid.TryParse(request.InstanceId, out var id) ? id : throw Invalid("instance_id: the instance's UUID, or empty for every raffle.");
        await using var c = await db.OpenConnectionAsync(call.CancellationToken);
        var list = new Proto.RaffleTicketList();
        foreach (var t in await Raffles.RaffleTicketEndpoints.PlayerTicketsAsync(c, instanceId, brandId, playerId, call.CancellationToken))
            list.Tickets.Add(new Proto.RaffleTicket
            {
                InstanceId = t.InstanceId, BrandId = t.BrandId, PlayerId = t.PlayerId, ExtPlayerId = t.ExtPlayerId, TicketCount = t.TicketCount,
                AccumulatedCost = t.AccumulatedCost, TimestampStart = t.TimestampStart, TimestampEnd = t.TimestampEnd,
            });
        return list;
    }

    static string Brand(string brandId) => Ids.IsOwner(brandId, brandRequired: true) ? brandId : throw Invalid("brand_id: operator:brand.");

    static string Required(string value, string field) =>
        value.Length is > 0 and <= ContributionRules.MaxIdLength && !value.Any(char.IsControl) ? value : throw Invalid($"{field}: 1-{ContributionRules.MaxIdLength} characters.");

    static RpcException Invalid(string detail) => new(StatusCode.InvalidArgument, detail);

    static Proto.OptInState ToProto(OptInRow r) => new()
    {
        InstanceId = r.InstanceId.ToString(), PlayerId = r.PlayerId, PlayerBrandId = r.BrandId, OptedIn = r.OptedIn,
        PreferredContributionValue = ContributionsGrpc.Format(r.PreferredValue), PreferredCurrency = r.PreferredCurrency ?? "",
        ContributionCount = r.ContributionCount, ContributionValue = ContributionsGrpc.Format(r.ContributionValue), LastUpdated = Time.Ms(r.UpdatedAt),
    };

    static Proto.Instance ToProto(InstanceView v)
    {
        var p = new Proto.Instance
        {
            InstanceId = v.Id.ToString(), TemplateId = v.TemplateId.ToString(), Name = v.Name, OwnerId = v.OwnerId,
            State = Schedules.Status(v.State, v.Schedule, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
            Currency = v.Currency, OptInRequired = v.OptInRequired, JackpotType = v.JackpotType, TimestampStart = v.TimestampStart ?? 0,
            TimestampEnd = v.TimestampEnd ?? 0, LastUpdated = v.LastUpdated, DefaultContributionValue = ContributionsGrpc.Format(v.DefaultContributionValue),
        };
        p.AllowedBrands.AddRange(v.AllowedBrands);
        p.AllowedSources.AddRange(v.AllowedSources);
        p.Pots.AddRange(v.Pots.Select(pot => new Proto.PotTicker { Id = pot.Id, IsProgressive = pot.IsProgressive, CurrentValue = ContributionsGrpc.Format(pot.CurrentValue) }));
        return p;
    }
}
