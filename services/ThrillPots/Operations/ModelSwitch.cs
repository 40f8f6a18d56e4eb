using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Contributions;
using ThrillPots.Engine;
using ThrillPots.Templates;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Operations;

/// <summary>
/// Model switching (spec §21.4): a new instance from a published template takes over a running one. In ONE transaction that
/// holds the source instance's row lock (the lock its writer takes per batch, so every contribution is either in the moved
/// value or refused afterwards as instance_not_active): the target instance is created Active with the source's brands and
/// sources; each source pot's value, reseed fund and unused boosts move by its rule's fractions (cut to the internal scale,
/// the residue to the rule's largest fraction) and are recorded as pot_transfers, which reconciliation counts out of the
/// source pots and into the target pots; opt-ins are copied when asked (running totals start at 0 on the new instance);
/// source assignments and links are re-pointed to the new instance; the source is Terminated; both are audited.
/// dry_run answers the same preview and changes nothing.
/// </summary>
public static class ModelSwitch
{
    public sealed record RuleBody(string? SourcePot, Dictionary<string, decimal>? TargetPot);
    public sealed record SwitchBody(string? SourceInstanceId, string? TemplateId, string? TemplateOwnerId, string? TargetInstanceOwnerId,
        string? TargetInstanceName, List<RuleBody?>? PotRules, bool? TransferOptins, string? Reason, bool? DryRun);
    public sealed record TransferDoc(string SourcePot, string TargetPot, decimal Value, decimal ReseedFund, decimal SeedBoost, decimal Amount);
    public sealed record TargetPotDoc(string Id, decimal InitialSeed, decimal Value, decimal ReseedFund, decimal SeedBoost);
    public sealed record MovedDoc(string SourcePot, decimal Value, decimal ReseedFund, decimal SeedBoost, decimal Amount);
    public sealed record SwitchDoc(bool DryRun, Guid? SwitchId, Guid SourceInstanceId, string SourceStateBefore, Guid? TargetInstanceId,
        IReadOnlyList<MovedDoc> Moved, IReadOnlyList<TransferDoc> Transfers, IReadOnlyList<TargetPotDoc> TargetPots, long OptInsTransferred,
        IReadOnlyList<string> SourcesReassigned, string? Reason, InstanceEndpoints.InstanceDoc? TargetInstance);

    public static void MapModelSwitch(this WebApplication app) =>
        app.MapPost("/instances/switchmodel", SwitchAsync).WithTags("Instances").RequirePermission(Access.System, "instances", write: true);

    static async Task<IResult> SwitchAsync(HttpContext http, NpgsqlDataSource db, IRandomSource random, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<SwitchBody>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (!Guid.TryParse(body!.SourceInstanceId, out var sourceId)) errors["source_instance_id"] = ["Required: the UUID of the instance to switch from."];
        if (!Guid.TryParse(body.TemplateId, out var templateId)) errors["template_id"] = ["Required: the UUID of a published template."];
        if (!Ids.IsOwner(body.TemplateOwnerId)) errors["template_owner_id"] = ["Required: the template's owner (operator or operator:brand)."];
        if (!Ids.IsOwner(body.TargetInstanceOwnerId)) errors["target_instance_owner_id"] = ["Required: operator or operator:brand."];
        if (body.TargetInstanceName is not { Length: > 0 and <= 200 } || string.IsNullOrWhiteSpace(body.TargetInstanceName))
            errors["target_instance_name"] = ["Required: 1-200 characters."];
        if (body.Reason is { Length: > 500 }) errors["reason"] = ["At most 500 characters."];
        var rules = new List<PotRule>();
        if (body.PotRules is not { Count: > 0 }) errors["pot_rules"] = ["Required: [{\"source_pot\", \"target_pot\": {\"pot\": fraction}}], one per source pot."];
        else
            for (var i = 0; i < body.PotRules.Count; i++)
            {
                if (body.PotRules[i] is not { } r) { errors[$"pot_rules[{i}]"] = ["Required: {\"source_pot\", \"target_pot\"}."]; continue; }
                if (string.IsNullOrEmpty(r.SourcePot)) errors[$"pot_rules[{i}].source_pot"] = ["Required: a pot of the source instance."];
                if (r.TargetPot is null) errors[$"pot_rules[{i}].target_pot"] = ["Required: {\"target pot\": fraction}."];
                rules.Add(new PotRule(r.SourcePot ?? "", [.. (r.TargetPot ?? []).Select(kv => KeyValuePair.Create(kv.Key, kv.Value))]));
            }
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!http.MayActFor(body.TargetInstanceOwnerId!)) return TokenValidation.Forbidden($"The caller may not act for '{body.TargetInstanceOwnerId}'.");
        var dryRun = body.DryRun == true;

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // The source's row lock first: its writer waits (or has finished its batch) and commits nothing until this is done.
        var source = await InstanceEndpoints.LoadAsync(c, tx, sourceId, ct, forUpdate: true);
        if (source is null) return Problems.NotFound($"No instance {sourceId}.");
        if (!http.MayActFor(source.OwnerId)) return TokenValidation.Forbidden($"The instance belongs to '{source.OwnerId}'.");
        if (Permissions.ParseOwner(source.OwnerId).Org != Permissions.ParseOwner(body.TargetInstanceOwnerId!).Org)
            return Problems.BadRequest("target_instance_owner_id", $"Must be of the source instance's operator ('{Permissions.ParseOwner(source.OwnerId).Org}').");
        var sourceTemplate = (await TemplateEndpoints.LoadAsync(c, tx, source.TemplateId, ct))!;
        if (sourceTemplate.JackpotType == "Raffle")
            return Problems.BadRequest("source_instance_id", $"Instance {sourceId} is a raffle: raffles cannot switch models.");
        if (source.State is not (InstanceEndpoints.Active or InstanceEndpoints.Paused))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                detail: $"Instance {sourceId} is {source.State}; only an Active or Paused instance can switch models.",
                extensions: new Dictionary<string, object?> { ["reason"] = Reasons.InstanceNotActive, ["state"] = source.State });

        var template = await TemplateEndpoints.LoadAsync(c, tx, templateId, ct);
        if (template is null) return Problems.NotFound($"No template {templateId}.");
        if (template.OwnerId != body.TemplateOwnerId)
            return Problems.BadRequest("template_owner_id", $"Template {templateId} belongs to '{template.OwnerId}'.");
        if (!http.MayActFor(template.OwnerId)) return TokenValidation.Forbidden($"The template belongs to '{template.OwnerId}'.");
        if (template.OwnerId != body.TargetInstanceOwnerId && template.OwnerId != Permissions.ParseOwner(body.TargetInstanceOwnerId!).Org)
            return Problems.BadRequest("template_owner_id", $"Template {templateId} of '{template.OwnerId}' cannot serve '{body.TargetInstanceOwnerId}'.");
        if (template.PublishedAt is null) return Problems.Conflict($"Template {templateId} is not published.");
        if (template.JackpotType == "Raffle") return Problems.BadRequest("template_id", $"Template {templateId} is a raffle: raffles cannot switch models.");
        if (template.Currency != source.Currency)
            return Problems.BadRequest("template_id", $"Template {templateId} is in {template.Currency}, the source instance in {source.Currency}: a switch keeps the currency.");
        if (!await OperatorEndpoints.OwnerExistsAsync(c, tx, body.TargetInstanceOwnerId!, ct))
            return Problems.BadRequest("target_instance_owner_id", $"'{body.TargetInstanceOwnerId}' is not a registered operator or brand.");

        var definition = template.Parsed;
        var targetDefinitions = (definition.Pots ?? []).ToList();
        var sourcePots = (await c.QueryAsync<(string PotId, decimal Value, decimal ReseedFund, decimal SeedBoost)>(new CommandDefinition(
            "select pot_id, value, reseed_fund, seed_boost from pots where instance_id = @sourceId order by position", new { sourceId }, tx, cancellationToken: ct)))
            .Select(p => new PotState(p.PotId, p.Value, p.ReseedFund) { Boosts = p.SeedBoost }).ToList();
        var ruleErrors = PotTransfers.Validate([.. sourcePots.Select(p => p.PotId)],
            targetDefinitions.ToDictionary(p => p.Id!, p => p.SeedStrategy?.InitialSeedValue ?? 0m), rules);
        if (ruleErrors.Count > 0) return Problems.BadRequest(ruleErrors);

        var transfers = rules.SelectMany(r => PotTransfers.Move(sourcePots.Single(p => p.PotId == r.SourcePot), r)).ToList();
        var into = transfers.GroupBy(t => t.TargetPot).ToDictionary(g => g.Key,
            g => (Value: g.Sum(t => t.Value), Fund: g.Sum(t => t.ReseedFund), Boost: g.Sum(t => t.SeedBoost)));
        // The target's pots start from what they receive: its hidden drops are drawn from there (above the moved value).
        var seeded = definition with
        {
            Pots = [.. targetDefinitions.Select(p => into.TryGetValue(p.Id!, out var m) ? p with { SeedStrategy = p.SeedStrategy! with { InitialSeedValue = m.Value } } : p)],
        };
        var targetPots = InstanceMath.Initialize(seeded, random, DateTimeOffset.UtcNow)
            .Select(p => into.TryGetValue(p.PotId, out var m) ? p with { ReseedFund = m.Fund, Boosts = m.Boost } : p).ToList();
        var initialSeeds = targetDefinitions.ToDictionary(p => p.Id!, p => p.SeedStrategy?.InitialSeedValue ?? 0m);

        var optIns = body.TransferOptins == true
            ? await c.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from opt_ins where instance_id = @sourceId", new { sourceId }, tx, cancellationToken: ct))
            : 0;
        var sources = (await c.QueryAsync<string>(new CommandDefinition(
            "select owner_id || '/' || source_id from source_instances where instance_id = @sourceId order by owner_id, source_id",
            new { sourceId }, tx, cancellationToken: ct))).ToList();
        var moved = sourcePots.Select(p => new MovedDoc(p.PotId, p.Value, p.ReseedFund, p.Boosts, p.Total)).ToList();
        var transferDocs = transfers.Select(t => new TransferDoc(t.SourcePot, t.TargetPot, t.Value, t.ReseedFund, t.SeedBoost, t.Amount)).ToList();
        var potDocs = targetPots.Select(p => new TargetPotDoc(p.PotId, initialSeeds[p.PotId], p.Value, p.ReseedFund, p.Boosts)).ToList();
        if (dryRun)
        {
            await tx.RollbackAsync(ct);
            return Results.Ok(new SwitchDoc(true, null, sourceId, source.State, null, moved, transferDocs, potDocs, optIns, sources, body.Reason, null));
        }

        var switchId = Guid.CreateVersion7();
        var targetId = Guid.CreateVersion7();
        await c.ExecuteAsync(new CommandDefinition("""
            insert into instances (id, template_id, owner_id, name, currency, state, allowed_brands, allowed_sources)
            select @targetId, @templateId, @owner, @name, currency, 'Active', allowed_brands, allowed_sources from instances where id = @sourceId
            """, new { targetId, templateId, owner = body.TargetInstanceOwnerId, name = body.TargetInstanceName, sourceId }, tx, cancellationToken: ct));
        for (var i = 0; i < targetPots.Count; i++)
            await c.ExecuteAsync(new CommandDefinition("""
                insert into pots (instance_id, pot_id, position, initial_seed, value, reseed_fund, seed_boost, drops)
                values (@targetId, @PotId, @i, @seed, @Value, @ReseedFund, @Boosts, cast(@drops as jsonb))
                """, new
            {
                targetId, targetPots[i].PotId, i, seed = initialSeeds[targetPots[i].PotId], targetPots[i].Value, targetPots[i].ReseedFund,
                targetPots[i].Boosts, drops = PotDrops.Serialize(targetPots[i]),
            }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("""
            insert into pot_transfers (id, switch_id, source_instance, source_pot, target_instance, target_pot, value, reseed_fund, seed_boost, amount)
            select gen_random_uuid(), @switchId, @sourceId, u.sp, @targetId, u.tp, u.v, u.f, u.b, u.v + u.f + u.b
            from unnest(@sp, @tp, @v, @f, @b) u(sp, tp, v, f, b)
            """, new
        {
            switchId, sourceId, targetId, sp = transfers.Select(t => t.SourcePot).ToArray(), tp = transfers.Select(t => t.TargetPot).ToArray(),
            v = transfers.Select(t => t.Value).ToArray(), f = transfers.Select(t => t.ReseedFund).ToArray(), b = transfers.Select(t => t.SeedBoost).ToArray(),
        }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("""
            update pots set value = 0, reseed_fund = 0, seed_boost = 0, version = version + 1, updated_at = now() where instance_id = @sourceId
            """, new { sourceId }, tx, cancellationToken: ct));
        if (body.TransferOptins == true)
            await c.ExecuteAsync(new CommandDefinition("""
                insert into opt_ins (instance_id, brand_id, player_id, opted_in, preferred_value, preferred_currency, player_country)
                select @targetId, brand_id, player_id, opted_in, preferred_value, preferred_currency, player_country from opt_ins where instance_id = @sourceId
                """, new { targetId, sourceId }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("""
            update source_instances set instance_id = @targetId, assigned_at = now() where instance_id = @sourceId;
            update instance_links set from_instance = @targetId where from_instance = @sourceId;
            update instance_links set to_instance = @targetId where to_instance = @sourceId;
            update instances set state = 'Terminated', version = version + 1, updated_at = now() where id = @sourceId;
            """, new { targetId, sourceId }, tx, cancellationToken: ct));
        var target = (await InstanceEndpoints.LoadAsync(c, tx, targetId, ct))!;
        var after = (await InstanceEndpoints.LoadAsync(c, tx, sourceId, ct))!;
        var doc = new SwitchDoc(false, switchId, sourceId, source.State, targetId, moved, transferDocs, potDocs, optIns, sources, body.Reason, target);
        await Audit.WriteAsync(c, tx, http.User, "instance.switchmodel", "instance", sourceId.ToString(), source.OwnerId, source,
            new { instance = after, switch_model = doc with { TargetInstance = null } }, ct);
        await Audit.WriteAsync(c, tx, http.User, "instance.create", "instance", targetId.ToString(), target.OwnerId, null,
            new { instance = target, switched_from = sourceId, switch_id = switchId }, ct);
        await tx.CommitAsync(ct);
        return Results.Created($"/instances/{targetId}", doc);
    }
}
