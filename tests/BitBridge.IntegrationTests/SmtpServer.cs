using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace BitBridge.IntegrationTests;

/// <summary>A mail as the SMTP server stored it, its headers and body decoded.</summary>
public sealed record Mail(string To, string Subject, string? DeliveryId, string Body);

/// <summary>
/// A real SMTP server: Debian's python3-aiosmtpd with its Maildir handler, on a port of its own that can be reserved before
/// the server starts (a dispatcher pointing at it fails until then) and stopped again.
/// </summary>
public sealed partial class SmtpServer : IAsyncDisposable
{
    Process? process;
    public int Port { get; } = TestEnvironment.FreePort();
    public string Maildir { get; } = Path.Combine(Path.GetTempPath(), "bitbridge-mail-" + Guid.NewGuid().ToString("N")[..8]);

    public static async Task<SmtpServer> StartAsync()
    {
        var server = new SmtpServer();
        await server.RunAsync();
        return server;
    }

    public async Task RunAsync()
    {
        // Debian's python3, not a pyenv one earlier on PATH without the module.
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{Port}", "-c", "aiosmtpd.handlers.Mailbox", Maildir }) info.ArgumentList.Add(a);
        var output = new StringBuilder();
        process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Eventually.TrueAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"aiosmtpd exited ({process.ExitCode}): {output}");
            using var probe = new TcpClient();
            try { await probe.ConnectAsync("127.0.0.1", Port); return true; }
            catch (SocketException) { return false; }
        }, TimeSpan.FromSeconds(20), "aiosmtpd to listen");
    }

    public async Task StopAsync()
    {
        if (process is null) return;
        if (!process.HasExited) process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        process = null;
    }

    public IReadOnlyList<Mail> Mails()
    {
        var files = new[] { "new", "cur" }.Select(d => Path.Combine(Maildir, d)).Where(Directory.Exists).SelectMany(Directory.GetFiles);
        return files.Select(f => Parse(File.ReadAllText(f))).ToList();
    }

    public Task<IReadOnlyList<Mail>> WaitMailsAsync(Func<Mail, bool> match, int count, int seconds = 30) =>
        Eventually.ValueAsync(() => Task.FromResult(Mails().Where(match).ToList() is { } m && m.Count >= count ? (IReadOnlyList<Mail>)m : null),
            TimeSpan.FromSeconds(seconds), $"{count} mail(s) at the SMTP server");

    static Mail Parse(string raw)
    {
        var split = raw.Replace("\r\n", "\n").Split("\n\n", 2);
        var headers = UnfoldPattern().Replace(split[0], " ").Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = split.Length > 1 ? split[1] : "";
        body = headers.GetValueOrDefault("Content-Transfer-Encoding")?.ToLowerInvariant() switch
        {
            "base64" => Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c))))),
            "quoted-printable" => QuotedPrintable(body),
            _ => body,
        };
        return new Mail(headers.GetValueOrDefault("To") ?? "", EncodedWordPattern().Replace(headers.GetValueOrDefault("Subject") ?? "", m =>
            m.Groups[1].Value.Equals("B", StringComparison.OrdinalIgnoreCase)
                ? Encoding.UTF8.GetString(Convert.FromBase64String(m.Groups[2].Value))
                : QuotedPrintable(m.Groups[2].Value.Replace('_', ' '))).Replace("  ", " "), headers.GetValueOrDefault("X-BitBridge-Delivery"), body.TrimEnd());
    }

    static string QuotedPrintable(string text)
    {
        var bytes = new List<byte>();
        var s = text.Replace("=\n", "");
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '=' && i + 2 < s.Length + 0 && Uri.IsHexDigit(s[i + 1]) && Uri.IsHexDigit(s[i + 2]))
            {
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(s[i].ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    [GeneratedRegex(@"\n[ \t]+")]
    private static partial Regex UnfoldPattern();

    [GeneratedRegex(@"=\?utf-8\?([BQ])\?([^?]*)\?=", RegexOptions.IgnoreCase)]
    private static partial Regex EncodedWordPattern();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(Maildir, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
