using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace ThrillConnect.IntegrationTests;

/// <summary>
/// Service tokens that differ from a genuine one in exactly one way: re-signed with Thrill-ID's real active key (read from
/// its database and decrypted as a replica does: nonce | tag | ciphertext, AES-GCM, PKCS#8) after a claim changed, or
/// signed by a key of the test's own under the real kid.
/// </summary>
public static class Tokens
{
    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary><paramref name="genuine"/>'s claims, changed, signed with the real key.</summary>
    public static async Task<string> ResignAsync(string genuine, Action<JsonObject> change)
    {
        var (header, payload) = Parse(genuine);
        change(payload);
        using var key = await ActiveKeyAsync();
        return Sign(header, payload, key);
    }

    /// <summary><paramref name="genuine"/>'s claims and kid, signed by a key Thrill-ID never issued.</summary>
    public static string Forge(string genuine)
    {
        var (header, payload) = Parse(genuine);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Sign(header, payload, key);
    }

    static (JsonObject Header, JsonObject Payload) Parse(string token)
    {
        var parts = token.Split('.');
        return (JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!.AsObject(), JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject());
    }

    static string Sign(JsonObject header, JsonObject payload, AsymmetricAlgorithm key)
    {
        header["alg"] = key is ECDsa ? "ES256" : "RS256";
        var input = $"{B64(header)}.{B64(payload)}";
        var data = Encoding.ASCII.GetBytes(input);
        var signature = key is ECDsa ec
            ? ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            : ((RSA)key).SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return input + "." + Base64Url.EncodeToString(signature);
    }

    static string B64(JsonObject json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.ToJsonString()));

    static async Task<AsymmetricAlgorithm> ActiveKeyAsync()
    {
        await using var connection = new NpgsqlConnection(Servers.IdDatabase);
        var row = await connection.QuerySingleAsync<(string Algorithm, byte[] Encrypted)>(
            "select algorithm, private_key_encrypted from signing_keys where activated_at is not null and retired_at is null");
        using var aes = new AesGcm(Convert.FromBase64String(Servers.IdEncryptionKey), 16);
        var pkcs8 = new byte[row.Encrypted.Length - 28];
        aes.Decrypt(row.Encrypted.AsSpan(0, 12), row.Encrypted.AsSpan(28), row.Encrypted.AsSpan(12, 16), pkcs8);
        AsymmetricAlgorithm key = row.Algorithm == "ES256" ? ECDsa.Create() : RSA.Create();
        key.ImportPkcs8PrivateKey(pkcs8, out _);
        return key;
    }
}
