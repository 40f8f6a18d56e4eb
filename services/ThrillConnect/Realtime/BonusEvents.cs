using MassTransit;
using ThrillSuite.Contracts.Gate;

namespace ThrillConnect.Realtime;

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
