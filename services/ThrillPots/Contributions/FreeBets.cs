using System.Globalization;
using ThrillSuite.Grpc;
using ThrillSuite.ServiceDefaults.Hosting;
using Gate = ThrillSuite.Gate.V1;

namespace ThrillPots.Contributions;

/// <summary>
/// Jackpot free bets (spec wallet-thrillgate-freebets.md §8): before a wallet-integrated brand's player is debited, ThrillGate
/// is asked for one use of an applicable bonus, keyed by the contribution's debit transaction id (a pure function of its key
/// and content, so a resent contribution gets the same use back and never burns a second one). A funded contribution is
/// not debited; a refused one gives the use back.
/// </summary>
public sealed class FreeBets(GrpcClients grpc)
{
    /// <summary>The provider id bonuses name in <c>available_for</c> for ThrillSuite's jackpots (the one ThrillGate gives wallets).</summary>
    public const string ProviderId = "thrillsuite";

    static readonly Google.Protobuf.Reflection.ServiceDescriptor Service =
        Gate.GateReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("FreeBets");
    static readonly Google.Protobuf.Reflection.MethodDescriptor ConsumeMethod = Service.FindMethodByName("Consume");
    static readonly Google.Protobuf.Reflection.MethodDescriptor ReleaseMethod = Service.FindMethodByName("Release");

    /// <summary>The use taken, or null when no bonus applies. The game is the contribution's source, else its instance.</summary>
    public async Task<(decimal Amount, Guid BonusId)?> ConsumeAsync(string operatorId, string brand, string playerId, Guid instanceId, Contribution c,
        string key, decimal value, CancellationToken ct)
    {
        var reply = await Client.UnaryAsync<Gate.FreeBetReply>(ConsumeMethod, new Gate.ConsumeFreeBetRequest
        {
            OperatorId = operatorId, BrandId = brand, PlayerId = playerId, ProviderId = ProviderId, GameId = c.SourceId ?? instanceId.ToString(),
            ContributionKey = key, OptInValue = value.ToString(CultureInfo.InvariantCulture), Currency = c.Currency,
        }, CallOptions.WithTimeout(TimeSpan.FromSeconds(30), ct: ct));
        return reply.Funded ? (decimal.Parse(reply.Amount, CultureInfo.InvariantCulture), Guid.Parse(reply.BonusId)) : null;
    }

    public Task ReleaseAsync(string key, CancellationToken ct) =>
        Client.UnaryAsync<Gate.ReleaseFreeBetReply>(ReleaseMethod, new Gate.ReleaseFreeBetRequest { ContributionKey = key },
            CallOptions.WithTimeout(TimeSpan.FromSeconds(30), ct: ct));

    GrpcClient Client => grpc.Get("thrillgate");
}
