using System.Diagnostics;

namespace ThrillSuite.OAuthInterop.Tests;

/// <summary>Runs the Node.js scripts of tests/interop/oauth as child processes.</summary>
public static class NodeScript
{
    public static string InteropDir => Path.Combine(TestEnvironment.RepoRoot, "tests", "interop");

    public static string NodeExe => Environment.GetEnvironmentVariable("INTEROP_NODE") ?? "node";

    static readonly string[] Packages = ["openid-client", "oauth4webapi", "jose"];

    /// <summary>Why the scripts cannot run here (packages not installed, no node), or null.</summary>
    public static async Task<string?> FindProblemAsync()
    {
        var modules = Path.Combine(InteropDir, "node_modules");
        var missing = Packages.Where(p => !File.Exists(Path.Combine(modules, p, "package.json"))).ToArray();
        if (missing.Length > 0)
            return $"{modules} lacks {string.Join(", ", missing)}: run `npm ci` in tests/interop (build/test does) before these tests.";
        try
        {
            var version = await ChildProcess.RunAsync(new ProcessStartInfo(NodeExe) { ArgumentList = { "--version" } }, TimeSpan.FromSeconds(30));
            return version.ExitCode == 0 ? null : $"`{NodeExe} --version` failed: {version.Describe()}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"Node.js (`{NodeExe}`, override with INTEROP_NODE) is not runnable: {ex.Message}";
        }
    }

    /// <summary>Runs `node oauth/&lt;script&gt; args...` in tests/interop to its exit.</summary>
    public static Task<ProcessResult> RunAsync(string script, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(NodeExe) { WorkingDirectory = InteropDir };
        psi.ArgumentList.Add(Path.Combine(InteropDir, "oauth", script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return ChildProcess.RunAsync(psi, timeout);
    }
}
