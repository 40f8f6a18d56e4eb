namespace ThrillSuite.Testing;

/// <summary>What a service's Dockerfile gives its runtime image, read as data (no Docker engine runs here).</summary>
public static class ServiceImage
{
    /// <summary>KEY=VALUE pairs of the ENV instructions after the Dockerfile's last FROM (continuation lines joined).</summary>
    public static Dictionary<string, string> Environment(string dockerfile)
    {
        var lines = File.ReadAllText(dockerfile).Replace("\\\n", " ").Split('\n').Select(l => l.Trim()).ToList();
        var runtimeStage = Math.Max(0, lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
        var env = new Dictionary<string, string>();
        foreach (var line in lines.Skip(runtimeStage).Where(l => l.StartsWith("ENV ", StringComparison.Ordinal)))
            foreach (var pair in line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=');
                env[pair[..equals]] = pair[(equals + 1)..];
            }
        return env;
    }
}
