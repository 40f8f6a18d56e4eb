using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace ThrillSuite.Data.Outbox;

/// <summary>
/// Writes a message to the outbox in the caller's transaction, so it is published if and only if the state
/// change commits. The current trace context is stored with it, so the publish continues the same trace.
/// </summary>
public static class Outbox
{
    public const string NotifyChannel = "thrillsuite_outbox";
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>An event, published to every subscriber.</summary>
    public static Task<Guid> EnqueueAsync<T>(NpgsqlTransaction transaction, T message, CancellationToken ct = default) where T : class =>
        WriteAsync(transaction, message, null, false, ct);

    /// <summary>An event carrying a secret (a one-time password): its body is blanked once it is published.</summary>
    public static Task<Guid> EnqueueSecretAsync<T>(NpgsqlTransaction transaction, T message, CancellationToken ct = default) where T : class =>
        WriteAsync(transaction, message, null, true, ct);

    /// <summary>A command, sent to <paramref name="queue"/>: RabbitMQ keeps it even if its consumer has never started.</summary>
    public static Task<Guid> SendAsync<T>(NpgsqlTransaction transaction, string queue, T message, CancellationToken ct = default) where T : class =>
        WriteAsync(transaction, message, queue, false, ct);

    static async Task<Guid> WriteAsync<T>(NpgsqlTransaction transaction, T message, string? destination, bool secret, CancellationToken ct) where T : class
    {
        var id = Guid.CreateVersion7();
        var activity = Activity.Current;
        const string sql = """
            insert into outbox_messages (id, message_type, body, trace_parent, trace_state, destination, secret)
            values (@id, @type, cast(@body as jsonb), @traceParent, @traceState, @destination, @secret);
            select pg_notify(@channel, '');
            """;
        await transaction.Connection!.ExecuteAsync(new CommandDefinition(sql, new
        {
            id,
            destination,
            secret,
            type = typeof(T).FullName,
            body = JsonSerializer.Serialize(message, Json),
            traceParent = activity?.Id is { } parent && activity.IdFormat == ActivityIdFormat.W3C ? parent : null,
            traceState = activity?.TraceStateString,
            channel = NotifyChannel,
        }, transaction, cancellationToken: ct));
        return id;
    }
}
