namespace ReferenceWallet.Wallet;

/// <summary>The operator wallet contract of spec §3 at the default paths and verbs of §3.2.</summary>
public static class WalletEndpoints
{
    public static IEndpointRouteBuilder MapWalletEndpoints(this IEndpointRouteBuilder app)
    {
        // Bodies are read by the filter, not bound: no Accepts<T>, whose content-type check would answer 415 first.
        var wallet = app.MapGroup("/wallet").AddEndpointFilter<SignedRequestFilter>().WithTags("Operator wallet");
        wallet.MapPost("/authenticate", Authenticate).WithMetadata(new WalletOperation("authenticate"))
            .Produces<AuthenticateResponse>().Produces<WalletError>(400).Produces<WalletError>(401);
        wallet.MapGet("/balance", Balance).WithMetadata(new WalletOperation("balance"))
            .Produces<BalanceResponse>().Produces<WalletError>(404);
        wallet.MapPost("/transaction", Transaction).WithMetadata(new WalletOperation("transaction"))
            .Produces<TransactionResponse>()
            .Produces<WalletError>(400).Produces<WalletError>(401).Produces<WalletError>(402).Produces<WalletError>(404).Produces<WalletError>(409);
        wallet.MapDelete("/cancel", Cancel).WithMetadata(new WalletOperation("cancel"))
            .Produces<CancelResponse>().Produces<WalletError>(400);
        wallet.MapPost("/transaction/batch", Batch).WithMetadata(new WalletOperation("batch"))
            .Produces<BatchResponse>().Produces<WalletError>(400);
        wallet.MapDelete("/transaction/batch", CancelBatch).WithMetadata(new WalletOperation("cancel_batch"))
            .Produces<BatchResponse>().Produces<WalletError>(400);
        return app;
    }

    static async Task<IResult> Authenticate(HttpContext http, Ledger ledger) =>
        Results.Ok(await ledger.AuthenticateAsync(WalletJson.Parse<AuthenticateRequest>(http.Body(), "authenticate")));

    static async Task<IResult> Balance(HttpContext http, Ledger ledger)
    {
        var playerId = WalletJson.Required(http.Request.Query["player_id"].FirstOrDefault(), "player_id");
        return Results.Ok(await ledger.BalanceAsync(playerId, http.RequestAborted));
    }

    static async Task<IResult> Transaction(HttpContext http, Ledger ledger, Simulation.FaultInjector faults)
    {
        var transfer = Transfer.From(WalletJson.Parse<TransactionRequest>(http.Body(), "transaction"));
        faults.ThrowFor("transaction", transfer.PlayerId);
        return Results.Ok(await ledger.ApplyAsync(transfer));
    }

    static async Task<IResult> Cancel(HttpContext http, Ledger ledger)
    {
        var request = WalletJson.Parse<CancelRequest>(http.Body(), "cancel");
        var transactionId = WalletJson.Required(request.TransactionId, "transaction_id");
        var playerId = WalletJson.Optional(request.PlayerId, "player_id");
        // No player known (an id never seen, without player_id): there is no balance to report.
        var balance = await ledger.CancelAsync(transactionId, playerId) is { } b ? Currencies.Format(b.Balance, b.Currency) : "0";
        return Results.Ok(new CancelResponse(balance));
    }

    /// <summary>Each item is applied on its own, idempotently, so one refused item does not hold back the others.</summary>
    static async Task<IResult> Batch(HttpContext http, Ledger ledger, Simulation.FaultInjector faults)
    {
        var request = WalletJson.Parse<BatchRequest>(http.Body(), "batch");
        var batchId = WalletJson.Required(request.BatchId, "batch_id");
        var items = request.Transactions ?? throw WalletFailure.Structure("transactions is required.");
        await ledger.OpenBatchAsync(batchId);
        var results = new List<BatchItemResult>(items.Length);
        foreach (var item in items)
        {
            string? transactionId = null;
            try
            {
                var parsed = WalletJson.Parse<TransactionRequest>(item, "batch item");
                transactionId = parsed.TransactionId;
                var transfer = Transfer.From(parsed);
                if (transfer.Type != TransactionType.Credit)
                    throw WalletFailure.Property("transaction_type", "must be Credit in a batch (§3.7).");
                faults.ThrowFor("batch", transfer.PlayerId);
                var applied = await ledger.ApplyAsync(transfer, batchId);
                results.Add(BatchItemResult.Ok(transfer.TransactionId, applied.Balance));
            }
            catch (WalletFailure failure)
            {
                results.Add(BatchItemResult.Error(transactionId, failure));
            }
        }
        return Results.Ok(new BatchResponse(batchId, results));
    }

    static async Task<IResult> CancelBatch(HttpContext http, Ledger ledger)
    {
        var request = WalletJson.Parse<BatchCancelRequest>(http.Body(), "batch cancel");
        var batchId = WalletJson.Required(request.BatchId, "batch_id");
        var results = new List<BatchItemResult>();
        foreach (var transactionId in await ledger.CloseBatchAsync(batchId))
        {
            try
            {
                var balance = await ledger.CancelAsync(transactionId, null);
                results.Add(BatchItemResult.Ok(transactionId, balance is { } b ? Currencies.Normalize(b.Balance, b.Currency) : 0m));
            }
            catch (WalletFailure failure)
            {
                results.Add(BatchItemResult.Error(transactionId, failure));
            }
        }
        return Results.Ok(new BatchResponse(batchId, results));
    }
}
