using Dapper;
using MassTransit;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ThrillSuite.Data.Inbox;

/// <summary>
/// A consumer that handles each message id once: the inbox row and the handler's writes commit in one
/// transaction, and MassTransit acknowledges only after that commit. A redelivery (or a relay re-publish)
/// finds the row and is acknowledged without effect; a failure rolls back and the message is retried.
/// </summary>
public abstract class IdempotentConsumer<T>(NpgsqlDataSource db, ILogger logger) : IConsumer<T> where T : class
{
    protected virtual string ConsumerName => GetType().Name;

    public async Task Consume(ConsumeContext<T> context)
    {
        var messageId = context.MessageId
            ?? throw new InvalidOperationException($"{typeof(T).Name} arrived without a MessageId; it cannot be deduplicated.");
        var ct = context.CancellationToken;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var first = await connection.ExecuteAsync(new CommandDefinition(
            "insert into inbox_messages (message_id, consumer) values (@messageId, @consumer) on conflict do nothing",
            new { messageId, consumer = ConsumerName }, tx, cancellationToken: ct));
        if (first == 0)
        {
            logger.LogInformation("{Consumer} skipped duplicate {MessageType} {MessageId}", ConsumerName, typeof(T).Name, messageId);
            OnDuplicate(messageId);
            return;
        }
        await HandleAsync(context, tx);
        await tx.CommitAsync(ct);
    }

    /// <summary>Called when a message id was already handled (for metrics).</summary>
    protected virtual void OnDuplicate(Guid messageId) { }

    /// <summary>Applies the message inside <paramref name="transaction"/>; throw to have it retried.</summary>
    protected abstract Task HandleAsync(ConsumeContext<T> context, NpgsqlTransaction transaction);
}
