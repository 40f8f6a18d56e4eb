using System.Diagnostics;

namespace ThrillSuite.Testing;

public sealed partial class ServiceProcess
{
    /// <summary>
    /// Starts a service from a `dotnet publish` folder as a container would: `dotnet &lt;dll&gt;` with that folder as the
    /// working directory and exactly <paramref name="environment"/> (plus PATH and HOME), nothing inherited from the test.
    /// </summary>
    public static ServiceProcess StartPublished(string name, string dll, int httpPort, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is missing from the publish folder.");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Clear();
        foreach (var inherited in new[] { "PATH", "HOME", "DOTNET_ROOT" })
            if (Environment.GetEnvironmentVariable(inherited) is { Length: > 0 } value) info.Environment[inherited] = value;
        foreach (var (key, value) in environment) info.Environment[key] = value;
        return Launch(name, httpPort, info);
    }
}
