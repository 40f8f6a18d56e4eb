using System.Text.Json;
using ThrillPots.Admin;
using ThrillPots.Engine;

namespace ThrillPots.Contributions;

public enum TargetKind { Source, Instance }

/// <summary>A validated request: where it goes and what it contributes; <see cref="Propagate"/> (v2) also to the linked instances.</summary>
public sealed record ContributionRequest(TargetKind Kind, string TargetId, Contribution Contribution, bool Propagate = false);

/// <summary>v1 body (spec §13.3): by source (<c>source_id</c>) or directly to an instance (<c>instance_id</c>).</summary>
public sealed record ContributeV1(string? Token, string? BrandId, string? PlayerId, string? PlayerCountry, string? SourceId, string? InstanceId,
    string? GameroundId, string? Currency, decimal? BaseWager, JsonElement? Metadata);

public sealed record TargetBody(string? Type, string? Id);

/// <summary>v2 player block: <c>brand_id</c> is the bare brand of <c>owner_id</c> (or <c>operator:brand</c>).</summary>
public sealed record PlayerBody(string? Id, string? Country, string? BrandId, string? Token);

/// <summary>v2 body (spec §14.3): one shape for both targets; <c>bet_context</c> is accepted and kept out of the math.</summary>
public sealed record ContributeV2(TargetBody? Target, string? OwnerId, PlayerBody? Player, string? GameroundId, string? Currency,
    decimal? BaseWager, JsonElement? BetContext, JsonElement? Metadata);

/// <summary>
/// Field rules shared by every front door; each refusal names the field as the caller spelled it (design.md §5).
/// </summary>
public static class ContributionRules
{
    public const int MaxIdLength = 128, MaxTokenLength = 4096, MaxMetadataBytes = 8192;
    public const decimal MaxBaseWager = 1_000_000_000_000m;

    public static (ContributionRequest? Request, Dictionary<string, string[]> Errors) Validate(ContributeV1 body, TargetKind kind)
    {
        var errors = new Dictionary<string, string[]>();
        string? target = null;
        if (kind == TargetKind.Source)
        {
            if (!Ids.IsValid(body.SourceId)) errors["source_id"] = ["Required: a source id (" + Ids.Rule + ")"];
            target = body.SourceId;
        }
        else
        {
            if (!Guid.TryParse(body.InstanceId, out var id)) errors["instance_id"] = ["Required: the instance's UUID."];
            target = id.ToString();
        }
        if (!Ids.IsOwner(body.BrandId, brandRequired: true)) errors["brand_id"] = ["Required: operator:brand."];
        var c = Build(errors, body.BrandId, body.PlayerId, "player_id", body.GameroundId, body.PlayerCountry, "player_country", body.Currency,
            body.BaseWager, body.Token, "token", body.Metadata, kind == TargetKind.Source ? body.SourceId : null);
        return (errors.Count == 0 ? new ContributionRequest(kind, target!, c!) : null, errors);
    }

    public static (ContributionRequest? Request, Dictionary<string, string[]> Errors) Validate(ContributeV2 body, string prefix = "")
    {
        var errors = new Dictionary<string, string[]>();
        var kind = body.Target?.Type switch { "source" => TargetKind.Source, "instance" => TargetKind.Instance, _ => (TargetKind?)null };
        if (body.Target is null) errors[prefix + "target"] = ["Required: {\"type\": \"source\"|\"instance\", \"id\"}."];
        else if (kind is null) errors[prefix + "target.type"] = ["Required: \"source\" or \"instance\"."];
        else if (kind == TargetKind.Source ? !Ids.IsValid(body.Target.Id) : !Guid.TryParse(body.Target.Id, out _))
            errors[prefix + "target.id"] = [kind == TargetKind.Source ? "Required: a source id (" + Ids.Rule + ")" : "Required: the instance's UUID."];
        if (!Ids.IsOwner(body.OwnerId)) errors[prefix + "owner_id"] = ["Required: the operator id."];
        string? brandId = null;
        if (body.Player is null) errors[prefix + "player"] = ["Required: {\"id\", \"brand_id\", \"country\"?, \"token\"?}."];
        else if (Ids.IsOwner(body.OwnerId))
        {
            var op = ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(body.OwnerId!).Org;
            brandId = body.Player.BrandId is { } b && b.Contains(':') ? b : $"{op}:{body.Player.BrandId}";
            if (!Ids.IsOwner(brandId, brandRequired: true) || !brandId.StartsWith(op + ":", StringComparison.Ordinal))
                errors[prefix + "player.brand_id"] = [$"Required: a brand of operator '{op}'."];
        }
        var c = Build(errors, brandId ?? "", body.Player?.Id, prefix + "player.id", body.GameroundId, body.Player?.Country, prefix + "player.country",
            body.Currency, body.BaseWager, body.Player?.Token, prefix + "player.token", body.Metadata,
            kind == TargetKind.Source ? body.Target?.Id : null, prefix);
        if (body.BetContext is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
            errors[prefix + "bet_context"] = ["An object, or left out."];
        var target = kind == TargetKind.Instance && Guid.TryParse(body.Target?.Id, out var g) ? g.ToString() : body.Target?.Id;
        return (errors.Count == 0 ? new ContributionRequest(kind!.Value, target!, c!, Propagate: true) : null, errors);
    }

    static Contribution? Build(Dictionary<string, string[]> errors, string? brandId, string? playerId, string playerField, string? gameroundId,
        string? country, string countryField, string? currency, decimal? baseWager, string? token, string tokenField, JsonElement? metadata,
        string? sourceId, string prefix = "")
    {
        if (!IsText(playerId)) errors[playerField] = [$"Required: 1-{MaxIdLength} characters."];
        if (!IsText(gameroundId)) errors[prefix + "gameround_id"] = [$"Required: 1-{MaxIdLength} characters."];
        if (country is not null && (country.Length != 2 || !country.All(char.IsAsciiLetterUpper)))
            errors[countryField] = ["Two upper-case letters (ISO 3166-1 alpha-2, or UK), or left out."];
        if (!Money.IsKnownCurrency(currency)) errors[prefix + "currency"] = ["Required: an ISO 4217 currency code such as EUR."];
        if (baseWager is not decimal wager) errors[prefix + "base_wager"] = ["Required: a number ≥ 0."];
        else if (wager < 0) errors[prefix + "base_wager"] = ["Must be ≥ 0."];
        else if (wager > MaxBaseWager) errors[prefix + "base_wager"] = [$"Must not exceed {MaxBaseWager:0}."];
        else if (wager.Scale > Money.InternalScale) errors[prefix + "base_wager"] = [$"At most {Money.InternalScale} decimal places."];
        if (token is not null && token.Length > MaxTokenLength) errors[tokenField] = [$"At most {MaxTokenLength} characters."];
        string? metadataJson = null;
        if (metadata is { } m)
        {
            if (m.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null)) errors[prefix + "metadata"] = ["An object, or null."];
            else if (m.ValueKind == JsonValueKind.Object)
            {
                metadataJson = JsonSerializer.Serialize(m);
                if (metadataJson.Length > MaxMetadataBytes) errors[prefix + "metadata"] = [$"At most {MaxMetadataBytes} bytes of JSON."];
            }
        }
        return errors.Count == 0
            ? new Contribution(brandId!, playerId!, gameroundId!, country, currency!, baseWager!.Value, sourceId, token, metadataJson)
            : null;
    }

    static bool IsText(string? s) => s is { Length: > 0 and <= MaxIdLength } && !s.Any(char.IsControl) && !string.IsNullOrWhiteSpace(s);
}
