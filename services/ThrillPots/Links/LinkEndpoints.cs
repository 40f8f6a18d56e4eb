using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Links;

/// <summary>
/// Linked jackpots (spec §14.2, §16): directed links "a v2 contribution to this instance also goes to that one". Both
/// instances belong to one operator and the caller must act for both owners; every change is audited. Propagation follows
/// one level only, so a cycle (A → B and B → A) is harmless and allowed: a contribution to A reaches A and B, to B reaches B
/// and A.
/// </summary>
public static class LinkEndpoints
{
    public sealed record LinkBody(string? InstanceId);
    public sealed record LinkDoc(Guid FromInstance, Guid ToInstance, long CreatedTimestamp);
    public sealed record LinksDoc(Guid InstanceId, IReadOnlyList<LinkDoc> LinksTo, IReadOnlyList<LinkDoc> LinkedFrom);

    public static void MapLinkEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/instances/{id:guid}/links").WithTags("Instances");
        g.MapGet("", ListAsync).RequirePermission(Access.System, "instances", write: false);
        g.MapPost("", LinkAsync).RequirePermission(Access.System, "instances", write: true);
        g.MapDelete("/{to:guid}", UnlinkAsync).RequirePermission(Access.System, "instances", write: true);
    }

    static async Task<IResult> ListAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var owner = await c.ExecuteScalarAsync<string?>(new CommandDefinition("select owner_id from instances where id = @id", new { id }, cancellationToken: ct));
        if (owner is null) return Problems.NotFound($"No instance {id}.");
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The instance belongs to '{owner}'.");
        return Results.Ok(await LoadAsync(c, null, id, ct));
    }

    static async Task<IResult> LinkAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<LinkBody>(http.Request);
        if (error is not null) return error;
        if (!Guid.TryParse(body!.InstanceId, out var to)) return Problems.BadRequest("instance_id", "Required: the UUID of the instance to link to.");
        if (to == id) return Problems.BadRequest("instance_id", "An instance cannot be linked to itself.");
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var (refusal, _) = await CheckAsync(c, tx, http, id, to, "instance_id", ct);
        if (refusal is not null) return refusal;
        var before = await LoadAsync(c, tx, id, ct);
        if (await c.ExecuteAsync(new CommandDefinition("""
                insert into instance_links (from_instance, to_instance) values (@id, @to) on conflict do nothing
                """, new { id, to }, tx, cancellationToken: ct)) == 0)
            return Problems.Conflict($"Instance {id} is already linked to {to}.");
        var after = await LoadAsync(c, tx, id, ct);
        await Audit.WriteAsync(c, tx, http.User, "instance.link", "instance", id.ToString(), await OwnerAsync(c, tx, id, ct), before, after, ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/instances/{id}/links", after);
    }

    static async Task<IResult> UnlinkAsync(Guid id, Guid to, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var owner = await OwnerAsync(c, tx, id, ct);
        if (owner is null) return Problems.NotFound($"No instance {id}.");
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The instance belongs to '{owner}'.");
        var before = await LoadAsync(c, tx, id, ct);
        if (await c.ExecuteAsync(new CommandDefinition("delete from instance_links where from_instance = @id and to_instance = @to",
                new { id, to }, tx, cancellationToken: ct)) == 0)
            return Problems.NotFound($"Instance {id} is not linked to {to}.");
        var after = await LoadAsync(c, tx, id, ct);
        await Audit.WriteAsync(c, tx, http.User, "instance.unlink", "instance", id.ToString(), owner, before, after, ct);
        await tx.CommitAsync(ct);
        return Results.Ok(after);
    }

    /// <summary>
    /// Both instances exist (404), the caller acts for both (403), they belong to one operator and neither is Terminated
    /// (400 naming <paramref name="field"/>). Returns the target's owner.
    /// </summary>
    internal static async Task<(IResult? Refusal, string? ToOwner)> CheckAsync(NpgsqlConnection c, NpgsqlTransaction tx, HttpContext http, Guid from,
        Guid to, string field, CancellationToken ct, string? fromOwner = null)
    {
        var rows = (await c.QueryAsync<(Guid Id, string OwnerId, string State)>(new CommandDefinition(
            "select id, owner_id, state from instances where id = any(@ids)", new { ids = new[] { from, to } }, tx, cancellationToken: ct)))
            .ToDictionary(r => r.Id);
        if (fromOwner is null)
        {
            if (!rows.TryGetValue(from, out var f)) return (Problems.NotFound($"No instance {from}."), null);
            if (!http.MayActFor(f.OwnerId)) return (TokenValidation.Forbidden($"The instance belongs to '{f.OwnerId}'."), null);
            if (f.State == InstanceEndpoints.Terminated) return (Problems.Conflict($"Instance {from} is Terminated."), null);
            fromOwner = f.OwnerId;
        }
        if (!rows.TryGetValue(to, out var t)) return (Problems.BadRequest(field, $"No instance {to}."), null);
        if (!http.MayActFor(t.OwnerId)) return (TokenValidation.Forbidden($"Instance {to} belongs to '{t.OwnerId}'."), null);
        if (Permissions.ParseOwner(t.OwnerId).Org != Permissions.ParseOwner(fromOwner).Org)
            return (Problems.BadRequest(field, $"Instance {to} belongs to another operator."), null);
        if (t.State == InstanceEndpoints.Terminated) return (Problems.BadRequest(field, $"Instance {to} is Terminated."), null);
        return (null, t.OwnerId);
    }

    /// <summary>For instantiation with linked_instance: the given instance exists, is the caller's, of the new owner's operator and live.</summary>
    internal static async Task<IResult?> CheckLinkedAsync(NpgsqlConnection c, NpgsqlTransaction tx, HttpContext http, Guid linked, string ownerId,
        CancellationToken ct)
    {
        var r = await c.QuerySingleOrDefaultAsync<(string OwnerId, string State)>(new CommandDefinition(
            "select owner_id, state from instances where id = @linked", new { linked }, tx, cancellationToken: ct));
        if (r.OwnerId is null) return Problems.BadRequest("linked_instance", $"No instance {linked}.");
        if (!http.MayActFor(r.OwnerId)) return TokenValidation.Forbidden($"Instance {linked} belongs to '{r.OwnerId}'.");
        if (Permissions.ParseOwner(r.OwnerId).Org != Permissions.ParseOwner(ownerId).Org)
            return Problems.BadRequest("linked_instance", $"Instance {linked} belongs to another operator.");
        if (r.State == InstanceEndpoints.Terminated) return Problems.BadRequest("linked_instance", $"Instance {linked} is Terminated.");
        return null;
    }

    static Task<string?> OwnerAsync(NpgsqlConnection c, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        c.ExecuteScalarAsync<string?>(new CommandDefinition("select owner_id from instances where id = @id", new { id }, tx, cancellationToken: ct));

    internal static async Task<LinksDoc> LoadAsync(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id, CancellationToken ct)
    {
        var rows = (await c.QueryAsync<(Guid From, Guid To, DateTime At)>(new CommandDefinition("""
            select from_instance, to_instance, created_at from instance_links where from_instance = @id or to_instance = @id
            order by created_at, from_instance, to_instance
            """, new { id }, tx, cancellationToken: ct))).ToList();
        return new LinksDoc(id,
            [.. rows.Where(r => r.From == id).Select(r => new LinkDoc(r.From, r.To, Time.Ms(r.At)))],
            [.. rows.Where(r => r.To == id).Select(r => new LinkDoc(r.From, r.To, Time.Ms(r.At)))]);
    }
}
