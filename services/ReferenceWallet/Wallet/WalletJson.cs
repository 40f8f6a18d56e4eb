using System.Text.Json;

namespace ReferenceWallet.Wallet;

/// <summary>
/// Request bodies are parsed here from the exact bytes whose signature was checked, not by model binding,
/// so that every malformed body gets the wallet's own 400 INVALID_STRUCTURE rather than a framework error.
/// </summary>
public static class WalletJson
{
    static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A signed body with two amounts is ambiguous: refuse it rather than pick one.
        AllowDuplicateProperties = false,
    };

    public static T Parse<T>(ReadOnlyMemory<byte> body, string what) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body.Span, Options) ?? throw WalletFailure.Structure($"The {what} body must be a JSON object.");
        }
        catch (JsonException ex)
        {
            throw WalletFailure.Structure($"The {what} body is malformed: {ex.Message}");
        }
    }

    public static T Parse<T>(JsonElement element, string what) where T : class
    {
        try
        {
            return element.Deserialize<T>(Options) ?? throw WalletFailure.Structure($"The {what} must be a JSON object.");
        }
        catch (JsonException ex)
        {
            throw WalletFailure.Structure($"The {what} is malformed: {ex.Message}");
        }
    }

    /// <summary>A required string field: missing is a structural error, empty or oversized a refused value.</summary>
    public static string Required(string? value, string field, int maxLength = 255)
    {
        if (value is null) throw WalletFailure.Structure($"{field} is required.");
        return Optional(value, field, maxLength)!;
    }

    public static string? Optional(string? value, string field, int maxLength = 255)
    {
        if (value is null) return null;
        if (value.Length == 0 || value.Length > maxLength || string.IsNullOrWhiteSpace(value))
            throw WalletFailure.Property(field, $"must be 1-{maxLength} characters and not blank.");
        return value;
    }

    public static string Currency(string? value, string field = "currency")
    {
        var currency = Required(value, field, 10);
        if (!Currencies.IsValidCode(currency))
            throw WalletFailure.Property(field, $"must be an upper-case currency code such as EUR or BTC; got '{currency}'.");
        return currency;
    }
}
