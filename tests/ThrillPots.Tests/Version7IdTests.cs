using ThrillPots.Contributions;

namespace ThrillPots.Tests;

/// <summary>The ledger's row ids: RFC 9562 version 7 UUIDs laid out as the framework's own, random bits never reused.</summary>
public class Version7IdTests
{
    [Test]
    public void An_id_carries_its_millisecond_the_version_and_the_variant_like_the_frameworks()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(0x0123_4567_89AB);
        var ours = Version7Ids.New(at).ToByteArray(bigEndian: true);
        var theirs = Guid.CreateVersion7(at).ToByteArray(bigEndian: true);
        Assert.That(ours[..6], Is.EqualTo(new byte[] { 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB }), "48-bit Unix milliseconds, big-endian");
        Assert.That(ours[..6], Is.EqualTo(theirs[..6]));
        Assert.That(ours[6] >> 4, Is.EqualTo(7), "version");
        Assert.That(ours[8] >> 6, Is.EqualTo(0b10), "variant");
        Assert.That(Version7Ids.New(at).Version, Is.EqualTo(7));
    }

    [Test]
    public void Ids_across_many_draws_of_random_bits_are_all_different()
    {
        var at = DateTimeOffset.UtcNow;
        // More than two refills of the random source's 4 KiB per-thread buffer (10 bytes per id), all in one millisecond:
        // only the random bits tell them apart.
        var ids = Enumerable.Range(0, 1031).Select(_ => Version7Ids.New(at)).ToList();
        Assert.That(ids.Distinct().Count(), Is.EqualTo(ids.Count));
        Assert.That(ids.Select(i => Convert.ToHexString(i.ToByteArray(bigEndian: true)[6..])).Distinct().Count(), Is.EqualTo(ids.Count));
    }

    [Test]
    public void A_later_millisecond_sorts_after_an_earlier_one_as_PostgreSQL_compares_uuids()
    {
        var earlier = Version7Ids.New(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000));
        var later = Version7Ids.New(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_001));
        // PostgreSQL orders uuids by their 16 bytes in network order.
        Assert.That(earlier.ToByteArray(bigEndian: true).AsSpan().SequenceCompareTo(later.ToByteArray(bigEndian: true)), Is.Negative);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var stamped = UnixMs(Version7Ids.New());
        Assert.That(stamped, Is.InRange(before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), "New() stamps the current time");
    }

    static long UnixMs(Guid id) => id.ToByteArray(bigEndian: true)[..6].Aggregate(0L, (ms, b) => ms << 8 | b);
}
