using ThrillSuite.Contracts.Gate;
using ThrillSuite.Contracts.Id;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.ServiceDefaults.Auth;

namespace BitBridge.Events;

/// <summary>An event BitBridge consumes: the name dispatchers and templates list, and where it belongs (operator, brand).</summary>
public sealed record EventKind(string Name, Type Type, Func<object, (string? Operator, string? Brand)> Scope);

/// <summary>
/// Everything ThrillPots, ThrillGate and Thrill-ID publish. Names are the ThrillTech event names where the spec gives one
/// (JackpotWinEvent, OptInEvent, JackpotUpdateEvent), else the contract's name.
/// </summary>
public static class EventKinds
{
    public static readonly IReadOnlyList<EventKind> All =
    [
        Kind<JackpotWon>(JackpotWon.EventType, e => Owner(e.BrandId)),
        Kind<OptInChanged>(OptInChanged.EventType, e => Owner(e.PlayerBrandId)),
        Kind<JackpotUpdated>(JackpotUpdated.EventType, e => Owner(e.OwnerId)),
        Kind<RaffleWon>(RaffleWon.EventType, e => Owner(e.BrandId)),
        Kind<WinCredited>(nameof(WinCredited), e => Owner(e.BrandId)),
        Kind<WinCreditPending>(nameof(WinCreditPending), e => Owner(e.BrandId)),
        Kind<WinCreditFailed>(nameof(WinCreditFailed), e => Owner(e.BrandId)),
        Kind<CommunityPayoutError>(CommunityPayoutError.EventType, e => Owner(e.BrandId)),
        Kind<RafflePayoutError>(RafflePayoutError.EventType, e => Owner(e.BrandId)),
        Kind<PlayerBonusAdded>(nameof(PlayerBonusAdded), e => (e.OperatorId, e.BrandId)),
        Kind<PlayerBonusRemoved>(nameof(PlayerBonusRemoved), e => (e.OperatorId, e.BrandId)),
        Kind<PlayerBonusUpdated>(nameof(PlayerBonusUpdated), e => (e.OperatorId, e.BrandId)),
        Kind<PlayerBonusConsumed>(nameof(PlayerBonusConsumed), e => (e.OperatorId, e.BrandId)),
        Kind<PlayerBonusExpired>(nameof(PlayerBonusExpired), e => (e.OperatorId, e.BrandId)),
        Kind<ForgotPasswordStarted>(nameof(ForgotPasswordStarted), e => (e.OrgId, e.UnitId)),
    ];

    static readonly Dictionary<Type, EventKind> ByType = All.ToDictionary(k => k.Type);

    public static EventKind Of<T>() => ByType[typeof(T)];

    static EventKind Kind<T>(string name, Func<T, (string?, string?)> scope) => new(name, typeof(T), e => scope((T)e));

    static (string?, string?) Owner(string owner) => Permissions.ParseOwner(owner);
}
