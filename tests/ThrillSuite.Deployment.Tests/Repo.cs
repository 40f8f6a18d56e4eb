using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace ThrillSuite.Deployment.Tests;

/// <summary>A service project of ThrillSuite.sln (services/*/ with a Program.cs) and what its ServiceShape declares.</summary>
public sealed record ServiceProject(string Name, string Directory, string Database, bool Messaging, bool Grpc, bool Authentication,
    IReadOnlyList<string> GrpcClients)
{
    /// <summary>Its alias in the umbrella chart.</summary>
    public string Alias => Name.ToLowerInvariant();
}

/// <summary>The repository read as data: the solution's services, the charts' values files and templates.</summary>
public static partial class Repo
{
    public static string Root { get; } = FindRoot();
    public static string ServiceChart => At("charts", "thrillsuite-service");
    public static string Umbrella => At("charts", "thrillsuite");

    public static string At(params string[] parts) => Path.Combine([Root, .. parts]);

    static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("THRILLSUITE_REPO") is { Length: > 0 } repo) return repo;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ThrillSuite.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (ThrillSuite.sln) above " + AppContext.BaseDirectory);
    }

    /// <summary>Every values file of both charts: values.yaml and values-*.yaml.</summary>
    public static IEnumerable<string> ValuesFiles() =>
        new[] { ServiceChart, Umbrella }.SelectMany(chart => Directory.GetFiles(chart, "values*.yaml")).Order();

    /// <summary>The umbrella's values files other than values.yaml (applied over it, as helm -f does).</summary>
    public static IEnumerable<string> UmbrellaOverlays() => Directory.GetFiles(Umbrella, "values-*.yaml").Order();

    public static IEnumerable<string> Templates(string chart) =>
        Directory.GetFiles(Path.Combine(chart, "templates")).Where(f => f.EndsWith(".yaml") || f.EndsWith(".tpl")).Order();

    [GeneratedRegex(@"^Project\(""\{[^}]+\}""\) = ""(?<name>[^""]+)"", ""(?<path>services[\\/][^""]+\.csproj)""", RegexOptions.Multiline)]
    private static partial Regex SolutionProject();
    [GeneratedRegex(@"new ServiceShape\((?<args>[^()]*)\)")]
    private static partial Regex Shape();
    [GeneratedRegex(@"""([^""]+)""")]
    private static partial Regex Quoted();

    /// <summary>The service projects of ThrillSuite.sln: those under services/ with a Program.cs, with their ServiceShape.</summary>
    public static IReadOnlyList<ServiceProject> Services()
    {
        var list = new List<ServiceProject>();
        foreach (Match m in SolutionProject().Matches(File.ReadAllText(At("ThrillSuite.sln"))))
        {
            var dir = Path.GetDirectoryName(At(m.Groups["path"].Value.Replace('\\', '/')))!;
            var program = Path.Combine(dir, "Program.cs");
            if (!File.Exists(program)) continue;
            var shape = Shape().Match(File.ReadAllText(program));
            if (!shape.Success) throw new InvalidOperationException($"{program} has no `new ServiceShape(...)` to read");
            var args = shape.Groups["args"].Value;
            var database = Regex.Match(args, @"Database:\s*""(\w+)""");
            if (!database.Success) throw new InvalidOperationException($"{program}: ServiceShape names no Database: argument");
            var clients = Regex.Match(args, @"GrpcClients:\s*(\[[^\]]*\]|""[^""]*"")");
            list.Add(new ServiceProject(m.Groups["name"].Value, dir, database.Groups[1].Value,
                Messaging: !Regex.IsMatch(args, @"Messaging:\s*false"),
                Grpc: Regex.IsMatch(args, @"Grpc:\s*true"),
                Authentication: Regex.IsMatch(args, @"Authentication:\s*true"),
                clients.Success ? Quoted().Matches(clients.Value).Select(q => q.Groups[1].Value).ToList() : []));
        }
        return list;
    }

    /// <summary>C# sources of a folder, without build output.</summary>
    public static IEnumerable<string> Sources(string directory) =>
        Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    /// <summary>The service chart's values.yaml.</summary>
    public static Dictionary<string, object?> ServiceDefaults() => Yaml.Map(Yaml.Load(Path.Combine(ServiceChart, "values.yaml")));

    /// <summary>
    /// What the umbrella's templates and the subcharts see for a values file: the umbrella's values.yaml (with the overlay
    /// over it), each alias being the service chart's defaults with the alias's values over them, global: merged likewise.
    /// </summary>
    public static Dictionary<string, object?> UmbrellaValues(string? overlay = null)
    {
        var umbrella = Yaml.Map(Yaml.Load(Path.Combine(Umbrella, "values.yaml")));
        if (overlay is not null) umbrella = Yaml.Map(Yaml.Merge(umbrella, Yaml.Load(overlay)));
        var defaults = ServiceDefaults();
        var serviceGlobal = defaults["global"];
        defaults.Remove("global");
        var merged = new Dictionary<string, object?>(umbrella);
        merged["global"] = Yaml.Merge(serviceGlobal, umbrella.GetValueOrDefault("global"));
        foreach (var alias in UmbrellaAliases()) merged[alias] = Yaml.Merge(defaults, umbrella.GetValueOrDefault(alias));
        return merged;
    }

    /// <summary>The aliases of the umbrella chart's dependencies on thrillsuite-service.</summary>
    public static IReadOnlyList<string> UmbrellaAliases() =>
        Dependencies().Where(d => Yaml.Str(d, "name") == "thrillsuite-service").Select(d => Yaml.Str(d, "alias") ?? "").ToList();

    public static IEnumerable<Dictionary<string, object?>> Dependencies() =>
        (Yaml.Get(Yaml.Load(Path.Combine(Umbrella, "Chart.yaml")), "dependencies") as List<object?> ?? []).Select(Yaml.Map);
}

/// <summary>YAML as plain trees: maps (string keys), lists, and scalars as strings (null for an empty plain scalar or ~).</summary>
public static class Yaml
{
    public static object? Load(string file) => Parse(File.ReadAllText(file)).FirstOrDefault();

    public static List<object?> Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => Convert(d.RootNode)).ToList();
    }

    static object? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value ?? "", c => Convert(c.Value)),
        YamlSequenceNode seq => seq.Children.Select(Convert).ToList(),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" } => null,
        YamlScalarNode s => s.Value,
        _ => null,
    };

    public static Dictionary<string, object?> Map(object? node) => node as Dictionary<string, object?> ?? [];

    public static object? Get(object? node, string dotted)
    {
        foreach (var key in dotted.Split('.'))
        {
            if (node is not Dictionary<string, object?> map || !map.TryGetValue(key, out node)) return null;
        }
        return node;
    }

    public static string? Str(object? node, string dotted) => Get(node, dotted) as string;

    /// <summary>Whether the path exists: each key present in its map (the value may be empty).</summary>
    public static bool Has(object? node, IEnumerable<string> path)
    {
        foreach (var key in path)
        {
            if (node is not Dictionary<string, object?> map || !map.TryGetValue(key, out node)) return false;
        }
        return true;
    }

    /// <summary>Helm's merge: maps merged key by key, anything else replaced by the overlay's value.</summary>
    public static object? Merge(object? under, object? over)
    {
        if (under is Dictionary<string, object?> a && over is Dictionary<string, object?> b)
        {
            var result = new Dictionary<string, object?>(a);
            foreach (var (key, value) in b) result[key] = result.TryGetValue(key, out var old) ? Merge(old, value) : value;
            return result;
        }
        return over ?? under;
    }

    /// <summary>Every leaf with its key path: scalars, lists and empty maps.</summary>
    public static IEnumerable<(List<string> Path, object? Value)> Leaves(object? node, List<string>? prefix = null)
    {
        prefix ??= [];
        if (node is Dictionary<string, object?> { Count: > 0 } map)
        {
            foreach (var (key, value) in map)
                foreach (var leaf in Leaves(value, [.. prefix, key])) yield return leaf;
        }
        else yield return (prefix, node);
    }

    /// <summary>Every map in the tree, with its key path.</summary>
    public static IEnumerable<(List<string> Path, Dictionary<string, object?> Map)> Maps(object? node, List<string>? prefix = null)
    {
        prefix ??= [];
        if (node is Dictionary<string, object?> map)
        {
            yield return (prefix, map);
            foreach (var (key, value) in map)
                foreach (var inner in Maps(value, [.. prefix, key])) yield return inner;
        }
        else if (node is List<object?> list)
        {
            for (var i = 0; i < list.Count; i++)
                foreach (var inner in Maps(list[i], [.. prefix, $"[{i}]"])) yield return inner;
        }
    }
}
