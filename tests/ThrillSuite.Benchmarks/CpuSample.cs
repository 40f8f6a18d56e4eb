using System.Diagnostics;
using System.Globalization;

namespace ThrillSuite.Benchmarks;

/// <summary>CPU time of a server process, of this process and of the whole machine over an interval, from /proc (USER_HZ = 100).</summary>
sealed class CpuSample(int serverPid)
{
    readonly long server = Ticks(serverPid), self = Ticks(Environment.ProcessId);
    readonly (long Busy, long All) machine = Machine();
    readonly long start = Stopwatch.GetTimestamp();

    public sealed record Figures(double Server, double Self, double MachineBusy, double ServerSeconds);

    public Figures Read()
    {
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var m = Machine();
        var cores = Environment.ProcessorCount;
        var serverSeconds = (Ticks(serverPid) - server) / 100.0;
        return new(serverSeconds / seconds, (Ticks(Environment.ProcessId) - self) / 100.0 / seconds,
            m.All == machine.All ? 0 : (double)(m.Busy - machine.Busy) / (m.All - machine.All) * cores, serverSeconds);
    }

    // utime + stime in clock ticks.
    static long Ticks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    static (long Busy, long All) Machine()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
        var all = cpu.Sum();
        return (all - cpu[3] - cpu[4], all);
    }
}

/// <summary>
/// How fast this machine's CPU is right now: a fixed single-threaded workload (JSON round trips of a contribution-sized
/// object), timed. On a shared virtual machine the same code's CPU cost per operation moves with the host's load (seen
/// to change up to 2× within one afternoon), so figures of different runs compare only alongside this.
/// </summary>
static class Calibration
{
    sealed record Probe(string BrandId, string PlayerId, string Currency, decimal BaseWager, string GameroundId, Dictionary<string, string> Metadata);

    public static double Milliseconds()
    {
        var probe = new Probe("op:brand", "p-1", "EUR", 1.25m, "round-123456", new() { ["bet_id"] = "b-1" });
        for (var i = 0; i < 2_000; i++) RoundTrip(probe);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < 100_000; i++) RoundTrip(probe);
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    static void RoundTrip(Probe probe) =>
        System.Text.Json.JsonSerializer.Deserialize<Probe>(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(probe));
}
