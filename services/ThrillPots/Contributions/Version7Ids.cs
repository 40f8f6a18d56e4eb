using ThrillPots.Engine;

namespace ThrillPots.Contributions;

/// <summary>
/// Version 7 UUIDs (RFC 9562 §5.7: 48 bits of Unix milliseconds, the version, the variant, 74 random bits) as
/// <see cref="Guid.CreateVersion7()"/> makes them, with the random bits from <see cref="CryptoRandomSource"/>'s per-thread
/// buffer. Guid.CreateVersion7 asks the operating system for randomness once per id: in build/bench contributions that
/// was one read(2) system call per contribution on the writer's path, which runs one batch at a time.
/// </summary>
public static class Version7Ids
{
    public static Guid New() => New(DateTimeOffset.UtcNow);

    public static Guid New(DateTimeOffset at)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = at.ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++) bytes[i] = (byte)(ms >> (40 - 8 * i));
        CryptoRandomSource.Instance.NextBytes(bytes[6..]);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));  // version 7
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));  // variant 10 (RFC 9562)
        return new Guid(bytes, bigEndian: true);
    }
}
