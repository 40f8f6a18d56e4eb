global using static ThrillSuite.Benchmarks.BenchmarkOptions;
using System.Globalization;

namespace ThrillSuite.Benchmarks;

/// <summary>The benchmarks' command-line options: <c>--name value</c>, a bad or missing value falling back to the default.</summary>
internal static class BenchmarkOptions
{
    /// <summary>A positive whole number.</summary>
    public static int Option(string[] args, string name, int fallback) =>
        OptionText(args, name) is { } text && int.TryParse(text, out var v) && v > 0 ? v : fallback;

    /// <summary>A number ≥ 0.</summary>
    public static double OptionDouble(string[] args, string name, double fallback) =>
        OptionText(args, name) is { } text && double.TryParse(text, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : fallback;

    public static string? OptionText(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>Every value of a repeatable option.</summary>
    public static IEnumerable<string> Options(string[] args, string name)
    {
        for (var i = 0; i + 1 < args.Length; i++)
            if (args[i] == name) yield return args[i + 1];
    }

    /// <summary><c>--server-env KEY=VALUE</c>, repeatable: extra environment for the service under test (GC settings and the like).</summary>
    public static Dictionary<string, string> ServerEnvironment(string[] args) =>
        Options(args, "--server-env").Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
}
