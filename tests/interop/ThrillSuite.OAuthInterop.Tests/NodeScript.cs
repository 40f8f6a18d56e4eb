using System.Diagnostics;
using System.Text;

namespace ThrillSuite.OAuthInterop.Tests;

/// <summary>What one peer script did: its exit code, output and the JSON line it printed last.</summary>
public sealed record ScriptResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>The last non-empty stdout line: the script's JSON observation.</summary>
    public string LastStdoutLine =>
        Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";

    public JsonElement Observation
    {
        get
        {
            try
            {
                using var doc = JsonDocument.Parse(LastStdoutLine);
                return doc.RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw new AssertionException($"the script's last stdout line is not JSON ({ex.Message})\n{Describe()}");
            }
        }
    }

    public string Describe() =>
        $"`{Command}` exited {ExitCode} after {Elapsed.TotalMilliseconds:F0} ms\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

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
            var version = await RunAsync(new ProcessStartInfo(NodeExe) { ArgumentList = { "--version" } }, TimeSpan.FromSeconds(30));
            return version.ExitCode == 0 ? null : $"`{NodeExe} --version` failed: {version.Describe()}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"Node.js (`{NodeExe}`, override with INTEROP_NODE) is not runnable: {ex.Message}";
        }
    }

    /// <summary>Runs `node oauth/&lt;script&gt; args...` in tests/interop to its exit.</summary>
    public static Task<ScriptResult> RunAsync(string script, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(NodeExe) { WorkingDirectory = InteropDir };
        psi.ArgumentList.Add(Path.Combine(InteropDir, "oauth", script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return RunAsync(psi, timeout);
    }

    /// <summary>Runs a process to its exit; kills it (whole tree) and throws TimeoutException past <paramref name="timeout"/>.</summary>
    static async Task<ScriptResult> RunAsync(ProcessStartInfo psi, TimeSpan timeout)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.StandardOutputEncoding = Encoding.UTF8;
        psi.StandardErrorEncoding = Encoding.UTF8;
        var command = string.Join(' ', new[] { psi.FileName }.Concat(psi.ArgumentList));
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {command}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException(
                $"`{command}` did not exit within {timeout.TotalSeconds:F0} s (killed)\n--- stdout ---\n{await stdout}\n--- stderr ---\n{await stderr}");
        }
        return new ScriptResult(command, process.ExitCode, await stdout, await stderr, sw.Elapsed);
    }
}
