using System.Security.Cryptography;
using ThrillSuite.ServiceDefaults.Secrets;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using ThrillSuite.ServiceDefaults.Auth;

namespace ThrillId.Keys;

public sealed record SigningKeyInfo(string Kid, string Alg, DateTime CreatedAt, DateTime? ActivatedAt, DateTime? RetiredAt, DateTime? PublishedUntil);

/// <summary>
/// Thrill-ID's signing keys: kept in its database with the private part AES-GCM encrypted, one active key signs,
/// retired keys stay published in the JWKS until every token they signed has expired. Replicas reload the set
/// every minute; a rotation happens under an advisory lock so two replicas cannot both rotate.
/// </summary>
public sealed class SigningKeyStore(NpgsqlDataSource db, IOptions<SigningKeyOptions> keyOptions, IOptions<ThrillIdOptions> idOptions)
    : ISigningKeySource
{
    const long RotationLock = 0x7468_6964_6b65_7973;
    volatile Snapshot current = new(null, []);

    sealed record Snapshot(SigningCredentials? Active, IReadOnlyList<(JsonWebKey Key, DateTime? Until)> All)
    {
        // A retired key leaves the set the moment its last token expires, not at the next reload.
        public IEnumerable<JsonWebKey> Published => All.Where(k => k.Until is null || k.Until > DateTime.UtcNow).Select(k => k.Key);
    }

    public SigningCredentials Active => current.Active ?? throw new InvalidOperationException("No active signing key is loaded.");

    public IReadOnlyList<SecurityKey> GetKeys(string? kid) =>
        kid is null ? [.. current.Published] : [.. current.Published.Where(k => k.KeyId == kid)];

    public object Jwks() => new
    {
        keys = current.Published.Select(k => k.Kty == "EC"
            ? (object)new { kty = k.Kty, kid = k.Kid, use = "sig", alg = k.Alg, crv = k.Crv, x = k.X, y = k.Y }
            : new { kty = k.Kty, kid = k.Kid, use = "sig", alg = k.Alg, n = k.N, e = k.E }),
    };

    /// <summary>Loads the keys; creates the first one, or rotates when the active key is older than the rotation period.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        var rows = await LoadAsync(ct);
        var active = rows.FirstOrDefault(r => r.ActivatedAt is not null && r.RetiredAt is null);
        var due = active is null || active.ActivatedAt < DateTime.UtcNow.AddDays(-keyOptions.Value.RotationDays);
        if (due) rows = await RotateAsync(onlyIfDue: true, ct);
        Publish(rows);
    }

    public async Task<SigningKeyInfo> RotateNowAsync(CancellationToken ct)
    {
        var rows = await RotateAsync(onlyIfDue: false, ct);
        Publish(rows);
        return Info(rows.Single(r => r.ActivatedAt is not null && r.RetiredAt is null));
    }

    public async Task<IReadOnlyList<SigningKeyInfo>> ListAsync(CancellationToken ct) => [.. (await LoadAsync(ct)).Select(Info)];

    async Task<List<KeyRow>> RotateAsync(bool onlyIfDue, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync("select pg_advisory_xact_lock(@RotationLock)", new { RotationLock }, tx);
        var active = await connection.QuerySingleOrDefaultAsync<DateTime?>(
            "select activated_at from signing_keys where activated_at is not null and retired_at is null", transaction: tx);
        if (!onlyIfDue || active is null || active < DateTime.UtcNow.AddDays(-keyOptions.Value.RotationDays))
        {
            // Tokens signed by the retiring key live at most the longest access-token lifetime (plus skew).
            var publishedUntil = DateTime.UtcNow + idOptions.Value.LongestAccessTokenLifetime + TokenValidationSettings.ClockSkew;
            await connection.ExecuteAsync("""
                update signing_keys set retired_at = now(), published_until = @publishedUntil
                where activated_at is not null and retired_at is null
                """, new { publishedUntil }, tx);
            var (kid, encrypted, jwk) = CreateKey();
            await connection.ExecuteAsync("""
                insert into signing_keys (kid, algorithm, private_key_encrypted, public_jwk, activated_at)
                values (@kid, @alg, @encrypted, cast(@jwk as jsonb), now())
                """, new { kid, alg = keyOptions.Value.Algorithm, encrypted, jwk }, tx);
        }
        await tx.CommitAsync(ct);
        return await LoadAsync(ct);
    }

    async Task<List<KeyRow>> LoadAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        const string sql = """
            select kid as Kid, algorithm as Alg, private_key_encrypted as PrivateKeyEncrypted, public_jwk::text as PublicJwk,
                   created_at as CreatedAt, activated_at as ActivatedAt, retired_at as RetiredAt, published_until as PublishedUntil
            from signing_keys
            where published_until is null or published_until > now()
            order by created_at
            """;
        return [.. await connection.QueryAsync<KeyRow>(new CommandDefinition(sql, cancellationToken: ct))];
    }

    void Publish(List<KeyRow> rows)
    {
        var activeRow = rows.FirstOrDefault(r => r.ActivatedAt is not null && r.RetiredAt is null);
        SigningCredentials? active = null;
        if (activeRow is not null)
        {
            var pkcs8 = Decrypt(activeRow.PrivateKeyEncrypted);
            SecurityKey key;
            if (activeRow.Alg == "ES256")
            {
                var ec = ECDsa.Create();
                ec.ImportPkcs8PrivateKey(pkcs8, out _);
                key = new ECDsaSecurityKey(ec) { KeyId = activeRow.Kid };
            }
            else
            {
                var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(pkcs8, out _);
                key = new RsaSecurityKey(rsa) { KeyId = activeRow.Kid };
            }
            active = new SigningCredentials(key, activeRow.Alg);
        }
        current = new Snapshot(active, [.. rows.Select(r => (new JsonWebKey(r.PublicJwk), r.PublishedUntil))]);
    }

    (string Kid, byte[] Encrypted, string Jwk) CreateKey()
    {
        var kid = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12));
        var alg = keyOptions.Value.Algorithm;
        if (alg == "ES256")
        {
            using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var p = ec.ExportParameters(false);
            var jwk = JsonSerializer.Serialize(new
            {
                kty = "EC", kid, use = "sig", alg, crv = "P-256",
                x = Base64UrlEncoder.Encode(p.Q.X), y = Base64UrlEncoder.Encode(p.Q.Y),
            });
            return (kid, Encrypt(ec.ExportPkcs8PrivateKey()), jwk);
        }
        using var rsa = RSA.Create(2048);
        var r = rsa.ExportParameters(false);
        var rsaJwk = JsonSerializer.Serialize(new
        {
            kty = "RSA", kid, use = "sig", alg, n = Base64UrlEncoder.Encode(r.Modulus), e = Base64UrlEncoder.Encode(r.Exponent),
        });
        return (kid, Encrypt(rsa.ExportPkcs8PrivateKey()), rsaJwk);
    }

    byte[] Encrypt(byte[] plaintext)
    {
        var sealedKey = new SecretBox(keyOptions.Value.EncryptionKeyBytes).Seal(plaintext);
        CryptographicOperations.ZeroMemory(plaintext);
        return sealedKey;
    }

    byte[] Decrypt(byte[] stored)
    {
        try
        {
            return new SecretBox(keyOptions.Value.EncryptionKeyBytes).Open(stored);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new ThrillSuite.ServiceDefaults.Hosting.StartupSettingException(
                "SigningKeys:EncryptionKey (env SigningKeys__EncryptionKey) does not decrypt the stored signing keys: it is not the key they were written with.");
        }
    }

    static SigningKeyInfo Info(KeyRow r) => new(r.Kid, r.Alg, r.CreatedAt, r.ActivatedAt, r.RetiredAt, r.PublishedUntil);

    sealed record KeyRow(string Kid, string Alg, byte[] PrivateKeyEncrypted, string PublicJwk, DateTime CreatedAt,
        DateTime? ActivatedAt, DateTime? RetiredAt, DateTime? PublishedUntil);
}
