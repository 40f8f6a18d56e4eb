using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace ThrillSuite.ServiceDefaults.Auth;

/// <summary>Where a service finds the public keys that sign Thrill-ID's tokens.</summary>
public interface ISigningKeySource
{
    IReadOnlyList<SecurityKey> GetKeys(string? kid);
}

/// <summary>
/// Thrill-ID's JWKS, fetched over HTTP and cached; an unknown <c>kid</c> triggers a refresh (at most one per
/// <see cref="MinRefreshInterval"/>, so tokens with random kids cannot make it hammer Thrill-ID). A refresh that failed
/// (Thrill-ID down or slow, say while both restart) is tried again after a second, not after the full interval.
/// </summary>
public sealed class JwksSigningKeySource(Uri jwksUri, HttpClient http, ILogger<JwksSigningKeySource> logger, TimeSpan? minRefreshInterval = null)
    : ISigningKeySource
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(10);
    readonly TimeSpan MinRefreshInterval = minRefreshInterval ?? TimeSpan.FromSeconds(10);
    readonly Lock gate = new();
    IReadOnlyList<JsonWebKey> keys = [];
    DateTime fetchedAt = DateTime.MinValue;
    TimeSpan wait;

    public IReadOnlyList<SecurityKey> GetKeys(string? kid)
    {
        var now = DateTime.UtcNow;
        var current = keys;
        var known = kid is null ? current.Count > 0 : current.Any(k => k.KeyId == kid);
        if ((!known || now - fetchedAt > MaxAge) && now - fetchedAt > wait)
        {
            lock (gate)
            {
                if (DateTime.UtcNow - fetchedAt > wait) current = Refresh();
            }
        }
        return kid is null ? [.. current] : [.. current.Where(k => k.KeyId == kid)];
    }

    IReadOnlyList<JsonWebKey> Refresh()
    {
        fetchedAt = DateTime.UtcNow;
        try
        {
            // Called from token validation, which is synchronous; bounded by the client's timeout.
            var json = http.GetStringAsync(jwksUri).GetAwaiter().GetResult();
            keys = [.. new JsonWebKeySet(json).Keys];
            wait = MinRefreshInterval;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or ArgumentException)
        {
            logger.LogWarning("Could not refresh the JWKS from {JwksUri}: {Error}", jwksUri, ex.Message);
            wait = MinRefreshInterval < TimeSpan.FromSeconds(1) ? MinRefreshInterval : TimeSpan.FromSeconds(1);
        }
        return keys;
    }
}
