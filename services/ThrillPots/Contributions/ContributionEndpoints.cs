using System.Text.Json;
using System.Text.Json.Serialization;
using ThrillPots.Admin;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillPots.Contributions;

/// <summary>
/// The operator API's contribution endpoints (spec §13–§14, design.md §5), bearer token of a service account holding
/// thrillpots:contributions:write for the brand. Each answers only after its contribution is committed.
/// </summary>
public static class ContributionEndpoints
{
    public const string Resource = "contributions";
    public const int MaxBatch = 5000;

    public static readonly JsonSerializerOptions Json = new(JsonBody.Options)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public sealed record BatchItem(int Index, IReadOnlyList<ContributionResult> Results);

    public static void MapContributionEndpoints(this WebApplication app)
    {
        var g = app.MapGroup("").WithTags("Contributions").RequirePermission(Access.System, Resource, write: true);
        g.MapPost("/jackpots/contribute/source", (HttpContext http, ContributionService service, CancellationToken ct) =>
            V1Async(http, service, TargetKind.Source, ct));
        g.MapPost("/jackpots/contribute/instance", (HttpContext http, ContributionService service, CancellationToken ct) =>
            V1Async(http, service, TargetKind.Instance, ct));
        g.MapPost("/v2/jackpots/contribute", V2Async);
        g.MapPost("/jackpots/contribute/batch", BatchAsync);
    }

    /// <summary>v1: one object, the contribution's result; a refusal is a problem document with its reason.</summary>
    static async Task<IResult> V1Async(HttpContext http, ContributionService service, TargetKind kind, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<ContributeV1>(http.Request);
        if (error is not null) return error;
        var (request, errors) = ContributionRules.Validate(body!, kind);
        if (request is null) return Problems.BadRequest(errors);
        var results = await service.ContributeAsync(request, http.MayActFor, ct);
        return results[0].Succeeded ? Answer(results[0]) : Refusal(results[0]);
    }

    /// <summary>
    /// A JSON answer serialised first and written with its Content-Length: headers and body leave in one send. Results.Json
    /// streams the body chunked, so Kestrel sends the closing chunk separately — perf stat under build/bench contributions
    /// counted 2.4 sendto calls per contribution with it, 1.3 with this.
    /// </summary>
    static IResult Answer<T>(T value) => Results.Bytes(JsonSerializer.SerializeToUtf8Bytes(value, Json), "application/json; charset=utf-8");

    /// <summary>v2: an array with one result per instance contributed to; a refused main contribution is a problem document.</summary>
    static async Task<IResult> V2Async(HttpContext http, ContributionService service, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<ContributeV2>(http.Request);
        if (error is not null) return error;
        var (request, errors) = ContributionRules.Validate(body!);
        if (request is null) return Problems.BadRequest(errors);
        var results = await service.ContributeAsync(request, http.MayActFor, ct);
        return results[0].Succeeded ? Answer(results) : Refusal(results[0]);
    }

    /// <summary>
    /// For event processors: up to <see cref="MaxBatch"/> v2 contributions in one call, each with its own results (an
    /// invalid element is reported in place with its errors; the others still go through). 200 whenever the body parsed.
    /// </summary>
    static async Task<IResult> BatchAsync(HttpContext http, ContributionService service, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<List<ContributeV2?>>(http.Request);
        if (error is not null) return error;
        if (body!.Count is 0 or > MaxBatch) return Problems.BadRequest("body", $"An array of 1-{MaxBatch} contributions.");
        var contribute = service.InOrderOfKeys(http.MayActFor, ct);
        var items = await Task.WhenAll(body.Select(async (element, i) =>
        {
            if (element is null)
                return new BatchItem(i, [new ContributionResult(null, Outcomes.Invalid, Reasons.Invalid, "An object is required.",
                    Errors: new Dictionary<string, string[]> { [$"[{i}]"] = ["Required: a contribution object."] })]);
            var (request, errors) = ContributionRules.Validate(element);
            if (request is null)
                return new BatchItem(i, [new ContributionResult(null, Outcomes.Invalid, Reasons.Invalid,
                    string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")), Errors: errors)]);
            return new BatchItem(i, await contribute(request));
        }));
        return Answer(items);
    }

    /// <summary>A refused contribution as an RFC 7807 document: the reason's status, the reason, the instance and its state.</summary>
    public static IResult Refusal(ContributionResult r)
    {
        var extensions = new Dictionary<string, object?> { ["reason"] = r.Reason };
        if (r.InstanceId is { } id) extensions["instance_id"] = id;
        if (r.InstanceState is { } state) extensions["state"] = state;
        if (r.Reason == Reasons.OutsideSchedule)
        {
            extensions["next_open_timestamp"] = r.NextOpenTimestamp;
            extensions["next_open_at"] = r.NextOpenTimestamp is { } next ? Engine.Schedules.Iso(next) : null;
        }
        var status = Reasons.HttpStatus(r.Reason);
        if (status == StatusCodes.Status400BadRequest)
            return Results.ValidationProblem(new Dictionary<string, string[]> { [r.Reason == Reasons.TokenRequired ? "token" : "currency"] = [r.Detail ?? ""] },
                detail: r.Detail, extensions: extensions);
        var problem = Results.Problem(statusCode: status, title: Title(status), detail: r.Detail, extensions: extensions);
        return status == StatusCodes.Status503ServiceUnavailable ? new RetryAfter(problem) : problem;
    }

    /// <summary>Nothing was applied: the caller may resend the same key in a second.</summary>
    sealed class RetryAfter(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.RetryAfter = "1";
            return inner.ExecuteAsync(http);
        }
    }

    static string Title(int status) => status switch
    {
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status503ServiceUnavailable => "Unavailable",
        _ => "Conflict",
    };
}
