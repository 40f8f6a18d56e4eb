using System.Data.Common;
using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace ReferenceWallet.Wallet;

/// <summary>One row of the ledger: a transaction as applied, or a tombstone left by a cancel that came first.</summary>
public sealed record LedgerEntry(
    string TransactionId, Guid WalletTransactionId, string? PlayerId, string? TransactionType, decimal? Amount, string? Currency,
    string? ProviderId, string? GameroundId, string? SourceId, bool CloseRound, string? ReferenceTransactionId, string? BatchId,
    decimal? BalanceAfter, DateTime CreatedAt, DateTime? CancelledAt, decimal? CancelBalanceAfter)
{
    public string Status => TransactionType is null ? "tombstone" : CancelledAt is null ? "applied" : "cancelled";
}

/// <summary>
/// The wallet's money movements. Each is one database transaction that locks the player row first
/// (SELECT ... FOR UPDATE) and then claims the caller's transaction id through the primary key
/// (INSERT ... ON CONFLICT), so concurrent duplicates, retries and cancels settle to a single outcome.
/// </summary>
public sealed class Ledger(NpgsqlDataSource db)
{
    sealed record PlayerProfile(
        string PlayerId, string OperatorId, string BrandId, string Currency, decimal Balance, string? Nickname, string Gender,
        string Country, string? DateOfBirth, string? Jurisdiction, string[]? Segments);

    sealed record PlayerBalance(string Currency, decimal Balance);

    public async Task<AuthenticateResponse> AuthenticateAsync(AuthenticateRequest request)
    {
        var operatorId = WalletJson.Required(request.OperatorId, "operator_id");
        var brandId = WalletJson.Required(request.BrandId, "brand_id");
        var playerToken = WalletJson.Required(request.PlayerToken, "player_token", 1024);
        var currency = WalletJson.Currency(request.Currency);
        var sourceId = WalletJson.Optional(request.SourceId ?? request.GameCode, request.SourceId is null ? "game_code" : "source_id");

        await using var connection = await db.OpenConnectionAsync();
        const string sql = """
            select player_id as PlayerId, operator_id as OperatorId, brand_id as BrandId, currency as Currency, balance as Balance,
                   nickname as Nickname, gender as Gender, country as Country, to_char(date_of_birth, 'YYYY-MM-DD') as DateOfBirth,
                   jurisdiction as Jurisdiction, segments as Segments
            from players
            where player_token = @playerToken
            """;
        var player = await connection.QuerySingleOrDefaultAsync<PlayerProfile>(sql, new { playerToken });
        // A token of another operator or brand is as unknown here as a token never issued.
        if (player is null || player.OperatorId != operatorId || player.BrandId != brandId)
            throw new WalletFailure(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidToken, "The player token is unknown or expired.");
        if (player.Currency != currency)
            throw WalletFailure.Property("currency", $"must be the player's wallet currency {player.Currency}; got {currency}.");

        var session = "session_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        const string insert = "insert into sessions (session_token, player_id, source_id) values (@session, @PlayerId, @sourceId)";
        await connection.ExecuteAsync(insert, new { session, player.PlayerId, sourceId });
        return new AuthenticateResponse(player.PlayerId, session, player.Currency, Currencies.Normalize(player.Balance, player.Currency),
            player.OperatorId, player.BrandId, player.Nickname, player.Gender, player.Country, player.DateOfBirth, player.Jurisdiction,
            player.Segments);
    }

    public async Task<BalanceResponse> BalanceAsync(string playerId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        const string sql = "select currency as Currency, balance as Balance from players where player_id = @playerId";
        var player = await connection.QuerySingleOrDefaultAsync<PlayerBalance>(new CommandDefinition(sql, new { playerId }, cancellationToken: ct))
            ?? throw WalletFailure.PlayerNotFound(playerId);
        return new BalanceResponse(Currencies.Normalize(player.Balance, player.Currency));
    }

    /// <summary>Applies a Debit or Credit once; the same id again returns the first result (§3.9).</summary>
    public async Task<TransactionResponse> ApplyAsync(Transfer t, string? batchId = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using (var tx = await connection.BeginTransactionAsync())
        {
            if (batchId is not null)
            {
                // Shared lock: a batch cancel waits for this item, and this item sees a cancel that came first.
                const string batch = "select cancelled_at is not null from batches where batch_id = @batchId for share";
                if (await connection.QuerySingleOrDefaultAsync<bool?>(batch, new { batchId }, tx) is not false)
                    throw new WalletFailure(StatusCodes.Status409Conflict, ErrorCodes.TransactionCancelled, $"Batch '{batchId}' was cancelled.");
            }
            const string lockPlayer = "select currency as Currency, balance as Balance from players where player_id = @PlayerId for update";
            var player = await connection.QuerySingleOrDefaultAsync<PlayerBalance>(lockPlayer, new { t.PlayerId }, tx)
                ?? throw WalletFailure.PlayerNotFound(t.PlayerId);
            if (await FindAsync(connection, tx, t.TransactionId) is { } existing) return Repeat(existing, t);

            if (player.Currency != t.Currency)
                throw WalletFailure.Property("currency", $"must be the player's wallet currency {player.Currency}; got {t.Currency}.");
            // Bets need a live session; wins are paid whatever became of it.
            if (t.Type == TransactionType.Debit && t.Token is not null) await RequireSessionAsync(connection, tx, t);
            var balance = t.Type == TransactionType.Debit ? player.Balance - t.Amount : player.Balance + t.Amount;
            if (balance < 0)
                throw new WalletFailure(StatusCodes.Status402PaymentRequired, ErrorCodes.InsufficientFunds,
                    $"The balance {Currencies.Format(player.Balance, player.Currency)} {player.Currency} does not cover {t.Amount}.");

            const string insert = """
                insert into wallet_transactions (transaction_id, wallet_transaction_id, player_id, transaction_type, amount, currency,
                    provider_id, token, gameround_id, source_id, close_round, reference_transaction_id, batch_id, balance_after)
                values (@TransactionId, @walletId, @PlayerId, @type, @Amount, @Currency,
                    @ProviderId, @Token, @GameroundId, @SourceId, @CloseRound, @ReferenceTransactionId, @batchId, @balance)
                on conflict (transaction_id) do nothing
                """;
            var walletId = Guid.CreateVersion7();
            var inserted = await connection.ExecuteAsync(insert, new
            {
                t.TransactionId, walletId, t.PlayerId, type = t.Type.ToString(), t.Amount, t.Currency, t.ProviderId, t.Token,
                t.GameroundId, t.SourceId, t.CloseRound, t.ReferenceTransactionId, batchId, balance,
            }, tx);
            if (inserted == 1)
            {
                const string update = "update players set balance = @balance, updated_at = now() where player_id = @PlayerId";
                await connection.ExecuteAsync(update, new { balance, t.PlayerId }, tx);
                await tx.CommitAsync();
                return new TransactionResponse(Currencies.Normalize(balance, t.Currency), walletId.ToString());
            }
        }
        // The id was claimed meanwhile outside this player's lock: a cancel's tombstone, or the same id for another player.
        var winner = await FindAsync(connection, null, t.TransactionId)
            ?? throw new InvalidOperationException($"Transaction {t.TransactionId} conflicted but cannot be found.");
        return Repeat(winner, t);
    }

    static TransactionResponse Repeat(LedgerEntry existing, Transfer t)
    {
        if (existing.Status != "applied")
            throw new WalletFailure(StatusCodes.Status409Conflict, ErrorCodes.TransactionCancelled,
                $"Transaction '{t.TransactionId}' was cancelled; its id cannot be used again.");
        var differences = Differences(existing, t);
        if (differences.Count > 0)
            throw new WalletFailure(StatusCodes.Status409Conflict, ErrorCodes.DuplicateTransaction,
                $"Transaction '{t.TransactionId}' already exists with a different {string.Join(", ", differences)}.");
        return new TransactionResponse(Currencies.Normalize(existing.BalanceAfter!.Value, existing.Currency!), existing.WalletTransactionId.ToString());
    }

    // What makes a repeat the same operation. The session token is left out: a retry after re-authentication is still a retry.
    static List<string> Differences(LedgerEntry e, Transfer t)
    {
        var differences = new List<string>();
        if (e.PlayerId != t.PlayerId) differences.Add("player_id");
        if (e.TransactionType != t.Type.ToString()) differences.Add("transaction_type");
        if (e.Amount != t.Amount) differences.Add("amount");
        if (e.Currency != t.Currency) differences.Add("currency");
        if (e.ProviderId != t.ProviderId) differences.Add("provider_id");
        if (e.GameroundId != t.GameroundId) differences.Add("gameround_id");
        if (e.SourceId != t.SourceId) differences.Add("source_id");
        if (e.CloseRound != t.CloseRound) differences.Add("close_round");
        if (e.ReferenceTransactionId != t.ReferenceTransactionId) differences.Add("reference_transaction_id");
        return differences;
    }

    static async Task RequireSessionAsync(NpgsqlConnection connection, DbTransaction tx, Transfer t)
    {
        const string sql = """
            select exists (select 1 from sessions where session_token = @Token and player_id = @PlayerId)
                or exists (select 1 from players where player_token = @Token and player_id = @PlayerId)
            """;
        if (!await connection.ExecuteScalarAsync<bool>(sql, new { t.Token, t.PlayerId }, tx))
            throw new WalletFailure(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidToken, "The token is not a session of this player.");
    }

    static Task<LedgerEntry?> FindAsync(NpgsqlConnection connection, DbTransaction? tx, string transactionId, bool forUpdate = false)
    {
        var sql = forUpdate ? FindSql + " for update" : FindSql;
        return connection.QuerySingleOrDefaultAsync<LedgerEntry>(sql, new { transactionId }, tx);
    }

    const string SelectEntries = """
        select transaction_id as TransactionId, wallet_transaction_id as WalletTransactionId, player_id as PlayerId,
               transaction_type as TransactionType, amount as Amount, currency as Currency, provider_id as ProviderId,
               gameround_id as GameroundId, source_id as SourceId, close_round as CloseRound,
               reference_transaction_id as ReferenceTransactionId, batch_id as BatchId, balance_after as BalanceAfter,
               created_at as CreatedAt, cancelled_at as CancelledAt, cancel_balance_after as CancelBalanceAfter
        from wallet_transactions
        """;

    const string FindSql = SelectEntries + " where transaction_id = @transactionId";

    /// <summary>
    /// Reverses a transaction once. Cancelling again is a no-op; cancelling an id never seen leaves a tombstone
    /// so that the transaction, should it arrive late, is refused instead of taking money nobody will return (§3.9).
    /// Returns the player's balance, or null when no player is known.
    /// </summary>
    public async Task<(decimal Balance, string Currency)?> CancelAsync(string transactionId, string? playerId)
    {
        await using var connection = await db.OpenConnectionAsync();
        while (true)
        {
            await using var tx = await connection.BeginTransactionAsync();
            var row = await FindAsync(connection, tx, transactionId);
            if (row is null)
            {
                const string tombstone = """
                    insert into wallet_transactions (transaction_id, wallet_transaction_id, player_id, cancelled_at)
                    values (@transactionId, @walletId, @playerId, now())
                    on conflict (transaction_id) do nothing
                    """;
                var inserted = await connection.ExecuteAsync(tombstone, new { transactionId, walletId = Guid.CreateVersion7(), playerId }, tx);
                // Zero: the transaction committed between the two statements; cancel it on the next turn.
                if (inserted == 0) continue;
                await tx.CommitAsync();
                return await BalanceOfAsync(connection, null, playerId);
            }
            if (playerId is not null && row.PlayerId is not null && row.PlayerId != playerId)
                throw WalletFailure.Property("player_id", $"does not match transaction '{transactionId}'.");
            if (row.Status == "tombstone")
                return await BalanceOfAsync(connection, tx, row.PlayerId ?? playerId);

            // Player first, then the row: the order ApplyAsync takes them in.
            const string lockPlayer = "select currency as Currency, balance as Balance from players where player_id = @PlayerId for update";
            var player = await connection.QuerySingleAsync<PlayerBalance>(lockPlayer, new { row.PlayerId }, tx);
            var current = (await FindAsync(connection, tx, transactionId, forUpdate: true))!;
            if (current.CancelledAt is not null) return (player.Balance, player.Currency);

            var balance = current.TransactionType == nameof(TransactionType.Debit) ? player.Balance + current.Amount!.Value : player.Balance - current.Amount!.Value;
            if (balance < 0)
                throw new WalletFailure(StatusCodes.Status402PaymentRequired, ErrorCodes.InsufficientFunds,
                    $"Cancelling Credit '{transactionId}' would take the balance below zero.");
            const string cancel = """
                update wallet_transactions set cancelled_at = now(), cancel_balance_after = @balance where transaction_id = @transactionId;
                update players set balance = @balance, updated_at = now() where player_id = @PlayerId;
                """;
            await connection.ExecuteAsync(cancel, new { balance, transactionId, row.PlayerId }, tx);
            await tx.CommitAsync();
            return (balance, player.Currency);
        }
    }

    static async Task<(decimal Balance, string Currency)?> BalanceOfAsync(NpgsqlConnection connection, DbTransaction? tx, string? playerId)
    {
        if (playerId is null) return null;
        const string sql = "select currency as Currency, balance as Balance from players where player_id = @playerId";
        return await connection.QuerySingleOrDefaultAsync<PlayerBalance>(sql, new { playerId }, tx) is { } p ? (p.Balance, p.Currency) : null;
    }

    /// <summary>Records the batch so its items can share-lock it; a cancelled batch stays cancelled.</summary>
    public async Task OpenBatchAsync(string batchId)
    {
        await using var connection = await db.OpenConnectionAsync();
        const string sql = "insert into batches (batch_id) values (@batchId) on conflict (batch_id) do nothing";
        await connection.ExecuteAsync(sql, new { batchId });
    }

    /// <summary>Marks the batch cancelled (waiting for items in flight) and returns the ids of the items it holds.</summary>
    public async Task<IReadOnlyList<string>> CloseBatchAsync(string batchId)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        const string close = """
            insert into batches (batch_id, cancelled_at) values (@batchId, now())
            on conflict (batch_id) do update set cancelled_at = coalesce(batches.cancelled_at, now())
            """;
        await connection.ExecuteAsync(close, new { batchId }, tx);
        await tx.CommitAsync();
        const string items = "select transaction_id from wallet_transactions where batch_id = @batchId order by created_at, transaction_id";
        return (await connection.QueryAsync<string>(items, new { batchId })).ToList();
    }

    public async Task<IReadOnlyList<LedgerEntry>> ListAsync(string? playerId, string? batchId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        const string sql = SelectEntries + " " + """
            where (@playerId::text is null or player_id = @playerId) and (@batchId::text is null or batch_id = @batchId)
            order by created_at, transaction_id
            limit 10000
            """;
        var rows = await connection.QueryAsync<LedgerEntry>(new CommandDefinition(sql, new { playerId, batchId }, cancellationToken: ct));
        return rows.Select(r => r.Currency is null ? r : r with
        {
            Amount = Currencies.Normalize(r.Amount!.Value, r.Currency),
            BalanceAfter = Currencies.Normalize(r.BalanceAfter!.Value, r.Currency),
            CancelBalanceAfter = r.CancelBalanceAfter is { } c ? Currencies.Normalize(c, r.Currency) : null,
        }).ToList();
    }
}
