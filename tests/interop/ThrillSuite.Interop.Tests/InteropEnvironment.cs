using ThrillSuite.Testing;
using System.Diagnostics;
using NUnit.Framework;

namespace ThrillSuite.Interop.Tests;

/// <summary>The independent peers: Debian's python3-grpcio and npm's @grpc/grpc-js.</summary>
public static class Peers
{
    public const string Python = "python";
    public const string Node = "node";

    public static readonly string[] All = [Python, Node];

    /// <summary>What the peer's server puts in EchoReply.service and its client in the JSON "peer" field.</summary>
    public static string ServiceName(string peer) => peer switch
    {
        Python => "python-grpcio",
        Node => "node-grpc-js",
        _ => throw new ArgumentOutOfRangeException(nameof(peer), peer, "unknown peer"),
    };
}

/// <summary>Where the repo, the peer scripts and their interpreters are.</summary>
public static class InteropEnvironment
{
    static readonly Lazy<string> repoRoot = new(FindRepoRoot);

    /// <summary>$THRILLSUITE_REPO, else the first folder above the test assembly holding ThrillSuite.sln.</summary>
    public static string RepoRoot => repoRoot.Value;

    public static string InteropDir => Path.Combine(RepoRoot, "tests", "interop");

    public static string PythonExe => Environment.GetEnvironmentVariable("INTEROP_PYTHON") ?? "/usr/bin/python3";

    public static string NodeExe => Environment.GetEnvironmentVariable("INTEROP_NODE") ?? "node";

    public static ProcessStartInfo ClientCommand(string peer, string target, string @case) =>
        Script(peer, "client", ["--target", target, "--case", @case]);

    public static ProcessStartInfo ServerCommand(string peer, int port) =>
        Script(peer, "server", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    static ProcessStartInfo Script(string peer, string role, string[] args)
    {
        var (exe, script) = peer switch
        {
            Peers.Python => (PythonExe, Path.Combine(InteropDir, "python", role + ".py")),
            Peers.Node => (NodeExe, Path.Combine(InteropDir, "node", role + ".js")),
            _ => throw new ArgumentOutOfRangeException(nameof(peer), peer, "unknown peer"),
        };
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = InteropDir };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["THRILLSUITE_REPO"] = RepoRoot;
        psi.Environment["PYTHONUNBUFFERED"] = "1";
        return psi;
    }

    static readonly Dictionary<string, string?> checkedPeers = [];

    /// <summary>Fails the calling test (or fixture) with a clear message when the peer's runtime is not installed.</summary>
    public static void RequirePeer(string peer)
    {
        string? problem;
        lock (checkedPeers)
        {
            if (!checkedPeers.TryGetValue(peer, out problem))
                checkedPeers[peer] = problem = FindProblem(peer);
        }
        if (problem is not null) Assert.Fail(problem);
    }

    static string? FindProblem(string peer)
    {
        switch (peer)
        {
            case Peers.Node:
                var grpcJs = Path.Combine(InteropDir, "node_modules", "@grpc", "grpc-js", "package.json");
                var loader = Path.Combine(InteropDir, "node_modules", "@grpc", "proto-loader", "package.json");
                if (!File.Exists(grpcJs) || !File.Exists(loader))
                    return $"{Path.Combine(InteropDir, "node_modules")} is missing @grpc/grpc-js or @grpc/proto-loader: " +
                           "run `npm ci` in tests/interop (build/test does both) before the tests.";
                return Probe(NodeExe, ["--version"], "Node.js (`node`) is not runnable");
            case Peers.Python:
                return Probe(PythonExe, ["-c", "import grpc, google.protobuf"],
                           $"{PythonExe} cannot import grpc/google.protobuf: apt-get install -y python3-grpcio python3-protobuf protobuf-compiler " +
                           "(build/test does both)")
                       ?? Probe("protoc", ["--version"], "protoc is not runnable: apt-get install -y protobuf-compiler");
            default:
                return $"unknown peer '{peer}'";
        }
    }

    static string? Probe(string exe, string[] args, string problem)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            var r = ChildProcess.RunAsync(psi, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            return r.ExitCode == 0 ? null : $"{problem} (exit {r.ExitCode}: {r.Stderr.Trim()})";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"{problem} ({ex.Message})";
        }
    }

    static string FindRepoRoot()
    {
        var env = Environment.GetEnvironmentVariable("THRILLSUITE_REPO");
        if (!string.IsNullOrEmpty(env))
        {
            if (!Directory.Exists(Path.Combine(env, "tests", "interop")))
                throw new InvalidOperationException($"THRILLSUITE_REPO={env} has no tests/interop folder.");
            return Path.GetFullPath(env);
        }
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ThrillSuite.sln"))) return dir.FullName;
        }
        // Before the solution file exists: the folder holding tests/interop and the protos.
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tests", "interop", "package.json"))
                && File.Exists(Path.Combine(dir.FullName, "protos", "diagnostics", "v1", "diagnostics.proto")))
                return dir.FullName;
        }
        throw new InvalidOperationException(
            $"No folder above {TestContext.CurrentContext.TestDirectory} holds ThrillSuite.sln; set THRILLSUITE_REPO to the repo root.");
    }
}
