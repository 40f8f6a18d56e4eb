using System.Reflection;
using ThrillConnect.Cors;
using ThrillSuite.Grpc;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillConnect.Rest;

/// <summary>The frontend REST API (spec §2.2): public reads, CORS per brand.</summary>
public static class RestEndpoints
{
    static readonly string Version = typeof(RestEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    public static void MapRestEndpoints(this WebApplication app)
    {
        app.MapGet("/health", () => Results.Ok(new { version = Version })).WithTags("Health");
        var v1 = app.MapGroup("/v1").WithTags("Jackpots").AddEndpointFilter<CorsFilter>();
        Get(v1, "/thrillpots/instances/source/{sourceId}/brand/{brandId}", BySourceAsync);
        Get(v1, "/thrillpots/instances/{instanceId}", InstanceAsync);
        Get(v1, "/thrillpots/instances/{instanceId}/leaderboard", LeaderboardAsync);
        Get(v1, "/thrillpots/sources", SourcesAsync);
        Get(v1, "/currencies", CurrenciesAsync);
    }

    /// <summary>A read and its CORS preflight (a browser sends one before a request with headers of its own, e.g. traceparent).</summary>
    static void Get(RouteGroupBuilder group, string pattern, Delegate read)
    {
        group.MapGet(pattern, read);
        group.MapMethods(pattern, [HttpMethods.Options], () => Results.NoContent());
    }

    static async Task<IResult> BySourceAsync(string sourceId, string brandId, string? player_id, string? country_code, Jackpots jackpots, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Ids.IsValid(sourceId)) errors["source_id"] = ["A source id: " + Ids.Rule];
        if (!Ids.IsOwner(brandId, brandRequired: true)) errors["brand_id"] = ["operator:brand."];
        if (player_id is { Length: 0 or > 128 }) errors["player_id"] = ["1-128 characters, or left out."];
        if (country_code is not null && (country_code.Length != 2 || !country_code.All(char.IsAsciiLetterUpper))) errors["country_code"] = ["Two upper-case letters."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        return await Answer(async () => await jackpots.BySourceAsync(sourceId, brandId, player_id, country_code, ct) is { } doc
            ? Results.Ok(doc)
            : Problems.NotFound($"Source '{sourceId}' feeds no jackpot for '{brandId}'."));
    }

    static async Task<IResult> InstanceAsync(string instanceId, Jackpots jackpots, CancellationToken ct) =>
        !Guid.TryParse(instanceId, out var id)
            ? Problems.BadRequest("instance_id", "The instance's UUID.")
            : await Answer(async () => Results.Ok(await jackpots.InstanceAsync(id, ct)));

    static async Task<IResult> LeaderboardAsync(string instanceId, string? scope, string? limit, Jackpots jackpots, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Guid.TryParse(instanceId, out var id)) errors["instance_id"] = ["The instance's UUID."];
        scope ??= "lifetime";
        if (scope is not ("lifetime" or "since_last_win")) errors["scope"] = ["lifetime or since_last_win, or left out (lifetime)."];
        var n = 10;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out n) || n is < 1 or > Jackpots.MaxLeaderboard))
            errors["limit"] = ["1-100, or left out (10)."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        return await Answer(async () => Results.Ok(await jackpots.LeaderboardAsync(id, scope, n, ct)));
    }

    static async Task<IResult> SourcesAsync(string? owner_id, Jackpots jackpots, CancellationToken ct) =>
        !Ids.IsOwner(owner_id)
            ? Problems.BadRequest("owner_id", "Required: operator or operator:brand.")
            : await Answer(async () => Results.Ok(await jackpots.SourcesAsync(owner_id!, ct)));

    static async Task<IResult> CurrenciesAsync(string? brand_id, Jackpots jackpots, CancellationToken ct) =>
        brand_id is not null && !Ids.IsOwner(brand_id, brandRequired: true)
            ? Problems.BadRequest("brand_id", "operator:brand, or left out.")
            : await Answer(async () => Results.Ok(await jackpots.CurrenciesAsync(brand_id, ct)));

    /// <summary>ThrillPots' gRPC statuses as the REST answers they mean.</summary>
    static async Task<IResult> Answer(Func<Task<IResult>> read)
    {
        try
        {
            return await read();
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return Problems.NotFound(ex.Status.Detail);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            return Problems.BadRequest("request", ex.Status.Detail);
        }
        catch (RpcException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Unavailable",
                detail: $"Jackpot data is not available right now ({ex.StatusCode}).");
        }
    }
}

/// <summary>
/// CORS for the REST reads: an <c>Origin</c> on the allow-list of the brand the request is about (path <c>brandId</c>,
/// query <c>brand_id</c> or <c>owner_id</c>) gets <c>Access-Control-Allow-Origin</c>; any other origin gets no CORS headers,
/// so the browser withholds the answer. Requests without <c>Origin</c> (servers) are answered as they are.
/// </summary>
public sealed class CorsFilter(CorsRules rules) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.Request.Headers.Origin.ToString() is { Length: > 0 } origin && Brand(http) is { } brand
            && await rules.AllowsAsync(brand, origin, http.RequestAborted))
        {
            http.Response.Headers.AccessControlAllowOrigin = origin;
            http.Response.Headers.Vary = "Origin";
            if (HttpMethods.IsOptions(http.Request.Method))
            {
                http.Response.Headers.AccessControlAllowMethods = "GET";
                http.Response.Headers.AccessControlAllowHeaders = http.Request.Headers.AccessControlRequestHeaders;
                http.Response.Headers.AccessControlMaxAge = "600";
            }
        }
        return await next(context);
    }

    public static string? Brand(HttpContext http) =>
        (http.Request.RouteValues["brandId"] as string) ?? http.Request.Query["brand_id"].FirstOrDefault() ?? http.Request.Query["owner_id"].FirstOrDefault();
}
