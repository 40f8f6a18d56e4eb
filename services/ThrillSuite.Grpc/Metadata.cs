using System.Collections;

namespace ThrillSuite.Grpc;

/// <summary>Call metadata (headers or trailers). Keys are lowercase; keys ending in "-bin" carry bytes.</summary>
public sealed class Metadata : IEnumerable<Metadata.Entry>
{
    public const string BinarySuffix = "-bin";
    readonly List<Entry> entries = [];

    public sealed record Entry(string Key, string? Value, byte[]? ValueBytes)
    {
        public bool IsBinary => Key.EndsWith(BinarySuffix, StringComparison.Ordinal);
    }

    public int Count => entries.Count;

    public Metadata Add(string key, string value)
    {
        key = NormalizeKey(key);
        if (key.EndsWith(BinarySuffix, StringComparison.Ordinal))
            throw new ArgumentException($"Metadata key '{key}' is binary: add a byte[] value.", nameof(key));
        entries.Add(new Entry(key, value, null));
        return this;
    }

    public Metadata Add(string key, byte[] value)
    {
        key = NormalizeKey(key);
        if (!key.EndsWith(BinarySuffix, StringComparison.Ordinal))
            throw new ArgumentException($"Binary metadata key '{key}' must end in '{BinarySuffix}'.", nameof(key));
        entries.Add(new Entry(key, null, value));
        return this;
    }

    public Entry? Get(string key) => entries.LastOrDefault(e => e.Key == key.ToLowerInvariant());

    public string? GetValue(string key) => Get(key)?.Value;

    public IEnumerator<Entry> GetEnumerator() => entries.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    static string NormalizeKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var lower = key.ToLowerInvariant();
        foreach (var c in lower)
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.'))
                throw new ArgumentException($"Metadata key '{key}' has an invalid character '{c}'.", nameof(key));
        return lower;
    }
}
