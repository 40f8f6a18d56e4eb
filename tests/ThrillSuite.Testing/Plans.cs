using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NUnit.Framework;
using ThrillSuite.Data.Migrations;

namespace ThrillSuite.Testing;

/// <summary>
/// A scratch database with a service's migrations and data loaded at platform scale, dropped on dispose: for tests that
/// check PostgreSQL's plans of the service's own statements (each an index probe, whatever the tables hold).
/// </summary>
public sealed class PlanDatabase : IAsyncDisposable
{
    readonly string name;
    public NpgsqlDataSource DataSource { get; }

    PlanDatabase(string name, NpgsqlDataSource dataSource)
    {
        this.name = name;
        DataSource = dataSource;
    }

    /// <summary>Migrated with the migrations embedded in <paramref name="service"/>'s assembly, then <paramref name="load"/> run and the tables analysed.</summary>
    public static async Task<PlanDatabase> CreateAsync(string prefix, Assembly service, string load)
    {
        var connectionString = TestEnvironment.UniqueDatabase(prefix, out var name);
        await MigrationRunner.MigrateAsync(connectionString, MigrationRunner.Load(service), NullLogger.Instance, CancellationToken.None);
        var database = new PlanDatabase(name, NpgsqlDataSource.Create(connectionString));
        await using var c = await database.DataSource.OpenConnectionAsync();
        await using var setUp = new NpgsqlCommand(load + ";\nanalyze;", c);
        await setUp.ExecuteNonQueryAsync();
        return database;
    }

    /// <summary>
    /// The plan of <paramref name="sql"/> ($1, $2… of <paramref name="parameterTypes"/>) for <paramref name="arguments"/> (SQL
    /// literals): generic, as a prepared statement reused for any values has; custom, planned for these values.
    /// </summary>
    public async Task<JsonElement> ExplainAsync(string sql, string parameterTypes, string arguments, bool generic = true)
    {
        var statement = "plan_" + Guid.NewGuid().ToString("N");
        await using var c = await DataSource.OpenConnectionAsync();
        // Rolled back: EXPLAIN of a data-modifying statement plans it without running it, and nothing else is kept.
        await using var tx = await c.BeginTransactionAsync();
        var mode = generic ? "force_generic_plan" : "force_custom_plan";
        var types = parameterTypes.Length > 0 ? $"({parameterTypes})" : "";
        await using (var prepare = new NpgsqlCommand($"set local plan_cache_mode = {mode}; prepare {statement} {types} as {sql}", c, tx))
            await prepare.ExecuteNonQueryAsync();
        await using var explain = new NpgsqlCommand($"explain (format json) execute {statement} {(arguments.Length > 0 ? $"({arguments})" : "")}", c, tx);
        var text = (string)(await explain.ExecuteScalarAsync())!;
        await using (var deallocate = new NpgsqlCommand($"deallocate {statement}", c, tx)) await deallocate.ExecuteNonQueryAsync();
        return JsonDocument.Parse(text).RootElement[0].GetProperty("Plan").Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(name);
    }
}

/// <summary>Reading a plan (EXPLAIN's JSON).</summary>
public static class Plans
{
    /// <summary>The node types of every plan node that reads <paramref name="relation"/>, subplans and CTEs included.</summary>
    public static List<string> Scans(JsonElement node, string relation)
    {
        var found = new List<string>();
        if (node.TryGetProperty("Relation Name", out var name) && name.GetString() == relation)
            found.Add(node.GetProperty("Node Type").GetString()!);
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray()) found.AddRange(Scans(child, relation));
        return found;
    }

    /// <summary>Every index condition in the plan ("Index Cond" of index and bitmap index scans).</summary>
    public static List<string> IndexConditions(JsonElement node)
    {
        var found = new List<string>();
        if (node.TryGetProperty("Index Cond", out var condition)) found.Add(condition.GetString()!);
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray()) found.AddRange(IndexConditions(child));
        return found;
    }

    /// <summary>The plan reads each of <paramref name="relations"/>, and none of them whole (no sequential scan, parallel or not).</summary>
    public static void AssertNoWholeRead(JsonElement plan, params string[] relations)
    {
        foreach (var relation in relations)
        {
            Assert.That(Scans(plan, relation), Is.Not.Empty, $"the statement reads {relation}");
            Assert.That(Scans(plan, relation), Has.None.EndsWith("Seq Scan"), $"{relation}: {plan}");
        }
    }
}
