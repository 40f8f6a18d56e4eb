using System.Text.Json;
using Dapper;
using Npgsql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillSuite.ServiceDefaults.Admin;

/// <summary>Reads the audit log; rows of owners the caller may not act for are left out, system rows only for the platform.</summary>
public static class AuditEndpoints
{
    public sealed record AuditDoc(long Id, long Timestamp, string ActorSub, string? ActorUsername, string Action, string ResourceType,
        string ResourceId, string? OwnerId, JsonElement? Before, JsonElement? After);

    /// <summary><c>GET {path}</c>, needing <c>{system}:audit:read</c>.</summary>
    public static void MapAuditEndpoints(this WebApplication app, string system, string path = "/audit")
    {
        app.MapGet(path, ListAsync).WithTags("Audit").RequirePermission(system, "audit", write: false);
    }

    static async Task<IResult> ListAsync(string? resource_id, string? owner_id, int? limit, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (limit is < 1 or > 1000) return Problems.BadRequest("limit", "1-1000.");
        await using var c = await db.OpenConnectionAsync(ct);
        const string sql = """
            select id as Id, at as At, actor_sub as ActorSub, actor_username as ActorUsername, action as Action, resource_type as ResourceType,
                   resource_id as ResourceId, owner_id as OwnerId, before::text as Before, after::text as After
            from audit_log
            where (@resource_id::text is null or resource_id = @resource_id) and (@owner_id::text is null or owner_id = @owner_id)
            order by id desc
            """;
        var rows = await c.QueryAsync<Audit.Entry>(new CommandDefinition(sql, new { resource_id, owner_id }, cancellationToken: ct));
        return Results.Ok(rows
            .Where(r => r.OwnerId is null ? http.IsPlatform() : http.MayActFor(r.OwnerId))
            .Take(limit ?? 100)
            .Select(r => new AuditDoc(r.Id, Time.Ms(r.At), r.ActorSub, r.ActorUsername, r.Action, r.ResourceType, r.ResourceId, r.OwnerId,
                Parse(r.Before), Parse(r.After)))
            .ToList());
    }

    static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
