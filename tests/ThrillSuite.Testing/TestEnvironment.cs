using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ThrillSuite.Testing;

/// <summary>The real servers build/test started, as it exports them; a test run without them fails with a clear message.</summary>
public static class TestEnvironment
{
    public static string PostgresAdmin => Required("THRILLSUITE_TEST_PG");
    public static string RabbitMq => Required("THRILLSUITE_TEST_RABBITMQ");
    public static string Configuration => Environment.GetEnvironmentVariable("THRILLSUITE_BUILD_CONFIGURATION") ?? "Release";

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>A connection string for a database name unique to this test (the service creates it on start).</summary>
    public static string UniqueDatabase(string prefix, out string name)
    {
        name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        return new NpgsqlConnectionStringBuilder(PostgresAdmin) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string name)
    {
        var admin = new NpgsqlConnectionStringBuilder(PostgresAdmin) { Database = "postgres", Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"drop database if exists \"{name}\" with (force)", connection);
        await command.ExecuteNonQueryAsync();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string ServiceDll(string name) =>
        Path.Combine(RepoRoot, "services", name, "bin", Configuration, "net10.0", name + ".dll");

    static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run the tests with build/test, which starts PostgreSQL and RabbitMQ.");

    static string FindRepoRoot()
    {
        if (Environment.GetEnvironmentVariable("THRILLSUITE_REPO") is { Length: > 0 } repo) return repo;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ThrillSuite.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (ThrillSuite.sln) above " + AppContext.BaseDirectory);
    }
}
