using MassTransit;
using ThrillSuite.Contracts.Gate;

namespace ThrillConnect.Realtime;

/// <summary>
/// A player bonus as the freebet events carry it (spec services-id-connect-bitbridge.md §9.4): the contract's record with
/// <c>freespin_type</c> written as its own variant only (a fixed one has count/used/value, a variable one amount/amount_used).
/// </summary>
public sealed record PlayerBonusData(Guid Id, string? PromoId, Guid? BonusInstanceId, IReadOnlyList<BonusScope> AvailableFor,
    IReadOnlyDictionary<string, BonusFreespinsData> BonusData, string State, long TimestampBonusAwarded, long TimestampBonusExpires,
    long? TimestampBonusConsumed)
{
    public static PlayerBonusData Of(PlayerBonus b) => new(b.Id, b.PromoId, b.BonusInstanceId, b.AvailableFor,
        b.BonusData.ToDictionary(kv => kv.Key, kv => new BonusFreespinsData(kv.Value.Id, kv.Value.Name, FreeSpinType(kv.Value.FreespinType))),
        b.State, b.TimestampBonusAwarded, b.TimestampBonusExpires, b.TimestampBonusConsumed);

    static object FreeSpinType(PlayerFreeSpinType t) => t.Type == "PlayerFixedFreeSpins"
        ? new FixedFreeSpins(t.Type, t.Count ?? 0, t.Used ?? 0, t.Currency, t.Value ?? 0)
        : new VariableFreeSpins(t.Type, t.Amount ?? 0, t.AmountUsed ?? 0, t.Currency);
}

public sealed record BonusFreespinsData(Guid Id, string Name, object FreespinType);

public sealed record FixedFreeSpins(string Type, int Count, int Used, string Currency, decimal Value);

public sealed record VariableFreeSpins(string Type, decimal Amount, decimal AmountUsed, string Currency);

/// <summary>
/// ThrillGate's freebet lifecycle (source <c>thrillgate</c>), pushed to the player it belongs to and to the services that may
/// read the brand; one per-replica queue like the other events, so the replica holding the player's socket sees it.
/// </summary>
public sealed class PlayerBonusConsumer(Hub hub) :
    IConsumer<PlayerBonusAdded>, IConsumer<PlayerBonusRemoved>, IConsumer<PlayerBonusUpdated>, IConsumer<PlayerBonusConsumed>,
    IConsumer<PlayerBonusExpired>
{
    public Task Consume(ConsumeContext<PlayerBonusAdded> c) => Push(c, nameof(PlayerBonusAdded), c.Message.OperatorId, c.Message.BrandId,
        c.Message.PlayerId, c.Message.Data, c.Message.Timestamp);

    public Task Consume(ConsumeContext<PlayerBonusRemoved> c) => Push(c, nameof(PlayerBonusRemoved), c.Message.OperatorId, c.Message.BrandId,
        c.Message.PlayerId, c.Message.Data, c.Message.Timestamp);

    public Task Consume(ConsumeContext<PlayerBonusUpdated> c) => Push(c, nameof(PlayerBonusUpdated), c.Message.OperatorId, c.Message.BrandId,
        c.Message.PlayerId, c.Message.Data, c.Message.Timestamp);

    public Task Consume(ConsumeContext<PlayerBonusConsumed> c) => Push(c, nameof(PlayerBonusConsumed), c.Message.OperatorId, c.Message.BrandId,
        c.Message.PlayerId, c.Message.Data, c.Message.Timestamp);

    public Task Consume(ConsumeContext<PlayerBonusExpired> c) => Push(c, nameof(PlayerBonusExpired), c.Message.OperatorId, c.Message.BrandId,
        c.Message.PlayerId, c.Message.Data, c.Message.Timestamp);

    Task Push(ConsumeContext context, string name, string operatorId, string brandId, string playerId, PlayerBonus data, long timestamp)
    {
        hub.PublishBonus(context.MessageId, name, operatorId, brandId, playerId, data, timestamp);
        return Task.CompletedTask;
    }
}
