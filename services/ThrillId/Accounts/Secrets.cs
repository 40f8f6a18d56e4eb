using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;

namespace ThrillId.Accounts;

/// <summary>
/// Passwords are hashed with ASP.NET Core Identity's PasswordHasher (PBKDF2, salted). Generated client secrets and
/// refresh tokens carry 256 random bits, so a salted SHA-256 is enough for them and keeps token issuance fast.
/// </summary>
public static class Secrets
{
    static readonly PasswordHasher<object> Hasher = new();
    static readonly object Nobody = new();
    // Verified against when a username is unknown, so its answer takes as long as a wrong password's.
    static readonly string DummyHash = Hasher.HashPassword(Nobody, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));

    public static string HashPassword(string password) => Hasher.HashPassword(Nobody, password);

    public static bool VerifyPassword(string? hash, string password)
    {
        var result = Hasher.VerifyHashedPassword(Nobody, hash ?? DummyHash, password);
        return hash is not null && result != PasswordVerificationResult.Failed;
    }

    public static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string HashSecret(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return $"sha256${Convert.ToBase64String(salt)}${Convert.ToBase64String(Digest(salt, secret))}";
    }

    public static bool VerifySecret(string? stored, string secret)
    {
        var parts = stored?.Split('$');
        if (parts is not ["sha256", var salt, var hash]) return false;
        return CryptographicOperations.FixedTimeEquals(Digest(Convert.FromBase64String(salt), secret), Convert.FromBase64String(hash));
    }

    /// <summary>Unsalted digest for lookups by value (refresh tokens): the token itself is the 256-bit secret.</summary>
    public static string LookupHash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static byte[] Digest(byte[] salt, string secret) => SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(secret)]);
}
