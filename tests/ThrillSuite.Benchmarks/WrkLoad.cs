using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// The HTTP phase driven by wrk (Debian's package, a C load generator): the same v1 contributions as the .NET client
/// sends, a fraction of its CPU per request, so on a 2-core machine the figures describe ThrillPots rather than the client.
/// Each response is checked in Lua: only a 200 whose body says "accepted" counts; latencies are wrk's (per request).
/// </summary>
public static partial class WrkLoad
{
    public sealed record Result(long Accepted, long Failed, string? FirstError, double Seconds, double P50Ms, double P99Ms)
    {
        public double PerSecond => Accepted / Seconds;
    }

    public static bool Available => File.Exists("/usr/bin/wrk");

    public static async Task<Result> RunAsync(string baseUrl, string token, Guid[] instances, int players, int connections, TimeSpan duration, string roundPrefix)
    {
        var script = Path.Combine(Path.GetTempPath(), $"thrillsuite-wrk-{Environment.ProcessId}.lua");
        await File.WriteAllTextAsync(script, Script(token, instances, players));
        try
        {
            var info = new ProcessStartInfo("/usr/bin/wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-t1", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--timeout", "10s", "-s", script, baseUrl, "--", roundPrefix })
                info.ArgumentList.Add(a);
            using var wrk = Process.Start(info)!;
            var output = await wrk.StandardOutput.ReadToEndAsync();
            var errors = await wrk.StandardError.ReadToEndAsync();
            await wrk.WaitForExitAsync();
            var summary = Summary().Match(output);
            if (wrk.ExitCode != 0 || !summary.Success)
                throw new InvalidOperationException($"wrk failed ({wrk.ExitCode}):\n{output}\n{errors}");
            double Value(string name) => double.Parse(summary.Groups[name].Value, CultureInfo.InvariantCulture);
            var firstError = FirstError().Match(output) is { Success: true } e ? e.Groups[1].Value : null;
            return new Result((long)Value("accepted"), (long)Value("failed"), firstError, Value("us") / 1e6, Value("p50") / 1000, Value("p99") / 1000);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [GeneratedRegex(@"THRILLSUITE accepted=(?<accepted>\d+) failed=(?<failed>\d+) duration_us=(?<us>\d+) p50_us=(?<p50>[\d.]+) p99_us=(?<p99>[\d.]+)")]
    private static partial Regex Summary();

    [GeneratedRegex(@"THRILLSUITE first_error=(.*)")]
    private static partial Regex FirstError();

    /// <summary>Bodies as the .NET client's, round-robin over instances and players, gameround ids "{prefix}-{n}".</summary>
    static string Script(string token, Guid[] instances, int players) => $$"""
        local instances = { {{string.Join(", ", instances.Select(i => $"\"{i}\""))}} }
        local players = {{players}}
        local threads = {}
        function setup(thread) table.insert(threads, thread) end
        function init(args)
          prefix = args[1]
          counter, accepted, failed, firsterr = 0, 0, 0, ""
        end
        function request()
          counter = counter + 1
          local body = '{"token":"session-token","brand_id":"{{ContributionsBenchmark.BrandId}}","player_id":"p' .. (counter % players) ..
            '","player_country":"MT","instance_id":"' .. instances[(counter % #instances) + 1] ..
            '","currency":"EUR","base_wager":1,"metadata":{"bet_id":"b-1"},"gameround_id":"' .. prefix .. '-' .. counter .. '"}'
          return wrk.format("POST", "/jackpots/contribute/instance",
            { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer {{token}}" }, body)
        end
        function response(status, headers, body)
          if status == 200 and string.find(body, '"outcome":"accepted"', 1, true) then
            accepted = accepted + 1
          else
            failed = failed + 1
            if firsterr == "" then firsterr = status .. " " .. string.sub(body, 1, 300) end
          end
        end
        function done(summary, latency, requests)
          local a, f, e = 0, 0, ""
          for _, t in ipairs(threads) do
            a = a + t:get("accepted"); f = f + t:get("failed")
            if e == "" then e = t:get("firsterr") end
          end
          io.write(string.format("THRILLSUITE accepted=%d failed=%d duration_us=%d p50_us=%.1f p99_us=%.1f\n",
            a, f, summary.duration, latency:percentile(50), latency:percentile(99)))
          if e ~= "" then io.write("THRILLSUITE first_error=" .. e .. "\n") end
        end
        """;
}
