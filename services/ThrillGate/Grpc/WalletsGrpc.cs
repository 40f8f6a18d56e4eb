using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using ThrillGate.Debits;
using ThrillGate.Wallets;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Gate.V1;

namespace ThrillGate.Grpc;

/// <summary>
/// thrillsuite.gate.v1.Wallets: the wallet operations ThrillPots and ThrillConnect call. Thin: validate, find the brand's
/// wallet, call it, map the outcome to a precise status.
/// </summary>
public sealed class WalletsGrpc(WalletStore store, WalletClient client, DebitLog debits, IOptions<WalletOptions> options)
{
    public static readonly Google.Protobuf.Reflection.ServiceDescriptor Descriptor =
        Proto.GateReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("Wallets");

    public const string ProviderId = "thrillsuite";
    const int MaxCachedPlayers = 100_000;
    static readonly ConcurrentDictionary<(string, string, string, string, string), (Proto.Player Player, long Expires)> Players = new();

    public async Task<Proto.Player> AuthenticatePlayer(Proto.AuthenticatePlayerRequest request, ServerCallContext call)
    {
        var key = (Required(request.OperatorId, "operator_id"), Required(request.BrandId, "brand_id"), Required(request.PlayerToken, "player_token", 4096),
            Currency(request.Currency), request.SourceId);
        // The wallet first: a brand whose wallet was disabled authenticates nobody, not even from the cache.
        var wallet = await WalletAsync(request.OperatorId, request.BrandId, call);
        var now = Environment.TickCount64;
        if (Players.TryGetValue(key, out var hit) && hit.Expires > now) return hit.Player;
        JsonElement answer;
        try
        {
            answer = await client.CallAsync(wallet, "auth", new
            {
                operator_id = request.OperatorId, brand_id = request.BrandId, player_token = request.PlayerToken,
                source_id = request.SourceId.Length > 0 ? request.SourceId : null, currency = request.Currency,
            }, null, call.CancellationToken);
        }
        catch (WalletCallException ex) when (ex.Kind == WalletFailureKind.Refused && ex.Status is >= 400 and < 500)
        {
            // Whatever the wallet's reason (invalid, expired, unknown token), the caller learns one thing: not authenticated.
            throw Status(StatusCode.Unauthenticated, $"The wallet refused the player token: {ex.Message}", ex);
        }
        catch (WalletCallException ex)
        {
            throw Map(ex);
        }
        var player = new Proto.Player
        {
            Id = Text(answer, "id"), Token = Text(answer, "token"), Currency = Text(answer, "currency"), Balance = Number(answer, "balance"),
            OperatorId = Text(answer, "operator_id"), BrandId = Text(answer, "brand_id"), Nickname = Text(answer, "nickname"),
            Country = Text(answer, "country"), Jurisdiction = Text(answer, "jurisdiction"),
        };
        if (answer.TryGetProperty("segments", out var segments) && segments.ValueKind == JsonValueKind.Array)
            player.Segments.AddRange(segments.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.String).Select(s => s.GetString()!));
        if (player.Id.Length == 0) throw new RpcException(StatusCode.Unavailable, "The wallet's authentication answer has no player id.");
        if (Players.Count >= MaxCachedPlayers) Players.Clear();
        Players[key] = (player, now + (long)options.Value.AuthenticationCacheFor.TotalMilliseconds);
        return player;
    }

    /// <summary>
    /// Debits a contribution. A failure after the wallet's retries is cancelled with the same transaction id (unless its rule
    /// says must_cancel: false), so a debit that may have landed never stays; the caller is refused with the wallet's reason.
    /// </summary>
    public async Task<Proto.TransactionReply> Debit(Proto.DebitRequest request, ServerCallContext call)
    {
        Required(request.OperatorId, "operator_id");
        Required(request.BrandId, "brand_id");
        Required(request.PlayerId, "player_id");
        var transactionId = Required(request.TransactionId, "transaction_id");
        var currency = Currency(request.Currency);
        if (!decimal.TryParse(request.Amount, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
            throw new RpcException(StatusCode.InvalidArgument, "amount: a decimal string > 0.");
        var wallet = await WalletAsync(request.OperatorId, request.BrandId, call);
        try
        {
            var answer = await client.CallAsync(wallet, wallet.Definition.Endpoints.ContainsKey("transaction") ? "transaction" : "debit", new
            {
                player_id = request.PlayerId, transaction_id = transactionId, transaction_type = "Debit", provider_id = ProviderId,
                token = request.Token.Length > 0 ? request.Token : null, gameround_id = request.GameroundId.Length > 0 ? request.GameroundId : null,
                source_id = request.SourceId.Length > 0 ? request.SourceId : null, amount, currency, close_round = false,
            }, null, call.CancellationToken);
            await debits.RecordAsync(wallet.Definition, request.PlayerId, transactionId, currency, amount, "debited", null, call.CancellationToken);
            return new Proto.TransactionReply { Balance = Number(answer, "balance"), WalletTransactionId = Text(answer, "transaction_id") };
        }
        catch (WalletCallException ex)
        {
            if (ex.Rule.MustCancel != false)
                await debits.CancelAsync(wallet, request.PlayerId, transactionId, currency, amount, CancellationToken.None);
            else
                await debits.RecordAsync(wallet.Definition, request.PlayerId, transactionId, currency, amount, "failed", ex.Message, CancellationToken.None);
            // Not UNAVAILABLE, which gRPC clients retry: this debit is over (cancelled), and a retry would meet the cancel.
            throw ex.Kind is WalletFailureKind.Unreachable or WalletFailureKind.CircuitOpen
                ? new RpcException(StatusCode.Aborted, ex.Message + " The debit was cancelled.")
                : Map(ex);
        }
        catch (OperationCanceledException) when (call.CancellationToken.IsCancellationRequested)
        {
            // The caller's deadline passed (or it went away) while the wallet may still apply the debit: the caller counts it as
            // failed, so it is cancelled like any other failure, or nobody would ever give the player the money back.
            await debits.CancelAsync(wallet, request.PlayerId, transactionId, currency, amount, CancellationToken.None);
            throw;
        }
    }

    public async Task<Proto.CancelReply> Cancel(Proto.CancelRequest request, ServerCallContext call)
    {
        var transactionId = Required(request.TransactionId, "transaction_id");
        var wallet = await WalletAsync(request.OperatorId, request.BrandId, call);
        var balance = await debits.CancelAsync(wallet, request.PlayerId.Length > 0 ? request.PlayerId : null, transactionId, null, null, call.CancellationToken);
        return balance is null ? new Proto.CancelReply { Pending = true } : new Proto.CancelReply { Balance = balance };
    }

    public async Task<Proto.BalanceReply> Balance(Proto.BalanceRequest request, ServerCallContext call)
    {
        var playerId = Required(request.PlayerId, "player_id");
        var wallet = await WalletAsync(request.OperatorId, request.BrandId, call);
        try
        {
            var answer = await client.CallAsync(wallet, "balance", null, "?player_id=" + Uri.EscapeDataString(playerId), call.CancellationToken);
            return new Proto.BalanceReply { Balance = Number(answer, "balance") };
        }
        catch (WalletCallException ex)
        {
            throw Map(ex);
        }
    }

    async Task<Wallet> WalletAsync(string operatorId, string brandId, ServerCallContext call) =>
        await store.ForBrandAsync(Required(operatorId, "operator_id"), Required(brandId, "brand_id"), call.CancellationToken)
        ?? throw new RpcException(StatusCode.NotFound, $"No enabled wallet is configured for brand '{operatorId}:{brandId}'.");

    /// <summary>The wallet's refusal as FAILED_PRECONDITION with its status and code in trailers; no answer as UNAVAILABLE.</summary>
    public static RpcException Map(WalletCallException ex) => ex.Kind switch
    {
        WalletFailureKind.Refused => Status(StatusCode.FailedPrecondition, ex.Message, ex),
        WalletFailureKind.NotConfigured => new RpcException(StatusCode.NotFound, ex.Message),
        _ => new RpcException(StatusCode.Unavailable, ex.Message),
    };

    static RpcException Status(StatusCode code, string message, WalletCallException ex)
    {
        var trailers = new Metadata();
        if (ex.Status is { } status) trailers.Add("wallet-status", status.ToString(CultureInfo.InvariantCulture));
        if (ex.Code is { } walletCode) trailers.Add("wallet-code", walletCode);
        return new RpcException(new ThrillSuite.Grpc.Status(code, message), trailers);
    }

    static string Required(string value, string field, int max = 128) =>
        value.Length is > 0 && value.Length <= max && !value.Any(char.IsControl)
            ? value
            : throw new RpcException(StatusCode.InvalidArgument, $"{field}: required, 1-{max} characters.");

    static string Currency(string currency) =>
        currency is { Length: >= 3 and <= 5 } && currency.All(char.IsAsciiLetterUpper)
            ? currency
            : throw new RpcException(StatusCode.InvalidArgument, "currency: an ISO 4217 code such as EUR.");

    static string Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    /// <summary>Balances come as numbers, and from cancel as a string (spec §3.6): either way a decimal string.</summary>
    static string Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.Number => v.GetDecimal().ToString(CultureInfo.InvariantCulture),
                JsonValueKind.String => v.GetString()!,
                _ => "",
            }
            : "";

    public static string Balance(JsonElement answer) => Number(answer, "balance");
}
