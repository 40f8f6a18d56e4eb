using System.Globalization;
using ThrillPots.Templates;

namespace ThrillPots.Engine;

/// <summary>
/// Always Fair multi-currency (spec wallet §6.2, design.md §4): per-currency minimum and maximum contribution values on
/// the template. They only bound what a player of that currency contributes (opt-in values outside them are refused, any
/// other value is clamped into them); the pots and every win draw see the value converted to the jackpot currency, so the
/// odds per unit of money are the same in every currency.
/// </summary>
public static class AlwaysFair
{
    /// <summary>Bounds above this are a typing error, not a contribution (the opt-in ceiling is 1,000,000 too).</summary>
    public const decimal MaxBound = 1_000_000m;

    public const string Field = "contribution_rules.currency_limits";

    /// <summary>Template rules: known codes, both bounds, 0 &lt; min ≤ max ≤ <see cref="MaxBound"/>, whole minor units; the
    /// template's Fixed within its own currency's bounds.</summary>
    public static void Check(TemplateDefinition template, Action<string, string> error)
    {
        if (template.ContributionRules?.CurrencyLimits is not { } limits) return;
        foreach (var (code, limit) in limits)
        {
            var at = $"{Field}.{code}";
            if (!Money.IsKnownCurrency(code))
            {
                error(at, $"'{code}' is not a known ISO 4217 (or supported crypto) currency code");
                continue;
            }
            if (limit is null)
            {
                error(at, "must be {\"min\": number, \"max\": number}");
                continue;
            }
            var minOk = Bound(limit.Min, code, $"{at}.min", error);
            var maxOk = Bound(limit.Max, code, $"{at}.max", error);
            if (minOk && maxOk && limit.Max < limit.Min)
                error($"{at}.max", $"must be ≥ min ({Format(limit.Min!.Value)})");
        }
        if (template.Currency is { } currency && limits.TryGetValue(currency, out var own) && own is { Min: decimal min, Max: decimal max }
            && template.ContributionRules.ContributionType?.Fixed is decimal fixedValue && (fixedValue < min || fixedValue > max))
            error("contribution_rules.contribution_type.Fixed", $"must lie within {Field}.{currency}, {Range(currency, own)}");
    }

    static bool Bound(decimal? value, string code, string field, Action<string, string> error)
    {
        if (value is not decimal v)
        {
            error(field, "is required");
            return false;
        }
        if (v <= 0m || v > MaxBound)
        {
            error(field, $"must be > 0 and ≤ {Format(MaxBound)}");
            return false;
        }
        if (v != Money.RoundDown(v, code))
        {
            error(field, $"must be a whole number of {code}'s minor unit ({Format(Money.MinorUnit(code))})");
            return false;
        }
        return true;
    }

    /// <summary>The template's bounds for <paramref name="currency"/>, or null when it sets none.</summary>
    public static CurrencyLimit? LimitOf(TemplateDefinition template, string currency) =>
        template.ContributionRules?.CurrencyLimits?.GetValueOrDefault(currency);

    /// <summary>Null when <paramref name="value"/> (in <paramref name="currency"/>) may be chosen, else why not, with the range.</summary>
    public static string? Refusal(TemplateDefinition template, decimal value, string currency) =>
        LimitOf(template, currency) is { Min: decimal min, Max: decimal max } limit && (value < min || value > max)
            ? $"{Format(value)} {currency} is outside this jackpot's range for {currency}: {Range(currency, limit)}"
            : null;

    public static string Range(string currency, CurrencyLimit limit) => $"min {Format(limit.Min!.Value)}, max {Format(limit.Max!.Value)} {currency}";

    /// <summary>
    /// A contribution value in the jackpot currency brought within the player's currency bounds: converted to the player's
    /// currency, clamped, converted back. A value already within them (or a currency without bounds) is returned unchanged.
    /// </summary>
    public static decimal Clamp(TemplateDefinition template, decimal value, MultiplierSet set, string jackpotCurrency, string playerCurrency)
    {
        if (LimitOf(template, playerCurrency) is not { Min: decimal min, Max: decimal max }) return value;
        var inPlayer = set.Convert(value, jackpotCurrency, playerCurrency);
        var clamped = Math.Clamp(inPlayer, min, max);
        return clamped == inPlayer ? value : set.Convert(clamped, playerCurrency, jackpotCurrency);
    }

    static string Format(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
