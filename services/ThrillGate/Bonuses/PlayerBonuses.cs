using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.Data.Outbox;

namespace ThrillGate.Bonuses;

/// <summary>Player bonus rows: reading them, awarding them and publishing their events, always in the caller's transaction.</summary>
public static class PlayerBonuses
{
    public sealed record Row(Guid Id, string OperatorId, string BrandId, string PlayerId, string RequestId, Guid? InstanceId, string? PromoId,
        string Name, string Kind, string Currency, decimal? Value, int? Count, int Used, decimal? Amount, decimal AmountUsed, string AvailableFor,
        string State, long AwardedAt, long ExpiresAt, long? ConsumedAt, long? EndedAt)
    {
        public IReadOnlyList<BonusScope> Scopes => JsonSerializer.Deserialize<List<BonusScope>>(AvailableFor, Json)!;
        public bool Exhausted => Kind == FreeSpinType.Fixed ? Used >= Count : AmountUsed >= Amount;
    }

    public sealed record Award(string OperatorId, string BrandId, string RequestId, Guid? InstanceId, string? PromoId, string Name, FreeSpinType Type,
        IReadOnlyList<BonusScope> Scopes, long ExpiresAt, long AwardedAt);

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public const string Columns = """
        id, operator_id as OperatorId, brand_id as BrandId, player_id as PlayerId, request_id as RequestId, instance_id as InstanceId,
        promo_id as PromoId, name, kind, currency, value, count, used, amount, amount_used as AmountUsed, available_for::text as AvailableFor,
        state, awarded_at as AwardedAt, expires_at as ExpiresAt, consumed_at as ConsumedAt, ended_at as EndedAt
        """;

    public static PlayerBonus Doc(Row r) => new(r.Id, r.PromoId, r.InstanceId, r.Scopes,
        new Dictionary<string, BonusFreespins> { ["Freespins"] = new(r.InstanceId ?? r.Id, r.Name, TypeOf(r)) }, r.State, r.AwardedAt, r.ExpiresAt,
        r.ConsumedAt);

    static PlayerFreeSpinType TypeOf(Row r) => r.Kind == FreeSpinType.Fixed
        ? new PlayerFreeSpinType("PlayerFixedFreeSpins", r.Currency, Count: r.Count, Used: r.Used, Value: r.Value)
        : new PlayerFreeSpinType("PlayerVariableFreeSpins", r.Currency, Amount: r.Amount, AmountUsed: r.AmountUsed);

    public static async Task<Row?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id, CancellationToken ct, bool forUpdate = false) =>
        await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} from player_bonuses where id = @id" + (forUpdate ? " for update" : ""), new { id }, tx, cancellationToken: ct));

    /// <summary>Creates one bonus per player and publishes PlayerBonusAdded for each.</summary>
    public static async Task<List<PlayerBonus>> AwardAsync(NpgsqlConnection c, NpgsqlTransaction tx, Award a, IReadOnlyList<string> players, CancellationToken ct)
    {
        var now = a.AwardedAt;
        var docs = new List<PlayerBonus>();
        foreach (var player in players)
        {
            var id = Guid.CreateVersion7();
            await c.ExecuteAsync(new CommandDefinition("""
                insert into player_bonuses (id, operator_id, brand_id, player_id, request_id, instance_id, promo_id, name, kind, currency, value, count,
                    amount, available_for, state, awarded_at, expires_at)
                values (@id, @OperatorId, @BrandId, @player, @RequestId, @InstanceId, @PromoId, @Name, @kind, @currency, @value, @count, @amount,
                    cast(@scopes as jsonb), 'Available', @now, @ExpiresAt)
                """, new
            {
                id, a.OperatorId, a.BrandId, player, a.RequestId, a.InstanceId, a.PromoId, a.Name, kind = a.Type.Kind, currency = a.Type.Currency,
                value = a.Type.Value, count = a.Type.Count, amount = a.Type.Amount, scopes = JsonSerializer.Serialize(a.Scopes, Json), now, a.ExpiresAt,
            }, tx, cancellationToken: ct));
            var row = (await LoadAsync(c, tx, id, ct))!;
            await PublishAsync(tx, row, "Added", now, ct);
            docs.Add(Doc(row));
        }
        return docs;
    }

    /// <summary>Publishes one of the five events about <paramref name="row"/> through the outbox.</summary>
    public static Task PublishAsync(NpgsqlTransaction tx, Row row, string what, long now, CancellationToken ct)
    {
        var doc = Doc(row);
        return what switch
        {
            "Added" => Outbox.EnqueueAsync(tx, new PlayerBonusAdded(row.OperatorId, row.BrandId, row.PlayerId, doc, now), ct),
            "Removed" => Outbox.EnqueueAsync(tx, new PlayerBonusRemoved(row.OperatorId, row.BrandId, row.PlayerId, doc, now), ct),
            "Updated" => Outbox.EnqueueAsync(tx, new PlayerBonusUpdated(row.OperatorId, row.BrandId, row.PlayerId, doc, now), ct),
            "Consumed" => Outbox.EnqueueAsync(tx, new PlayerBonusConsumed(row.OperatorId, row.BrandId, row.PlayerId, doc, now), ct),
            "Expired" => Outbox.EnqueueAsync(tx, new PlayerBonusExpired(row.OperatorId, row.BrandId, row.PlayerId, doc, now), ct),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
    }
}
