using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillSuite.ServiceDefaults.Secrets;

namespace ThrillGate.Wallets;

public sealed class WalletOptions
{
    /// <summary>Base64 of 32 random bytes: seals wallets' HMAC secrets at rest (required).</summary>
    public string EncryptionKey { get; set; } = "";
    /// <summary>How long a definition read for a call is reused; an update through this replica is seen at once.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How long a successful player authentication is reused for the same token.</summary>
    public TimeSpan AuthenticationCacheFor { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>A brand's enabled wallet with its secret opened, as the outgoing calls need it.</summary>
public sealed record Wallet(WalletDefinition Definition, byte[] Secret, int Version);

/// <summary>Reads wallet definitions, per brand, cached briefly; seals and opens their secrets.</summary>
public sealed class WalletStore(NpgsqlDataSource db, IOptions<WalletOptions> options)
{
    static readonly JsonSerializerOptions Json = Audit.Json;
    readonly ConcurrentDictionary<(string Operator, string Brand), (Wallet? Wallet, long Expires)> cache = new();
    SecretBox Box => SecretBox.FromBase64(options.Value.EncryptionKey);

    public byte[] Seal(string secret) => Box.Seal(Encoding.UTF8.GetBytes(secret));

    public static string Serialize(WalletDefinition definition) => JsonSerializer.Serialize(definition, Json);

    public static WalletDefinition Deserialize(string json) => JsonSerializer.Deserialize<WalletDefinition>(json, Json)!;

    /// <summary>The brand's enabled wallet, or null when none is configured.</summary>
    public async Task<Wallet?> ForBrandAsync(string operatorId, string brandId, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (cache.TryGetValue((operatorId, brandId), out var hit) && hit.Expires > now) return hit.Wallet;
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<(string Definition, byte[] Secret, int Version)>(new CommandDefinition(
            "select definition::text, secret, version from wallets where operator_id = @operatorId and brand_id = @brandId and enabled",
            new { operatorId, brandId }, cancellationToken: ct));
        var wallet = row.Definition is null ? null : new Wallet(Deserialize(row.Definition), Box.Open(row.Secret), row.Version);
        cache[(operatorId, brandId)] = (wallet, now + (long)options.Value.CacheFor.TotalMilliseconds);
        return wallet;
    }

    /// <summary>After a change through this replica, so its next call reads the new definition.</summary>
    public void Forget(string operatorId, string brandId) => cache.TryRemove((operatorId, brandId), out _);
}
