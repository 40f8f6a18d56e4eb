using System.Security.Cryptography;

namespace ThrillSuite.ServiceDefaults.Secrets;

/// <summary>
/// Secrets kept at rest (signing keys, webhook and wallet secrets): AES-256-GCM under a key from the service's settings,
/// stored as nonce (12) | tag (16) | ciphertext. A wrong key or a tampered value fails to open instead of yielding garbage.
/// </summary>
public sealed class SecretBox(byte[] key)
{
    const int NonceBytes = 12, TagBytes = 16;

    public static bool IsValidKey(string? base64) =>
        base64 is { Length: > 0 } && Convert.TryFromBase64String(base64, new byte[64], out var n) && n == 32;

    public static SecretBox FromBase64(string base64) => new(Convert.FromBase64String(base64));

    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        using var aes = new AesGcm(key, TagBytes);
        var output = new byte[NonceBytes + TagBytes + plaintext.Length];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceBytes + TagBytes), output.AsSpan(NonceBytes, TagBytes));
        return output;
    }

    /// <exception cref="AuthenticationTagMismatchException">not sealed with this key, or altered.</exception>
    public byte[] Open(byte[] sealedValue)
    {
        using var aes = new AesGcm(key, TagBytes);
        var plaintext = new byte[sealedValue.Length - NonceBytes - TagBytes];
        aes.Decrypt(sealedValue.AsSpan(0, NonceBytes), sealedValue.AsSpan(NonceBytes + TagBytes), sealedValue.AsSpan(NonceBytes, TagBytes), plaintext);
        return plaintext;
    }
}
