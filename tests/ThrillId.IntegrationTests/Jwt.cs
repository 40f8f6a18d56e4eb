using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace ThrillId.IntegrationTests;

/// <summary>A JWT taken apart: header and payload as mutable JSON, the signature and the signed input as sent.</summary>
public sealed record JwtParts(JsonObject Header, JsonObject Payload, string Signature, string SignedInput)
{
    public string? Kid => Header["kid"]?.GetValue<string>();
    public long Long(string claim) => Payload[claim]!.GetValue<long>();
    public string Str(string claim) => Payload[claim]!.GetValue<string>();
    public string[] Strings(string claim) => Payload[claim] switch
    {
        JsonArray a => [.. a.Select(n => n!.GetValue<string>())],
        JsonValue v => [v.GetValue<string>()],
        _ => [],
    };
    public string[] Scopes => Payload["scope"]?.GetValue<string>().Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
}

/// <summary>Takes tokens apart and forges new ones, byte by byte, so every attack is exactly what it says.</summary>
public static class Jwt
{
    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static JwtParts Parse(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) throw new FormatException("not a compact JWS: " + token);
        return new JwtParts(
            JsonNode.Parse(Base64UrlEncoder.DecodeBytes(parts[0]))!.AsObject(),
            JsonNode.Parse(Base64UrlEncoder.DecodeBytes(parts[1]))!.AsObject(),
            parts[2], parts[0] + "." + parts[1]);
    }

    public static string B64(byte[] bytes) => Base64UrlEncoder.Encode(bytes);
    public static string B64(JsonObject json) => B64(Encoding.UTF8.GetBytes(json.ToJsonString()));

    public static JsonObject Copy(JsonObject json) => JsonNode.Parse(json.ToJsonString())!.AsObject();

    /// <summary>header.payload.signature with the given signature (the empty one for <c>alg: none</c>).</summary>
    public static string Assemble(JsonObject header, JsonObject payload, string signature = "") =>
        $"{B64(header)}.{B64(payload)}.{signature}";

    public static string SignHs256(JsonObject header, JsonObject payload, byte[] secret)
    {
        var input = $"{B64(header)}.{B64(payload)}";
        return input + "." + B64(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    /// <summary>Signs with <paramref name="key"/> (ECDsa → ES256, RSA → RS256); the header's alg is set to match.</summary>
    public static string Sign(JsonObject header, JsonObject payload, AsymmetricAlgorithm key)
    {
        header = Copy(header);
        header["alg"] = key is ECDsa ? "ES256" : "RS256";
        var input = $"{B64(header)}.{B64(payload)}";
        var data = Encoding.ASCII.GetBytes(input);
        var signature = key switch
        {
            // JWS (RFC 7518 §3.4): R || S, fixed width, not DER.
            ECDsa ec => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("ECDsa or RSA", nameof(key)),
        };
        return input + "." + B64(signature);
    }

    /// <summary>A payload with every contract claim, valid now, for <paramref name="issuer"/>; a base for signed forgeries.</summary>
    public static JsonObject Claims(JwtParts model) => Copy(model.Payload).Also(p =>
    {
        var now = Now;
        p["jti"] = Guid.NewGuid().ToString("N");
        p["iat"] = now;
        p["nbf"] = now;
        p["exp"] = now + 600;
    });

    /// <summary>Validates <paramref name="token"/> as an independent resource server would: against the published JWKS only.</summary>
    public static async Task<TokenValidationResult> ValidateAgainstJwksAsync(string token, JsonElement jwks, string issuer)
    {
        var keys = new JsonWebKeySet(jwks.GetRawText()).GetSigningKeys();
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = "thrillsuite",
            IssuerSigningKeys = keys,
            ValidAlgorithms = ["ES256", "RS256"],
            ClockSkew = TimeSpan.FromSeconds(30),
        });
    }

    /// <summary>A token signed by a key of the test's own, through the library a resource server would use.</summary>
    public static string SignWithOwnKey(JsonObject payload, SecurityKey key, string algorithm, IDictionary<string, object>? extraHeader = null) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(payload.ToJsonString(),
            new SigningCredentials(key, algorithm), extraHeader ?? new Dictionary<string, object>());
}

/// <summary>
/// Thrill-ID's real active signing key, read from its database and decrypted with SigningKeys:EncryptionKey as a
/// replica does (nonce | tag | ciphertext, AES-GCM, PKCS#8). Tests use it only to mint tokens that differ from a
/// genuine one in exactly one claim (expired, not yet valid, wrong issuer or audience), with a genuine-looking control.
/// </summary>
public static class Insider
{
    public static async Task<(string Kid, AsymmetricAlgorithm Key)> ActiveKeyAsync(ThrillIdInstance instance)
    {
        await using var connection = new NpgsqlConnection(instance.Config.ConnectionString);
        var row = await connection.QuerySingleAsync<(string Kid, string Algorithm, byte[] Encrypted)>(
            "select kid, algorithm, private_key_encrypted from signing_keys where activated_at is not null and retired_at is null");
        using var aes = new AesGcm(Convert.FromBase64String(instance.Config.EncryptionKey), 16);
        var pkcs8 = new byte[row.Encrypted.Length - 28];
        aes.Decrypt(row.Encrypted.AsSpan(0, 12), row.Encrypted.AsSpan(28), row.Encrypted.AsSpan(12, 16), pkcs8);
        AsymmetricAlgorithm key = row.Algorithm == "ES256" ? ECDsa.Create() : RSA.Create();
        key.ImportPkcs8PrivateKey(pkcs8, out _);
        return (row.Kid, key);
    }

    /// <summary>Signs <paramref name="payload"/> with the real active key under its real kid.</summary>
    public static async Task<string> SignAsync(ThrillIdInstance instance, JsonObject payload)
    {
        var (kid, key) = await ActiveKeyAsync(instance);
        using (key)
            return Jwt.Sign(new JsonObject { ["typ"] = "JWT", ["kid"] = kid }, payload, key);
    }
}

public static class JsonObjectExtensions
{
    /// <summary>Changes <paramref name="json"/> in place and returns it, for one-expression forgeries.</summary>
    public static JsonObject Also(this JsonObject json, Action<JsonObject> change)
    {
        change(json);
        return json;
    }
}
