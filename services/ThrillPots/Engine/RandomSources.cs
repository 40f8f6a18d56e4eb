using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ThrillPots.Engine;

/// <summary>Uniform, unbiased random integers and bytes for draws and salts (design.md §4).</summary>
public interface IRandomSource
{
    /// <summary>Uniform in [0, maxExclusive); maxExclusive ≥ 1.</summary>
    int NextInt(int maxExclusive);

    /// <summary>Uniform in [0, maxExclusive); maxExclusive ≥ 1.</summary>
    long NextInt64(long maxExclusive);

    void NextBytes(Span<byte> buffer);
}

/// <summary>
/// Production source: the operating system's CSPRNG, read 4 KiB at a time into a per-thread buffer (one call into the
/// crypto library per 512 draws instead of one per draw; the bytes are the same CSPRNG output either way).
/// </summary>
public sealed class CryptoRandomSource : IRandomSource
{
    public static readonly CryptoRandomSource Instance = new();
    const int BufferSize = 4096;

    [ThreadStatic] static byte[]? buffer;
    [ThreadStatic] static int used;

    public int NextInt(int maxExclusive) => (int)NextInt64(maxExclusive);

    public long NextInt64(long maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1L);
        var threshold = Unbiased.Threshold(maxExclusive);
        Span<byte> bytes = stackalloc byte[8];
        ulong r;
        do
        {
            NextBytes(bytes);
            r = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        } while (r < threshold);
        return (long)(r % (ulong)maxExclusive);
    }

    public void NextBytes(Span<byte> destination)
    {
        if (destination.Length > BufferSize / 4)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }
        if (buffer is null || used + destination.Length > BufferSize)
        {
            buffer ??= new byte[BufferSize];
            RandomNumberGenerator.Fill(buffer);
            used = 0;
        }
        var chunk = buffer.AsSpan(used, destination.Length);
        chunk.CopyTo(destination);
        // Each byte is handed out once.
        chunk.Clear();
        used += destination.Length;
    }
}

/// <summary>
/// Reproducible source for simulations and tests: xoshiro256** seeded through SplitMix64. The same seed gives the same
/// sequence on every platform and .NET version (System.Random's seeded Next(n) is neither guaranteed stable nor unbiased).
/// Not for production draws.
/// </summary>
public sealed class DeterministicRandomSource : IRandomSource
{
    ulong s0, s1, s2, s3;

    public DeterministicRandomSource(ulong seed)
    {
        s0 = SplitMix(ref seed);
        s1 = SplitMix(ref seed);
        s2 = SplitMix(ref seed);
        s3 = SplitMix(ref seed);
    }

    static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    public int NextInt(int maxExclusive) => (int)NextInt64(maxExclusive);

    public long NextInt64(long maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1L);
        var threshold = Unbiased.Threshold(maxExclusive);
        ulong r;
        do r = NextUInt64(); while (r < threshold);
        return (long)(r % (ulong)maxExclusive);
    }

    public void NextBytes(Span<byte> buffer)
    {
        Span<byte> block = stackalloc byte[8];
        for (var i = 0; i < buffer.Length; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(block, NextUInt64());
            block[..Math.Min(8, buffer.Length - i)].CopyTo(buffer[i..]);
        }
    }
}

static class Unbiased
{
    /// <summary>Rejection sampling: 64-bit values below 2^64 mod n are redrawn, so <c>r mod n</c> is exactly uniform.</summary>
    public static ulong Threshold(long maxExclusive) => (0UL - (ulong)maxExclusive) % (ulong)maxExclusive;
}
