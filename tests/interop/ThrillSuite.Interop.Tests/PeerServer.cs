using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ThrillSuite.Testing;

namespace ThrillSuite.Interop.Tests;

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
