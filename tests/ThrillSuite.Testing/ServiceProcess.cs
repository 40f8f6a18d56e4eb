using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ThrillSuite.Testing;

/// <summary>A service started as its real process (the built dll), with its output captured for failure reports.</summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();

    public string Name { get; }
    public int HttpPort { get; }
    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";
    public string Output { get { lock (output) return output.ToString(); } }
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;
    public int Pid => process.Id;

    ServiceProcess(string name, int httpPort, Process process)
    {
        Name = name;
        HttpPort = httpPort;
        this.process = process;
    }

    /// <summary>Starts <paramref name="name"/> with the given settings (as environment variables, "Section__Key").</summary>
    public static ServiceProcess Start(string name, int httpPort, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = TestEnvironment.ServiceDll(name);
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is missing: build the solution first (build/test does).");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        return Launch(name, httpPort, info);
    }

    /// <summary>Starts the process and collects its output (stdout and stderr) into <see cref="Output"/>.</summary>
    static ServiceProcess Launch(string name, int httpPort, ProcessStartInfo info)
    {
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, httpPort, process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }

    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                if (process.HasExited) throw new InvalidOperationException($"{Name} exited with code {process.ExitCode}.");
                using var response = await http.GetAsync(BaseUrl + "/health/ready");
                return response.IsSuccessStatusCode;
            }, timeout ?? TimeSpan.FromSeconds(60), $"{Name} to be ready");
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"{ex.Message}\n--- {Name} output ---\n{Output}", ex);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as Kubernetes does on every rollout.</summary>
    public void Terminate()
    {
        if (!process.HasExited && Kill(process.Id, 15) != 0)
            throw new InvalidOperationException($"kill -TERM {process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>SIGKILL: the process gets no chance to finish anything (a crash, an OOM kill, a node lost).</summary>
    public async Task KillAsync()
    {
        if (process.HasExited) return;
        process.Kill();
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            Terminate();
            try { await WaitForExitAsync(TimeSpan.FromSeconds(30)); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); }
        }
        process.Dispose();
    }

    /// <summary>Writes the output to the test run's logs directory (build/test prints its path for failure reports).</summary>
    public void KeepOutput(string fileName)
    {
        if (Environment.GetEnvironmentVariable("THRILLSUITE_TEST_STATE_DIR") is { Length: > 0 } state)
            File.WriteAllText(Path.Combine(state, "logs", fileName), Output);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
