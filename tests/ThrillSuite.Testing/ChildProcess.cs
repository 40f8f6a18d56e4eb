using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ThrillSuite.Testing;

/// <summary>What a child process did: exit code, output, time.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>The last non-empty stdout line (the peer client's JSON observation).</summary>
    public string LastStdoutLine =>
        Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";

    /// <summary>The last stdout line parsed as JSON: a peer script's observation.</summary>
    public System.Text.Json.JsonElement Observation
    {
        get
        {
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(LastStdoutLine);
                return doc.RootElement.Clone();
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new NUnit.Framework.AssertionException($"the last stdout line is not JSON ({ex.Message})\n{Describe()}");
            }
        }
    }

    public string Describe() =>
        $"`{Command}` exited {ExitCode} after {Elapsed.TotalMilliseconds:F0} ms\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

public static class ChildProcess
{
    /// <summary>Runs a process to its exit; kills it (whole tree) and throws TimeoutException past <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult> RunAsync(ProcessStartInfo psi, TimeSpan timeout)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = false;
        psi.StandardOutputEncoding = Encoding.UTF8;
        psi.StandardErrorEncoding = Encoding.UTF8;
        var command = Format(psi);
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {command}");
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                await KillAsync(process);
                throw new TimeoutException(
                    $"`{command}` did not exit within {timeout.TotalSeconds:F0} s (killed)\n--- stdout ---\n{await stdout}\n--- stderr ---\n{await stderr}");
            }
            return new ProcessResult(command, process.ExitCode, await stdout, await stderr, sw.Elapsed);
        }
        finally
        {
            if (!HasExited(process)) await KillAsync(process);
        }
    }

    public static async Task KillAsync(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            return; // already gone
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { /* reported by the caller's own checks */ }
    }

    public static bool HasExited(Process process)
    {
        try { return process.HasExited; }
        catch (InvalidOperationException) { return true; }
    }

    public static string Format(ProcessStartInfo psi) =>
        string.Join(' ', new[] { psi.FileName }.Concat(psi.ArgumentList));
}

