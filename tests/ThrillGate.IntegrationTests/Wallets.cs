using Dapper;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Npgsql;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Gate.V1;

namespace ThrillGate.IntegrationTests;

/// <summary>Wallet definitions pointing at the reference wallet, and ThrillGate's gRPC Wallets service as ThrillPots calls it.</summary>
public static class Wallets
{
    /// <summary>The reference wallet's paths in the object shape (spec §5.2).</summary>
    public static JsonObject Endpoints() => new()
    {
        ["auth"] = new JsonObject { ["POST"] = "/wallet/authenticate" },
        ["balance"] = new JsonObject { ["GET"] = "/wallet/balance" },
        ["transaction"] = new JsonObject { ["POST"] = "/wallet/transaction" },
        ["transaction_batch"] = new JsonObject { ["POST"] = "/wallet/transaction/batch" },
        ["cancel_bet"] = new JsonObject { ["DELETE"] = "/wallet/cancel" },
        ["cancel_batch"] = new JsonObject { ["DELETE"] = "/wallet/transaction/batch" },
    };

    /// <summary>
    /// A definition of <paramref name="brand"/>'s wallet. Timeouts are short but roomy (5 s, 2 retries, no growth): only the
    /// tests about timeouts shorten them, so that a slow moment of the machine never adds a call a test is counting.
    /// </summary>
    public static JsonObject Definition(string brand, string? id = null, string? secret = null, int timeout = 5, int retries = 2, JsonObject? rules = null) => new()
    {
        ["id"] = id ?? $"wallet-{brand}-{Guid.NewGuid():N}"[..24],
        ["operator_id"] = Servers.Operator,
        ["brand_id"] = brand,
        ["wallet_type"] = "StandardWallet",
        ["connection_details"] = new JsonObject { ["protocol"] = "http", ["host"] = "127.0.0.1", ["port"] = Servers.WalletPort },
        ["endpoints"] = Endpoints(),
        ["config"] = new JsonObject
        {
            ["secret_key"] = secret ?? Servers.WalletSecret,
            ["request_timeout"] = timeout,
            ["request_retry_limit"] = retries,
            ["request_retry_backoff"] = 1,
            ["error_response_rules"] = rules ?? new JsonObject(),
            ["accept_zero_value_credits"] = true,
            ["must_close_gamerounds"] = false,
        },
    };

    /// <summary>Creates the definition as gta's operator; answers its id.</summary>
    public static async Task<string> CreateAsync(JsonObject definition)
    {
        var reply = (await Servers.Gate.PostAsync("/admin/wallets", Servers.OperatorA, definition)).Expect(HttpStatusCode.Created);
        return reply.Json.GetProperty("id").GetString()!;
    }

    /// <summary>A fresh brand with its wallet (tweaked by <paramref name="configure"/>) and a player holding <paramref name="balance"/>.</summary>
    public static async Task<(string Brand, string WalletId, Player Player)> BrandAsync(decimal balance = 100m, Action<JsonObject>? configure = null,
        int timeout = 5, int retries = 2, JsonObject? rules = null)
    {
        var brand = Brands.Next();
        var definition = Definition(brand, timeout: timeout, retries: retries, rules: rules);
        configure?.Invoke(definition);
        var walletId = await CreateAsync(definition);
        return (brand, walletId, await Servers.Wallet.NewPlayerAsync(brand, balance));
    }

    // gRPC

    static readonly ServiceDescriptor Service = Proto.GateReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Wallets");

    public static Task<T> CallAsync<T>(string method, IMessage request, TimeSpan? deadline = null) where T : class, IMessage<T> =>
        Servers.Grpc.UnaryAsync<T>(Service.FindMethodByName(method), request, CallOptions.WithTimeout(deadline ?? TimeSpan.FromSeconds(30)));

    public static Task<Proto.Player> AuthenticateAsync(string brand, string token, string currency = "EUR", string sourceId = "") =>
        CallAsync<Proto.Player>("AuthenticatePlayer", new Proto.AuthenticatePlayerRequest
        {
            OperatorId = Servers.Operator, BrandId = brand, PlayerToken = token, Currency = currency, SourceId = sourceId,
        });

    public static Task<Proto.TransactionReply> DebitAsync(Player player, string transactionId, string amount, TimeSpan? deadline = null) =>
        CallAsync<Proto.TransactionReply>("Debit", new Proto.DebitRequest
        {
            OperatorId = Servers.Operator, BrandId = player.Brand, PlayerId = player.Id, TransactionId = transactionId, Amount = amount,
            Currency = player.Currency, GameroundId = "round-" + transactionId, SourceId = "casino-sitewide",
        }, deadline);

    public static Task<Proto.CancelReply> CancelAsync(Player player, string transactionId) =>
        CallAsync<Proto.CancelReply>("Cancel", new Proto.CancelRequest
        {
            OperatorId = Servers.Operator, BrandId = player.Brand, PlayerId = player.Id, TransactionId = transactionId,
        });

    public static Task<Proto.BalanceReply> BalanceAsync(string brand, string playerId) =>
        CallAsync<Proto.BalanceReply>("Balance", new Proto.BalanceRequest { OperatorId = Servers.Operator, BrandId = brand, PlayerId = playerId });

    /// <summary>The RpcException a call ends with; fails the test if it succeeds.</summary>
    public static async Task<RpcException> FailsAsync(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException ex)
        {
            return ex;
        }
        Assert.Fail("The call succeeded.");
        throw new System.Diagnostics.UnreachableException();
    }

    public static string NewTransactionId() => "tx-" + Guid.NewGuid().ToString("N");

    /// <summary>ThrillGate's record of a debit it took or cancelled (null when it kept none).</summary>
    public static async Task<string?> DebitStateAsync(string transactionId)
    {
        await using var c = new NpgsqlConnection(Servers.GateDatabase);
        return await c.QuerySingleOrDefaultAsync<string?>("select state from debits where transaction_id = @transactionId", new { transactionId });
    }
}
