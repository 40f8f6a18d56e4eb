using MassTransit;
using ThrillSuite.Contracts.Pots;

namespace ThrillConnect.Realtime;

// Each replica has its own temporary queue per event (see ThrillConnectExtensions): every replica sees every event, and a
// replica's queue goes away with it. Missed tickers are repaired by the next one (or the 5 s heartbeat); a connection that
// was on a replica that died reconnects and gets a snapshot.

public sealed class JackpotUpdatedConsumer(Hub hub) : IConsumer<JackpotUpdated>
{
    public Task Consume(ConsumeContext<JackpotUpdated> context) => hub.PublishAsync(context.Message);
}

public sealed class JackpotWonConsumer(Hub hub) : IConsumer<JackpotWon>
{
    public Task Consume(ConsumeContext<JackpotWon> context) => hub.PublishAsync(context.Message);
}

public sealed class OptInChangedConsumer(Hub hub) : IConsumer<OptInChanged>
{
    public Task Consume(ConsumeContext<OptInChanged> context)
    {
        hub.Publish(context.Message);
        return Task.CompletedTask;
    }
}
