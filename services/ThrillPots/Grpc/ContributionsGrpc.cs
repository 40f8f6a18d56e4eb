using System.Globalization;
using System.Text.Json;
using ThrillPots.Admin;
using ThrillPots.Contributions;
using ThrillSuite.Grpc;
using ThrillSuite.ServiceDefaults.Auth;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.Grpc;

/// <summary>
/// thrillsuite.pots.v1.Contributions: the batch path for event processors. The bearer token is validated by the same
/// middleware as HTTP; each element is validated, owner-checked and committed like a v2 contribution, and answered in place.
/// </summary>
public sealed class ContributionsGrpc(ContributionService service)
{
    public static readonly Google.Protobuf.Reflection.ServiceDescriptor Descriptor = Proto.PotsReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("Contributions");

    // The proto's field names for the v2 paths the shared rules report.
    static readonly Dictionary<string, string> FieldNames = new()
    {
        ["owner_id"] = "brand_id", ["player"] = "brand_id", ["player.brand_id"] = "brand_id", ["player.id"] = "player_id",
        ["player.country"] = "player_country", ["player.token"] = "token",
    };

    public async Task<Proto.ContributeBatchReply> ContributeBatch(Proto.ContributeBatchRequest request, ServerCallContext call)
    {
        var http = call.GetHttpContext();
        if (http.User.Identity?.IsAuthenticated != true)
            throw new RpcException(StatusCode.Unauthenticated, "A valid bearer token is required (authorization: Bearer <token>).");
        if (!http.User.HasPermission(Access.System, ContributionEndpoints.Resource, write: true))
            throw new RpcException(StatusCode.PermissionDenied, $"The token does not grant {Access.System}:{ContributionEndpoints.Resource}:write.");
        if (request.Contributions.Count is 0 or > ContributionEndpoints.MaxBatch)
            throw new RpcException(StatusCode.InvalidArgument, $"contributions: 1-{ContributionEndpoints.MaxBatch} elements.");

        var contribute = service.InOrderOfKeys(http.MayActFor, call.CancellationToken);
        var results = await Task.WhenAll(request.Contributions.Select(async c =>
        {
            var (body, parseErrors) = ToV2(c);
            var (validated, errors) = ContributionRules.Validate(body);
            foreach (var (k, v) in parseErrors) errors[k] = v;
            if (validated is null || parseErrors.Count > 0)
            {
                var named = errors.ToDictionary(e => FieldNames.GetValueOrDefault(e.Key, e.Key), e => e.Value);
                return (IReadOnlyList<Contributions.ContributionResult>)[new Contributions.ContributionResult(null, Outcomes.Invalid, Reasons.Invalid,
                    string.Join(" ", named.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")))];
            }
            return await contribute(validated);
        }));
        var reply = new Proto.ContributeBatchReply();
        foreach (var r in results)
        {
            var items = new Proto.ContributionResults();
            items.Items.AddRange(r.Select(ToProto));
            reply.Results.Add(items);
        }
        return reply;
    }

    static (ContributeV2 Body, Dictionary<string, string[]> Errors) ToV2(Proto.Contribution c)
    {
        var errors = new Dictionary<string, string[]>();
        decimal? wager = null;
        if (c.BaseWager.Length > 0)
        {
            if (decimal.TryParse(c.BaseWager, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var w)) wager = w;
            else errors["base_wager"] = ["A decimal string such as \"1.50\"."];
        }
        JsonElement? metadata = null;
        if (c.MetadataJson.Length > 0)
        {
            try { metadata = JsonDocument.Parse(c.MetadataJson).RootElement.Clone(); }
            catch (JsonException) { errors["metadata_json"] = ["Malformed JSON."]; }
        }
        var colon = c.BrandId.IndexOf(':');
        var body = new ContributeV2(new TargetBody(NullIfEmpty(c.Target?.Type), NullIfEmpty(c.Target?.Id)),
            colon > 0 ? c.BrandId[..colon] : null,
            new PlayerBody(NullIfEmpty(c.PlayerId), NullIfEmpty(c.PlayerCountry), colon > 0 ? c.BrandId : null, NullIfEmpty(c.Token)),
            NullIfEmpty(c.GameroundId), NullIfEmpty(c.Currency), wager, null, metadata);
        return (body, errors);
    }

    static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    public static Proto.ContributionResult ToProto(Contributions.ContributionResult r)
    {
        var p = new Proto.ContributionResult
        {
            InstanceId = r.InstanceId?.ToString() ?? "",
            Outcome = r.Outcome,
            Reason = r.Reason ?? "",
            Detail = r.Detail ?? "",
            ContributionId = r.ContributionId?.ToString() ?? "",
            ContributionValue = Format(r.ContributionValue),
            JackpotCurrency = r.JackpotCurrency ?? "",
            PlayerContributionValue = Format(r.PlayerContributionValue),
            PlayerCurrency = r.PlayerCurrency ?? "",
            BaseCurrency = r.CurrencyMultipliers?.BaseCurrency ?? "",
            PlayerMultiplier = Format(r.CurrencyMultipliers?.Player),
            JackpotMultiplier = Format(r.CurrencyMultipliers?.Jackpot),
            InstanceState = r.InstanceState ?? "",
            Timestamp = r.Timestamp ?? 0,
        };
        foreach (var w in r.Wins ?? [])
            p.Wins.Add(new Proto.PotWin
            {
                WinId = w.WinId.ToString(), PotId = w.PotId, WinAmount = Format(w.WinAmount), PlayerWinAmount = Format(w.PlayerWinAmount),
                Seed = Format(w.Seed), SeedDeficit = Format(w.SeedDeficit), Trigger = w.Trigger,
            });
        return p;
    }

    public static string Format(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";
}
