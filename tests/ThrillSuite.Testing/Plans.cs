using System.Text.Json;
using Npgsql;

namespace ThrillSuite.Testing;

/// <summary>PostgreSQL's plans of a service's statements, for tests that check a statement stays an index probe at scale.</summary>
public static class Plans
{
    /// <summary>
    /// The plan of <paramref name="sql"/> ($1, $2… of <paramref name="parameterTypes"/>) for <paramref name="arguments"/> (SQL
    /// literals): generic, as a prepared statement reused for any values has; custom, planned for these values.
    /// </summary>
    public static async Task<JsonElement> ExplainAsync(NpgsqlDataSource db, string sql, string parameterTypes, string arguments, bool generic)
    {
        var name = "plan_" + Guid.NewGuid().ToString("N");
        await using var c = await db.OpenConnectionAsync();
        // Rolled back: EXPLAIN of a data-modifying statement plans it without running it, and nothing else is kept.
        await using var tx = await c.BeginTransactionAsync();
        var mode = generic ? "force_generic_plan" : "force_custom_plan";
        var types = parameterTypes.Length > 0 ? $"({parameterTypes})" : "";
        await using (var prepare = new NpgsqlCommand($"set local plan_cache_mode = {mode}; prepare {name} {types} as {sql}", c, tx))
            await prepare.ExecuteNonQueryAsync();
        await using var explain = new NpgsqlCommand($"explain (format json) execute {name} {(arguments.Length > 0 ? $"({arguments})" : "")}", c, tx);
        var text = (string)(await explain.ExecuteScalarAsync())!;
        await using (var deallocate = new NpgsqlCommand($"deallocate {name}", c, tx)) await deallocate.ExecuteNonQueryAsync();
        return JsonDocument.Parse(text).RootElement[0].GetProperty("Plan").Clone();
    }

    public static Task<JsonElement> GenericAsync(NpgsqlDataSource db, string sql, string parameterTypes, string arguments) =>
        ExplainAsync(db, sql, parameterTypes, arguments, generic: true);

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
}
