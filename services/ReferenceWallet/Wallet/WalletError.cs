namespace ReferenceWallet.Wallet;

/// <summary>The operator wallet's error body (§3.8), not RFC 7807: the status is the class, the code specialises it.</summary>
public sealed record WalletError(string Code, string Message);

public static class ErrorCodes
{
    public const string InvalidStructure = "INVALID_STRUCTURE";
    public const string InvalidPropertyValue = "INVALID_PROPERTY_VALUE";
    public const string InvalidSignature = "INVALID_SIGNATURE";
    public const string InvalidToken = "INVALID_TOKEN";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string PlayerNotFound = "PLAYER_NOT_FOUND";
    public const string InsufficientFunds = "INSUFFICIENT_FUNDS";
    public const string DuplicateTransaction = "DUPLICATE_TRANSACTION";
    public const string TransactionCancelled = "TRANSACTION_CANCELLED";
    public const string TokenInUse = "TOKEN_IN_USE";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string InternalError = "INTERNAL_ERROR";
}

/// <summary>A refusal with its HTTP status and code: thrown where it is found, written by the endpoint filter.</summary>
public sealed class WalletFailure(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    public IResult ToResult() => Results.Json(new WalletError(Code, Message), statusCode: Status);

    public static WalletFailure Structure(string message) => new(StatusCodes.Status400BadRequest, ErrorCodes.InvalidStructure, message);

    /// <summary>A well-formed request with a value the wallet refuses; the message starts with the field's name.</summary>
    public static WalletFailure Property(string field, string problem) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.InvalidPropertyValue, $"{field} {problem}");

    public static WalletFailure PlayerNotFound(string playerId) =>
        new(StatusCodes.Status404NotFound, ErrorCodes.PlayerNotFound, $"No player '{playerId}'.");
}
