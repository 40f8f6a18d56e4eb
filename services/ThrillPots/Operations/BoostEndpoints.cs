using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Engine;
using ThrillPots.Templates;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Operations;

/// <summary>
/// Seed boosts (spec §7.3, design.md §4): an operator adds money to one pot, or spreads it over all of an instance's pots
/// in proportion to their min_reseed_value. It is kept apart in pots.seed_boost and spent on the pot's next reseed after its
/// reseed fund. Written under the instance row lock (the writer's lock, so no batch overwrites it), recorded per pot in
/// seed_boosts (reconciliation's money in) and audited.
/// </summary>
public static class BoostEndpoints
{
    public const decimal MaxAmount = 1_000_000_000_000m;

    public sealed record BoostBody(string? PotId, decimal? Amount, string? Reason);
    public sealed record BoostPart(string PotId, decimal Amount);
    public sealed record BoostDoc(Guid BoostId, Guid InstanceId, decimal Amount, string? Reason, IReadOnlyList<BoostPart> Pots, long Timestamp);
    public sealed record BoostRow(Guid Id, Guid RequestId, string PotId, decimal Amount, string? Reason, string? ActorSub, long CreatedTimestamp);

    public static void MapBoostEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("/instances/{id:guid}/boosts").WithTags("Instances");
        g.MapPost("", BoostAsync).RequirePermission(Access.System, "instances", write: true);
        g.MapGet("", ListAsync).RequirePermission(Access.System, "instances", write: false);
    }

    static async Task<IResult> BoostAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<BoostBody>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (body!.Amount is not decimal amount) errors["amount"] = ["Required: a number > 0."];
        else if (amount <= 0) errors["amount"] = ["Must be > 0."];
        else if (amount > MaxAmount) errors["amount"] = [$"Must not exceed {MaxAmount:0}."];
        else if (amount.Scale > Money.InternalScale) errors["amount"] = [$"At most {Money.InternalScale} decimal places."];
        if (body.PotId is not null && !Ids.IsValid(body.PotId)) errors["pot_id"] = ["A pot id of the instance, or left out to boost every pot."];
        if (body.Reason is { Length: > 500 }) errors["reason"] = ["At most 500 characters."];
        if (errors.Count > 0) return Problems.BadRequest(errors);

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // The writer's lock: a contribution batch in progress finishes first, the next one sees the boost.
        var instance = await c.QuerySingleOrDefaultAsync<(string OwnerId, string State, string Definition)>(new CommandDefinition("""
            select i.owner_id, i.state, t.definition::text from instances i join templates t on t.id = i.template_id
            where i.id = @id for update of i
            """, new { id }, tx, cancellationToken: ct));
        if (instance.OwnerId is null) return Problems.NotFound($"No instance {id}.");
        if (!http.MayActFor(instance.OwnerId)) return TokenValidation.Forbidden($"The instance belongs to '{instance.OwnerId}'.");
        if (instance.State == InstanceEndpoints.Terminated)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: $"Instance {id} is Terminated.",
                extensions: new Dictionary<string, object?> { ["reason"] = "instance_not_active", ["state"] = instance.State });
        var definition = JsonSerializer.Deserialize<TemplateDefinition>(instance.Definition, Audit.Json)!;
        var pots = (definition.Pots ?? []).ToList();
        if (body.PotId is not null && pots.All(p => p.Id != body.PotId))
            return Problems.BadRequest("pot_id", $"Instance {id} has no pot '{body.PotId}' (pots: {string.Join(", ", pots.Select(p => p.Id))}).");
        var parts = body.PotId is not null
            ? [KeyValuePair.Create(body.PotId, body.Amount!.Value)]
            : PotTransfers.Spread(body.Amount!.Value, [.. pots.Select(p => KeyValuePair.Create(p.Id!, p.SeedStrategy?.MinReseedValue ?? 0m))]);
        parts = [.. parts.Where(p => p.Value > 0)];

        var before = await InstanceEndpoints.LoadAsync(c, tx, id, ct);
        var requestId = Guid.CreateVersion7();
        await c.ExecuteAsync(new CommandDefinition("""
            update pots p set seed_boost = p.seed_boost + u.amount, version = p.version + 1, updated_at = now()
            from unnest(@potIds, @amounts) u(pot_id, amount)
            where p.instance_id = @id and p.pot_id = u.pot_id
            """, new { id, potIds = parts.Select(p => p.Key).ToArray(), amounts = parts.Select(p => p.Value).ToArray() }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("""
            insert into seed_boosts (id, request_id, instance_id, pot_id, amount, reason, actor_sub)
            select gen_random_uuid(), @requestId, @id, u.pot_id, u.amount, @Reason, @sub from unnest(@potIds, @amounts) u(pot_id, amount)
            """, new
        {
            requestId, id, body.Reason, sub = http.User.Subject(),
            potIds = parts.Select(p => p.Key).ToArray(), amounts = parts.Select(p => p.Value).ToArray(),
        }, tx, cancellationToken: ct));
        var doc = new BoostDoc(requestId, id, body.Amount!.Value, body.Reason, [.. parts.Select(p => new BoostPart(p.Key, p.Value))],
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var after = await InstanceEndpoints.LoadAsync(c, tx, id, ct);
        await Audit.WriteAsync(c, tx, http.User, "instance.boost", "instance", id.ToString(), instance.OwnerId, before,
            new { boost = doc, instance = after }, ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/instances/{id}/boosts", doc);
    }

    static async Task<IResult> ListAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var owner = await c.ExecuteScalarAsync<string?>(new CommandDefinition("select owner_id from instances where id = @id", new { id }, cancellationToken: ct));
        if (owner is null) return Problems.NotFound($"No instance {id}.");
        if (!http.MayActFor(owner)) return TokenValidation.Forbidden($"The instance belongs to '{owner}'.");
        var rows = await c.QueryAsync<(Guid Id, Guid RequestId, string PotId, decimal Amount, string? Reason, string? ActorSub, DateTime At)>(
            new CommandDefinition("""
                select id, request_id, pot_id, amount, reason, actor_sub, created_at from seed_boosts where instance_id = @id order by created_at, id
                """, new { id }, cancellationToken: ct));
        return Results.Ok(rows.Select(r => new BoostRow(r.Id, r.RequestId, r.PotId, r.Amount, r.Reason, r.ActorSub, Time.Ms(r.At))).ToList());
    }
}
