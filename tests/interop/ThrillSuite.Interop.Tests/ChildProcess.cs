using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ThrillSuite.Interop.Tests;

public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>The last non-empty stdout line (the peer client's JSON observation).</summary>
    public string LastStdoutLine =>
        Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";

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

    internal static async Task KillAsync(Process process)
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

    internal static bool HasExited(Process process)
    {
        try { return process.HasExited; }
        catch (InvalidOperationException) { return true; }
    }

    internal static string Format(ProcessStartInfo psi) =>
        string.Join(' ', new[] { psi.FileName }.Concat(psi.ArgumentList));
}

/// <summary>
/// A peer server script run as a child process: started, awaited until it prints "READY &lt;port&gt;",
/// and on dispose sent SIGTERM (the scripts exit 0 on it), then killed if still running after 5 s.
/// </summary>
public sealed class PeerServer : IAsyncDisposable
{
    const int SIGTERM = 15;

    readonly Process process;
    readonly StringBuilder output = new();
    readonly TaskCompletionSource<int> ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    PeerServer(ProcessStartInfo psi)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.StandardOutputEncoding = Encoding.UTF8;
        psi.StandardErrorEncoding = Encoding.UTF8;
        Command = ChildProcess.Format(psi);
        process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException($"`{Command}` closed stdout before printing READY.\n{Output}"));
                return;
            }
            Append("out", e.Data);
            if (e.Data.StartsWith("READY ", StringComparison.Ordinal)
                && int.TryParse(e.Data.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                ready.TrySetResult(port);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) Append("err", e.Data);
        };
        process.Exited += (_, _) =>
            ready.TrySetException(new InvalidOperationException($"`{Command}` exited ({process.ExitCode}) before printing READY.\n{Output}"));
    }

    public string Command { get; }

    public int Port { get; private set; }

    /// <summary>The exit code once the process has exited (recorded on dispose); null while it runs.</summary>
    public int? ExitCode
    {
        get
        {
            if (exitCode is null && !disposed && ChildProcess.HasExited(process))
            {
                try { exitCode = process.ExitCode; }
                catch (InvalidOperationException) { /* never started */ }
            }
            return exitCode;
        }
    }

    int? exitCode;
    bool disposed;

    /// <summary>Everything the server printed so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    public static async Task<PeerServer> StartAsync(ProcessStartInfo psi, TimeSpan readyTimeout)
    {
        var server = new PeerServer(psi);
        try
        {
            server.process.Start();
            server.process.BeginOutputReadLine();
            server.process.BeginErrorReadLine();
            try
            {
                server.Port = await server.ready.Task.WaitAsync(readyTimeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"`{server.Command}` printed no READY line within {readyTimeout.TotalSeconds:F0} s.\n{server.Output}");
            }
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!ChildProcess.HasExited(process))
            {
                _ = kill(process.Id, SIGTERM);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await process.WaitForExitAsync(cts.Token); }
                catch (OperationCanceledException) { await ChildProcess.KillAsync(process); }
            }
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        finally
        {
            _ = ExitCode; // record it before the handle goes
            disposed = true;
            process.Dispose();
        }
    }

    void Append(string stream, string line)
    {
        lock (output) output.Append(stream).Append(": ").AppendLine(line);
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // a one-off signal; LibraryImport would need AllowUnsafeBlocks for no gain
    static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
