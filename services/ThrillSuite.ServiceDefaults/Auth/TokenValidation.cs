using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace ThrillSuite.ServiceDefaults.Auth;

public sealed record TokenValidationSettings(string Issuer, IReadOnlyList<string> Audiences)
{
    public static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>The one set of rules every validator of Thrill-ID tokens applies.</summary>
    public TokenValidationParameters Parameters(ISigningKeySource keys) => new()
    {
        ValidIssuer = Issuer,
        ValidAudiences = Audiences,
        ValidAlgorithms = Algorithms,
        ClockSkew = ClockSkew,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        NameClaimType = "username",
        IssuerSigningKeyResolver = (_, _, kid, _) => keys.GetKeys(kid),
    };
}

/// <summary>
/// Local validation of Thrill-ID access tokens: signature by a published key (ES256 or RS256 only), issuer,
/// audience, lifetime with a small clock skew. A missing or invalid token is 401 with WWW-Authenticate; a
/// valid token without the right is 403. Both answer with an RFC 7807 body.
/// </summary>
public static class TokenValidation
{
    public static IServiceCollection AddTokenValidation(this IServiceCollection services, TokenValidationSettings settings)
    {
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<ISigningKeySource>((o, keys) =>
        {
            o.MapInboundClaims = false;
            o.RequireHttpsMetadata = false;
            o.SaveToken = false;  // nothing reads the token back from the authentication properties; storing it is work per request
            o.TokenHandlers.Clear();
            o.TokenHandlers.Add(new CachingTokenHandler { MapInboundClaims = false });
            o.TokenValidationParameters = settings.Parameters(keys);
            o.Events = new JwtBearerEvents
            {
                OnChallenge = async context =>
                {
                    context.HandleResponse();
                    var detail = context.AuthenticateFailure is null ? "A bearer token is required." : "The bearer token is invalid or expired.";
                    var header = context.AuthenticateFailure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
                    context.Response.Headers.WWWAuthenticate = header;
                    await WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "Unauthorized", detail);
                },
                OnForbidden = context =>
                    WriteProblemAsync(context.HttpContext, StatusCodes.Status403Forbidden, "Forbidden", "The token does not grant this."),
            };
        });
        services.AddAuthorization();
        return services;
    }

    /// <summary>A resource service's validation: keys from Thrill-ID's JWKS over HTTP (cached, refreshed on an unknown kid).</summary>
    public static IServiceCollection AddJwksTokenValidation(this IServiceCollection services, ThrillSuite.ServiceDefaults.Settings.AuthSettings auth)
    {
        services.AddSingleton<ISigningKeySource>(sp => new JwksSigningKeySource(auth.JwksUri,
            new HttpClient { Timeout = TimeSpan.FromSeconds(3) }, sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<JwksSigningKeySource>>()));
        return services.AddTokenValidation(new TokenValidationSettings(auth.Issuer, auth.Audiences));
    }

    /// <summary>Requires a valid token holding <c>system:resource:write</c> (or read).</summary>
    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, string system, string resource, bool write)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(p => p
            .RequireAuthenticatedUser()
            .RequireAssertion(c => c.User.HasPermission(system, resource, write)));

    /// <summary>Requires a valid token, whatever it grants.</summary>
    public static TBuilder RequireToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(p => p.RequireAuthenticatedUser());

    /// <summary>403 problem for a caller acting outside its organisation/units.</summary>
    public static IResult Forbidden(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);

    static Task WriteProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }

    public static string? Subject(this ClaimsPrincipal user) => user.FindFirst("sub")?.Value;
}
