using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using ReferenceWallet.Wallet;

namespace ReferenceWallet.Simulation;

/// <summary>Controls for tests and the demo: players, the ledger, fault injection. Bearer Wallet:AdminToken.</summary>
public static class SimulationEndpoints
{
    public static IEndpointRouteBuilder MapSimulationEndpoints(this IEndpointRouteBuilder app)
    {
        var sim = app.MapGroup("/sim").AddEndpointFilter<AdminFilter>().WithTags("Simulation controls");
        sim.MapPut("/players/{player_id}", PutPlayer).Produces<PlayerView>().Produces<WalletError>(400);
        sim.MapGet("/players/{player_id}", GetPlayer).Produces<PlayerView>().Produces<WalletError>(404);
        sim.MapGet("/transactions", Transactions).Produces<IReadOnlyList<LedgerEntry>>();
        sim.MapPut("/faults", PutFault).Produces<Fault>().Produces<WalletError>(400);
        sim.MapGet("/faults", (FaultInjector faults) => Results.Ok(faults.List())).Produces<IReadOnlyList<Fault>>();
        sim.MapDelete("/faults", (FaultInjector faults) =>
        {
            faults.Clear();
            return Results.NoContent();
        });
        return app;
    }

    static async Task<IResult> PutPlayer(HttpContext http, Players players)
    {
        var playerId = (string)http.Request.RouteValues["player_id"]!;
        return Results.Ok(await players.PutAsync(playerId, WalletJson.Parse<PlayerRequest>(http.Body(), "player")));
    }

    static async Task<IResult> GetPlayer(HttpContext http, Players players)
    {
        var playerId = (string)http.Request.RouteValues["player_id"]!;
        return await players.GetAsync(playerId, http.RequestAborted) is { } player
            ? Results.Ok(player)
            : WalletFailure.PlayerNotFound(playerId).ToResult();
    }

    static async Task<IResult> Transactions(HttpContext http, Ledger ledger)
    {
        var query = http.Request.Query;
        var playerId = WalletJson.Optional(query["player_id"].FirstOrDefault(), "player_id");
        var batchId = WalletJson.Optional(query["batch_id"].FirstOrDefault(), "batch_id");
        return Results.Ok(await ledger.ListAsync(playerId, batchId, http.RequestAborted));
    }

    static IResult PutFault(HttpContext http, FaultInjector faults)
    {
        var fault = Fault.From(WalletJson.Parse<FaultRequest>(http.Body(), "fault"));
        faults.Arm(fault);
        return Results.Ok(fault);
    }

    sealed class AdminFilter(IOptions<WalletOptions> options) : IEndpointFilter
    {
        readonly byte[] expected = Encoding.UTF8.GetBytes("Bearer " + options.Value.AdminToken);

        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var http = context.HttpContext;
            var given = Encoding.UTF8.GetBytes(http.Request.Headers.Authorization.ToString());
            if (!CryptographicOperations.FixedTimeEquals(expected, given))
                return new WalletFailure(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "Authorization must be Bearer <Wallet:AdminToken>.").ToResult();
            try
            {
                await RequestBody.ReadAsync(http, options.Value.MaxBodyBytes);
                return await next(context);
            }
            catch (WalletFailure failure)
            {
                return failure.ToResult();
            }
        }
    }
}
