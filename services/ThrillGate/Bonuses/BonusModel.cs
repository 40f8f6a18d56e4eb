using System.Globalization;
using System.Text.Json;
using ThrillSuite.Contracts.Gate;

namespace ThrillGate.Bonuses;

/// <summary>
/// A freebet's type as configured (spec §8.1): Fixed = <see cref="Count"/> bets of <see cref="Value"/> each, Variable = one
/// <see cref="Amount"/>. Read from any spelling the spec shows (FixedFreeSpins/Fixed, VariableFreeSpins/Variable) with
/// amounts as JSON numbers or numeric strings; written in the template spelling.
/// </summary>
public sealed record FreeSpinType(string Kind, string Currency, int? Count, decimal? Value, decimal? Amount)
{
    public const string Fixed = "Fixed", Variable = "Variable";
    public const int MaxCount = 1_000_000;
    public const decimal MaxAmount = 1_000_000_000m;

    public object ToJson() => Kind == Fixed
        ? new { type = "FixedFreeSpins", count = Count, currency = Currency, value = Value }
        : new { type = "VariableFreeSpins", currency = Currency, amount = Amount };

    public static FreeSpinType? Parse(JsonElement? element, string field, Dictionary<string, string[]> errors)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e)
        {
            errors[field] = ["Required: an object with type FixedFreeSpins (count, value, currency) or VariableFreeSpins (amount, currency)."];
            return null;
        }
        var type = e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        var kind = type switch
        {
            "FixedFreeSpins" or "Fixed" => Fixed,
            "VariableFreeSpins" or "Variable" => Variable,
            _ => null,
        };
        if (kind is null)
        {
            errors[field + ".type"] = ["One of FixedFreeSpins (or Fixed), VariableFreeSpins (or Variable)."];
            return null;
        }
        var currency = e.TryGetProperty("currency", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        if (!ValidCurrency(currency)) errors[field + ".currency"] = ["Required: an ISO 4217 code such as EUR."];
        if (kind == Fixed)
        {
            var count = Whole(e, "count", field + ".count", errors);
            var value = Money(e, "value", field + ".value", errors);
            return errors.Count == 0 ? new FreeSpinType(Fixed, currency!, count, value, null) : null;
        }
        var amount = Money(e, "amount", field + ".amount", errors);
        return errors.Count == 0 ? new FreeSpinType(Variable, currency!, null, null, amount) : null;
    }

    public static bool ValidCurrency(string? currency) => currency is { Length: >= 3 and <= 5 } && currency.All(char.IsAsciiLetterUpper);

    /// <summary>A positive amount of money: a JSON number or a numeric string, at most 8 decimals.</summary>
    public static decimal? Money(JsonElement e, string name, string field, Dictionary<string, string[]> errors)
    {
        if (Decimal(e, name) is { } d && d > 0 && d <= MaxAmount && d.Scale <= 8) return d;
        errors[field] = [$"Required: an amount > 0 and at most {MaxAmount} with at most 8 decimals, as a number or a numeric string."];
        return null;
    }

    public static decimal? Decimal(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDecimal(out var n)) return n;
        if (v.ValueKind == JsonValueKind.String
            && decimal.TryParse(v.GetString(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var s)) return s;
        return null;
    }

    static int? Whole(JsonElement e, string name, string field, Dictionary<string, string[]> errors)
    {
        if (Decimal(e, name) is { } d && d == decimal.Truncate(d) && d is >= 1 and <= MaxCount) return (int)d;
        errors[field] = [$"Required: a whole number from 1 to {MaxCount}."];
        return null;
    }
}

/// <summary>Reading <c>available_for</c> and epoch-millisecond fields.</summary>
public static class BonusFields
{
    public const int MaxScopes = 100, MaxGames = 1000;

    /// <summary>Absent or null = every provider and game.</summary>
    public static IReadOnlyList<BonusScope> Scopes(JsonElement? element, string field, Dictionary<string, string[]> errors)
    {
        if (element is null || element.Value.ValueKind == JsonValueKind.Null) return [];
        if (element.Value.ValueKind != JsonValueKind.Array || element.Value.GetArrayLength() > MaxScopes)
        {
            errors[field] = [$"An array of at most {MaxScopes} {{ provider_id, game_ids }}."];
            return [];
        }
        var scopes = new List<BonusScope>();
        var i = 0;
        foreach (var s in element.Value.EnumerateArray())
        {
            var at = $"{field}[{i++}]";
            var provider = s.ValueKind == JsonValueKind.Object && s.TryGetProperty("provider_id", out var p) && p.ValueKind == JsonValueKind.String
                ? p.GetString() : null;
            if (!Text(provider, 128))
            {
                errors[at + ".provider_id"] = ["Required: 1-128 characters."];
                continue;
            }
            var games = new List<string>();
            if (s.TryGetProperty("game_ids", out var g) && g.ValueKind != JsonValueKind.Null)
            {
                if (g.ValueKind != JsonValueKind.Array || g.GetArrayLength() > MaxGames
                    || g.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String || !Text(x.GetString(), 128)))
                {
                    errors[at + ".game_ids"] = [$"An array of at most {MaxGames} game ids of 1-128 characters (empty = all games)."];
                    continue;
                }
                games.AddRange(g.EnumerateArray().Select(x => x.GetString()!));
            }
            scopes.Add(new BonusScope(provider!, games));
        }
        return scopes;
    }

    /// <summary>Whether a bonus scoped to <paramref name="scopes"/> applies to a contribution of <paramref name="provider"/>'s <paramref name="game"/>.</summary>
    public static bool Applies(IReadOnlyList<BonusScope> scopes, string provider, string game) =>
        scopes.Count == 0 || scopes.Any(s => s.ProviderId == provider && (s.GameIds.Count == 0 || s.GameIds.Contains(game)));

    public static long? Millis(JsonElement? element, string field, Dictionary<string, string[]> errors, long max = 253402300799999)
    {
        if (element is null || element.Value.ValueKind == JsonValueKind.Null) return 0;
        var e = element.Value;
        decimal? d = e.ValueKind == JsonValueKind.Number && e.TryGetDecimal(out var n) ? n
            : e.ValueKind == JsonValueKind.String && decimal.TryParse(e.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : null;
        if (d is { } v && v == decimal.Truncate(v) && v >= 0 && v <= max) return (long)v;
        errors[field] = [$"Epoch milliseconds: a whole number from 0 to {max} (0 = none)."];
        return null;
    }

    public static bool Text(string? s, int max) => s is { Length: > 0 } && s.Length <= max && !s.Any(char.IsControl);

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
