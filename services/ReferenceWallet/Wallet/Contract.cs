using System.Text.Json;
using System.Text.Json.Serialization;

namespace ReferenceWallet.Wallet;

// The HTTP contract of spec §3, field for field (snake_case on the wire). Requests have nullable members
// so that a missing field is reported by name instead of failing deserialization.

/// <summary>§3.3; <c>game_code</c> is the narrative page's name for <c>source_id</c>.</summary>
public sealed record AuthenticateRequest(string? OperatorId, string? BrandId, string? PlayerToken, string? SourceId, string? GameCode, string? Currency);

public sealed record AuthenticateResponse(
    string Id, string Token, string Currency, decimal Balance, string OperatorId, string BrandId, string? Nickname,
    string Gender, string Country, string? DateOfBirth, string? Jurisdiction, string[]? Segments);

public sealed record BalanceResponse(decimal Balance);

/// <summary>§3.5.</summary>
public sealed record TransactionRequest(
    string? PlayerId, string? TransactionId, string? TransactionType, string? ProviderId, string? Token, string? GameroundId,
    string? SourceId, decimal? Amount, string? Currency, bool? CloseRound, string? ReferenceTransactionId);

/// <summary><c>transaction_id</c> is the wallet's own id of the operation.</summary>
public sealed record TransactionResponse(decimal Balance, string TransactionId);

/// <summary>§3.6.</summary>
public sealed record CancelRequest(string? TransactionId, string? PlayerId);

/// <summary>The balance is a string here, unlike everywhere else (§3.6).</summary>
public sealed record CancelResponse(string Balance);

/// <summary>§3.7: items stay raw so that one malformed item fails alone. An item is the §3.5 Credit body with its own
/// transaction_id; applied once whether it comes in a batch or alone (the same id sent singly later is the same transaction).</summary>
public sealed record BatchRequest(string? BatchId, JsonElement[]? Transactions);

public sealed record BatchCancelRequest(string? BatchId);

public sealed record BatchItemResult(
    string? TransactionId,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Balance,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? HttpStatus = null)
{
    public static BatchItemResult Ok(string transactionId, decimal balance) => new(transactionId, "ok", balance, null, null);

    /// <summary>The item's refusal with the HTTP status it would have had alone, so the caller's error rules apply per item.</summary>
    public static BatchItemResult Error(string? transactionId, WalletFailure failure) =>
        new(transactionId, "error", null, failure.Code, failure.Message, failure.Status);
}

public sealed record BatchResponse(string BatchId, IReadOnlyList<BatchItemResult> Results);

public enum TransactionType { Debit, Credit }

/// <summary>A validated §3.5 request: what is applied, stored and compared when the same id comes again.</summary>
public sealed record Transfer(
    string PlayerId, string TransactionId, TransactionType Type, string ProviderId, string? Token, string? GameroundId,
    string? SourceId, decimal Amount, string Currency, bool CloseRound, string? ReferenceTransactionId)
{
    public static Transfer From(TransactionRequest r)
    {
        var playerId = WalletJson.Required(r.PlayerId, "player_id");
        var transactionId = WalletJson.Required(r.TransactionId, "transaction_id");
        var typeName = WalletJson.Required(r.TransactionType, "transaction_type", 32);
        var providerId = WalletJson.Required(r.ProviderId, "provider_id");
        var amount = r.Amount ?? throw WalletFailure.Structure("amount is required.");
        var currency = WalletJson.Currency(r.Currency);
        var type = typeName switch
        {
            "Debit" => TransactionType.Debit,
            "Credit" => TransactionType.Credit,
            _ => throw WalletFailure.Property("transaction_type", $"must be Debit or Credit; got '{typeName}'."),
        };
        if (amount <= 0) throw WalletFailure.Property("amount", $"must be greater than 0; got {amount}.");
        if (amount > Currencies.MaxAmount) throw WalletFailure.Property("amount", $"must be at most {Currencies.MaxAmount}.");
        if (!Currencies.FitsMinorUnit(amount, currency))
            throw WalletFailure.Property("amount", $"has more than {Currencies.DecimalsOf(currency)} decimal places, the precision of {currency}; got {amount}.");
        return new Transfer(playerId, transactionId, type, providerId,
            WalletJson.Optional(r.Token, "token", 1024),
            WalletJson.Optional(r.GameroundId, "gameround_id"),
            WalletJson.Optional(r.SourceId, "source_id"),
            amount, currency, r.CloseRound ?? false,
            WalletJson.Optional(r.ReferenceTransactionId, "reference_transaction_id"));
    }
}
