using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillSuite.ServiceDefaults.Secrets;

namespace BitBridge.Dispatchers;

public sealed class DispatcherOptions
{
    /// <summary>Base64 of 32 random bytes: seals dispatchers' secrets at rest (required).</summary>
    public string EncryptionKey { get; set; } = "";
    /// <summary>How long a dispatcher read for a delivery is reused; a change through this replica is seen at once.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>A dispatcher as a delivery needs it: its definition with the secrets opened.</summary>
public sealed record Dispatcher(DispatcherDefinition Definition, DispatcherSecrets Secrets, int Version);

/// <summary>Dispatcher rows: read (cached briefly for the deliverer), mapped to the API document, secrets sealed and opened.</summary>
public sealed class DispatcherStore(NpgsqlDataSource db, IOptions<DispatcherOptions> options)
{
    public static readonly JsonSerializerOptions Json = Audit.Json;
    readonly ConcurrentDictionary<string, (Dispatcher? Dispatcher, long Expires)> cache = new();
    SecretBox Box => SecretBox.FromBase64(options.Value.EncryptionKey);

    /// <summary>A dispatcher as returned by the API: the settings, and for the secret only whether it is set.</summary>
    public sealed record DispatcherDoc(string Id, string DispatcherType, string? OperatorId, string? BrandId, string OwnerId, string[] EventTypes,
        bool Enabled, JsonObject Config, int Priority, int Version, DateTime Created, DateTime Updated);

    public sealed record Row(string Id, string DispatcherType, string? OperatorId, string? BrandId, string OwnerId, string[] EventTypes, bool Enabled,
        string Config, byte[]? Secrets, int Priority, int Version, DateTime CreatedAt, DateTime UpdatedAt)
    {
        public DispatcherDefinition Definition => new(Id, DispatcherType, OperatorId, BrandId, OwnerId, EventTypes, Enabled,
            JsonSerializer.Deserialize<DispatcherConfig>(Config, Json)!, Priority);
    }

    public const string Select = """
        select id as Id, dispatcher_type as DispatcherType, operator_id as OperatorId, brand_id as BrandId, owner_id as OwnerId,
               event_types as EventTypes, enabled as Enabled, config::text as Config, secrets as Secrets, priority as Priority, version as Version,
               created_at as CreatedAt, updated_at as UpdatedAt
        from dispatchers
        """;

    /// <summary>The secret each type keeps, as named in its config.</summary>
    public static string SecretField(string type) => type switch
    {
        DispatcherDefinition.Smtp => "pass",
        DispatcherDefinition.Telegram => "token",
        DispatcherDefinition.Webhook => "secret",
        _ => "password",
    };

    public byte[] Seal(DispatcherSecrets secrets) => Box.Seal(JsonSerializer.SerializeToUtf8Bytes(secrets, Json));

    public DispatcherSecrets Open(byte[]? sealedSecrets) =>
        sealedSecrets is null ? new DispatcherSecrets() : JsonSerializer.Deserialize<DispatcherSecrets>(Box.Open(sealedSecrets), Json)!;

    public DispatcherDoc Doc(Row row)
    {
        var config = JsonNode.Parse(row.Config)!.AsObject();
        var secret = SecretField(row.DispatcherType);
        var secrets = Open(row.Secrets);
        config[secret + "_set"] = (secret switch { "pass" => secrets.Pass, "token" => secrets.Token, "secret" => secrets.Secret, _ => secrets.Password }) is not null;
        return new DispatcherDoc(row.Id, row.DispatcherType, row.OperatorId, row.BrandId, row.OwnerId, row.EventTypes, row.Enabled, config, row.Priority,
            row.Version, DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc), DateTime.SpecifyKind(row.UpdatedAt, DateTimeKind.Utc));
    }

    public static Task<Row?> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string id, CancellationToken ct, bool forUpdate = false) =>
        c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(Select + " where id = @id" + (forUpdate ? " for update" : ""), new { id }, tx,
            cancellationToken: ct));

    /// <summary>The dispatcher with its secrets, or null when it was deleted.</summary>
    public async Task<Dispatcher?> GetAsync(string id, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (cache.TryGetValue(id, out var hit) && hit.Expires > now) return hit.Dispatcher;
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await LoadAsync(c, null, id, ct);
        var dispatcher = row is null ? null : new Dispatcher(row.Definition, Open(row.Secrets), row.Version);
        cache[id] = (dispatcher, now + (long)options.Value.CacheFor.TotalMilliseconds);
        return dispatcher;
    }

    /// <summary>After a change through this replica, so its next delivery reads the new definition.</summary>
    public void Forget(string id) => cache.TryRemove(id, out _);
}
