using Dapper;
using MassTransit;
using Npgsql;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.Data.Inbox;

namespace ThrillPots.Consumers;

/// <summary>
/// What ThrillGate did with a win's (or a payout's) credit, onto the win or payout (design.md §4 win_withheld): paid — no longer withheld; pending or
/// failed — withheld (still owed) until a later WinCredited. A late pending never overrides a payment already recorded.
/// </summary>
public static class CreditOutcomes
{
    /// <summary><paramref name="winId"/> is a win's id or a multi-player payout's (community share, raffle prize).</summary>
    public static Task SetAsync(NpgsqlTransaction tx, Guid winId, string status, bool withheld, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition("""
            update wins set payout_status = @status, win_withheld = @withheld where id = @winId and payout_status <> 'paid';
            update payouts set payout_status = @status, win_withheld = @withheld where id = @winId and payout_status <> 'paid';
            """, new { winId, status, withheld }, tx, cancellationToken: ct));
}

public sealed class WinCreditedConsumer(NpgsqlDataSource db, ILogger<WinCreditedConsumer> logger) : IdempotentConsumer<WinCredited>(db, logger)
{
    protected override Task HandleAsync(ConsumeContext<WinCredited> context, NpgsqlTransaction transaction) =>
        CreditOutcomes.SetAsync(transaction, context.Message.WinId, "paid", false, context.CancellationToken);
}

public sealed class WinCreditPendingConsumer(NpgsqlDataSource db, ILogger<WinCreditPendingConsumer> logger) : IdempotentConsumer<WinCreditPending>(db, logger)
{
    protected override Task HandleAsync(ConsumeContext<WinCreditPending> context, NpgsqlTransaction transaction) =>
        CreditOutcomes.SetAsync(transaction, context.Message.WinId, "pending", true, context.CancellationToken);
}

public sealed class WinCreditFailedConsumer(NpgsqlDataSource db, ILogger<WinCreditFailedConsumer> logger) : IdempotentConsumer<WinCreditFailed>(db, logger)
{
    protected override Task HandleAsync(ConsumeContext<WinCreditFailed> context, NpgsqlTransaction transaction) =>
        CreditOutcomes.SetAsync(transaction, context.Message.WinId, "failed", true, context.CancellationToken);
}
