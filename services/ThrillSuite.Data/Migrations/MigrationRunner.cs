using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ThrillSuite.Data.Migrations;

public sealed record Migration(string Module, int Version, string Name, string Sql)
{
    public string Id => $"{Module}:{Version:D4}";
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>
/// Applies versioned SQL files embedded in assemblies (<c>Migrations/NNNN_name.sql</c>), platform tables first,
/// each in its own transaction, under a PostgreSQL advisory lock so replicas starting together cannot race.
/// An applied migration whose text changed stops start-up: history is append-only.
/// </summary>
public static partial class MigrationRunner
{
    // Arbitrary constant: advisory locks are scoped to the current database.
    const long LockKey = 0x7468_7269_6c6c_5355;

    [GeneratedRegex(@"\.(\d{4})_([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex FileName();

    public static IReadOnlyList<Migration> Load(params Assembly[] assemblies)
    {
        var all = new List<Migration>();
        foreach (var assembly in assemblies.Prepend(typeof(MigrationRunner).Assembly).Distinct())
        {
            var module = assembly.GetName().Name!;
            foreach (var resource in assembly.GetManifestResourceNames().Order(StringComparer.Ordinal))
            {
                var match = FileName().Match(resource);
                if (!match.Success) continue;
                using var stream = assembly.GetManifestResourceStream(resource)!;
                using var reader = new StreamReader(stream);
                all.Add(new Migration(module, int.Parse(match.Groups[1].Value), match.Groups[2].Value, reader.ReadToEnd()));
            }
        }
        var duplicate = all.GroupBy(m => m.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"Two migrations share the id {duplicate.Key}.");
        return all;
    }

    public static async Task<int> MigrateAsync(string connectionString, IReadOnlyList<Migration> migrations, ILogger logger, CancellationToken ct)
    {
        await EnsureDatabaseAsync(connectionString, logger, ct);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@LockKey)", new { LockKey }, cancellationToken: ct));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                create table if not exists schema_migrations (
                    id         text primary key,
                    name       text        not null,
                    checksum   text        not null,
                    applied_at timestamptz not null default now()
                )
                """, cancellationToken: ct));
            var applied = (await connection.QueryAsync<(string Id, string Checksum)>(
                new CommandDefinition("select id, checksum from schema_migrations", cancellationToken: ct))).ToDictionary(r => r.Id, r => r.Checksum);

            var count = 0;
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Id, out var checksum))
                {
                    if (checksum != migration.Checksum)
                        throw new InvalidOperationException(
                            $"Migration {migration.Id} ({migration.Name}) changed after it was applied; add a new migration instead.");
                    continue;
                }
                await using var tx = await connection.BeginTransactionAsync(ct);
                await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: tx, cancellationToken: ct));
                await connection.ExecuteAsync(new CommandDefinition(
                    "insert into schema_migrations (id, name, checksum) values (@Id, @Name, @Checksum)",
                    new { migration.Id, migration.Name, migration.Checksum }, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                logger.LogInformation("Applied migration {MigrationId} {MigrationName}", migration.Id, migration.Name);
                count++;
            }
            return count;
        }
        finally
        {
            await connection.ExecuteAsync("select pg_advisory_unlock(@LockKey)", new { LockKey });
        }
    }

    /// <summary>Creates the service's database when the role may; a platform team may also pre-create it.</summary>
    static async Task EnsureDatabaseAsync(string connectionString, ILogger logger, CancellationToken ct)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var database = target.Database ?? throw new InvalidOperationException("The connection string names no Database.");
        var maintenance = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(ct);
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from pg_database where datname = @database)", new { database }, cancellationToken: ct));
        if (exists) return;
        try
        {
            var quoted = "\"" + database.Replace("\"", "\"\"") + "\"";
            await connection.ExecuteAsync(new CommandDefinition($"create database {quoted}", cancellationToken: ct));
            logger.LogInformation("Created database {Database}", database);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another replica created it at the same moment.
        }
    }
}
