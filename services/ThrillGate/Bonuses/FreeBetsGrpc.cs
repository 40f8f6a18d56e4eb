using System.Globalization;
using Dapper;
using Npgsql;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Gate.V1;

namespace ThrillGate.Bonuses;

/// <summary>
/// thrillsuite.gate.v1.FreeBets: consumption of player bonuses by contributions (spec §8.1, §8.6). Each call is one
/// transaction under a per-player advisory lock, so one player's concurrent contributions take uses one after the other
/// and never overspend; the consumption row, keyed by the contribution, makes a retry return the same answer.
/// </summary>
public sealed class FreeBetsGrpc(NpgsqlDataSource db)
{
    public static readonly Google.Protobuf.Reflection.ServiceDescriptor Descriptor =
        Proto.GateReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("FreeBets");

    public async Task<Proto.FreeBetReply> Consume(Proto.ConsumeFreeBetRequest request, ServerCallContext call)
    {
        var ct = call.CancellationToken;
        var operatorId = Required(request.OperatorId, "operator_id");
        var brandId = Required(request.BrandId, "brand_id");
        var playerId = Required(request.PlayerId, "player_id");
        var key = Required(request.ContributionKey, "contribution_key", 256);
        if (!FreeSpinType.ValidCurrency(request.Currency)) throw new RpcException(StatusCode.InvalidArgument, "currency: an ISO 4217 code such as EUR.");
        if (!decimal.TryParse(request.OptInValue, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var optIn) || optIn <= 0)
            throw new RpcException(StatusCode.InvalidArgument, "opt_in_value: a decimal string > 0.");

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await LockPlayerAsync(c, tx, operatorId, brandId, playerId, ct);
        var earlier = await c.QuerySingleOrDefaultAsync<(Guid BonusId, decimal Amount, string Currency, string Kind)?>(new CommandDefinition("""
            select k.bonus_id, k.amount, k.currency, b.kind from bonus_consumptions k join player_bonuses b on b.id = k.bonus_id
            where k.contribution_key = @key
            """, new { key }, tx, cancellationToken: ct));
        if (earlier is { } e) return Funded(e.BonusId, e.Amount, e.Currency, e.Kind);

        var now = BonusFields.Now();
        var candidates = await c.QueryAsync<PlayerBonuses.Row>(new CommandDefinition($"""
            select {PlayerBonuses.Columns} from player_bonuses
            where operator_id = @operatorId and brand_id = @brandId and player_id = @playerId and state = 'Available' and currency = @Currency
              and (expires_at = 0 or expires_at > @now)
            order by case when expires_at = 0 then 1 else 0 end, expires_at, awarded_at, id
            for update
            """, new { operatorId, brandId, playerId, request.Currency, now }, tx, cancellationToken: ct));
        var bonus = candidates.FirstOrDefault(b => BonusFields.Applies(b.Scopes, request.ProviderId, request.GameId));
        if (bonus is null) return new Proto.FreeBetReply { Funded = false };

        var amount = bonus.Kind == FreeSpinType.Fixed ? bonus.Value!.Value : Math.Min(optIn, bonus.Amount!.Value - bonus.AmountUsed);
        var exhausted = bonus.Kind == FreeSpinType.Fixed ? bonus.Used + 1 >= bonus.Count : bonus.AmountUsed + amount >= bonus.Amount;
        await c.ExecuteAsync(new CommandDefinition("""
            update player_bonuses set used = used + @fixedUse, amount_used = amount_used + @variableUse,
                state = case when @exhausted then 'Consumed' else state end, consumed_at = case when @exhausted then @now else consumed_at end
            where id = @Id;
            insert into bonus_consumptions (contribution_key, bonus_id, amount, currency) values (@key, @Id, @amount, @Currency);
            """, new
        {
            bonus.Id, fixedUse = bonus.Kind == FreeSpinType.Fixed ? 1 : 0, variableUse = bonus.Kind == FreeSpinType.Variable ? amount : 0m, exhausted, now,
            key, amount, bonus.Currency,
        }, tx, cancellationToken: ct));
        var after = (await PlayerBonuses.LoadAsync(c, tx, bonus.Id, ct))!;
        await PlayerBonuses.PublishAsync(tx, after, "Updated", now, ct);
        if (exhausted) await PlayerBonuses.PublishAsync(tx, after, "Consumed", now, ct);
        await tx.CommitAsync(ct);
        return Funded(bonus.Id, amount, bonus.Currency, bonus.Kind);
    }

    /// <summary>
    /// Gives the use back: a Consumed bonus becomes Available again; an Expired or Removed one gets its count back but stays
    /// as it is.
    /// </summary>
    public async Task<Proto.ReleaseFreeBetReply> Release(Proto.ReleaseFreeBetRequest request, ServerCallContext call)
    {
        var ct = call.CancellationToken;
        var key = Required(request.ContributionKey, "contribution_key", 256);
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var owner = await c.QuerySingleOrDefaultAsync<(string OperatorId, string BrandId, string PlayerId)?>(new CommandDefinition("""
            select b.operator_id, b.brand_id, b.player_id from bonus_consumptions k join player_bonuses b on b.id = k.bonus_id where k.contribution_key = @key
            """, new { key }, tx, cancellationToken: ct));
        if (owner is not { } o) return new Proto.ReleaseFreeBetReply { Released = false };
        await LockPlayerAsync(c, tx, o.OperatorId, o.BrandId, o.PlayerId, ct);
        var taken = await c.QuerySingleOrDefaultAsync<(Guid BonusId, decimal Amount)?>(new CommandDefinition(
            "delete from bonus_consumptions where contribution_key = @key returning bonus_id, amount", new { key }, tx, cancellationToken: ct));
        if (taken is not { } t) return new Proto.ReleaseFreeBetReply { Released = false };
        await c.ExecuteAsync(new CommandDefinition("""
            update player_bonuses set used = case when kind = 'Fixed' then used - 1 else used end,
                amount_used = case when kind = 'Variable' then amount_used - @Amount else amount_used end,
                state = case when state = 'Consumed' then 'Available' else state end,
                consumed_at = case when state = 'Consumed' then null else consumed_at end
            where id = @BonusId
            """, new { t.BonusId, t.Amount }, tx, cancellationToken: ct));
        var after = (await PlayerBonuses.LoadAsync(c, tx, t.BonusId, ct))!;
        await PlayerBonuses.PublishAsync(tx, after, "Updated", BonusFields.Now(), ct);
        await tx.CommitAsync(ct);
        return new Proto.ReleaseFreeBetReply { Released = true };
    }

    static Task LockPlayerAsync(NpgsqlConnection c, NpgsqlTransaction tx, string operatorId, string brandId, string playerId, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended(@k, 9))", new { k = $"bonus\n{operatorId}\n{brandId}\n{playerId}" },
            tx, cancellationToken: ct));

    static Proto.FreeBetReply Funded(Guid bonusId, decimal amount, string currency, string kind) => new()
    {
        Funded = true, Amount = amount.ToString(CultureInfo.InvariantCulture), Currency = currency, BonusId = bonusId.ToString(), BonusType = kind,
    };

    static string Required(string value, string field, int max = 128) =>
        value.Length is > 0 && value.Length <= max && !value.Any(char.IsControl)
            ? value
            : throw new RpcException(StatusCode.InvalidArgument, $"{field}: required, 1-{max} characters.");
}

/// <summary>Expires available bonuses whose time has come and publishes PlayerBonusExpired for each.</summary>
public sealed class BonusExpirySweeper(NpgsqlDataSource db, ILogger<BonusExpirySweeper> logger) : ThrillSuite.ServiceDefaults.Hosting.PollingService(logger)
{
    protected override int RoundSize => 100;
    protected override TimeSpan PollInterval => TimeSpan.FromSeconds(1);

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var now = BonusFields.Now();
        var ids = (await c.QueryAsync<Guid>(new CommandDefinition("""
            update player_bonuses set state = 'Expired', ended_at = @now
            where id in (select id from player_bonuses where state = 'Available' and expires_at > 0 and expires_at <= @now
                         order by expires_at limit 100 for update skip locked)
            returning id
            """, new { now }, tx, cancellationToken: ct))).ToList();
        foreach (var id in ids) await PlayerBonuses.PublishAsync(tx, (await PlayerBonuses.LoadAsync(c, tx, id, ct))!, "Expired", now, ct);
        await tx.CommitAsync(ct);
        return ids.Count;
    }
}
