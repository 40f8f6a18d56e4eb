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
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, httpPort, process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }
}
