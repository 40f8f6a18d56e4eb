using System.Globalization;
using System.Text.Json;

namespace ThrillSuite.Benchmarks;

/// <summary>Figures in readable lines, then the same figures as one JSON line (snake_case keys, unit in the name).</summary>
public sealed record BenchmarkResult(string Name, string Description, IReadOnlyList<(string Key, double Value)> Figures)
{
    public void Print()
    {
        Console.WriteLine($"== {Name}: {Description}");
        foreach (var (key, value) in Figures)
            Console.WriteLine($"   {key,-24} {value.ToString("#,0.###", CultureInfo.InvariantCulture),16}");
        var json = new Dictionary<string, object> { ["benchmark"] = Name };
        foreach (var (key, value) in Figures) json[key] = Math.Round(value, 3);
        Console.WriteLine(JsonSerializer.Serialize(json));
    }
}
