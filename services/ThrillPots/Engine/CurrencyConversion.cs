namespace ThrillPots.Engine;

/// <summary>
/// Exchange multipliers in force at one moment (spec §11): <c>Multipliers[c]</c> is how many units of currency c equal one
/// unit of <see cref="BaseCurrency"/> (EUR 1, USD 1.0762 means 1 EUR = 1.0762 USD). The base currency is 1 when absent.
/// An amount in currency F is worth <c>amount / m[F] * m[T]</c> in currency T; the engine computes
/// <c>amount * m[T] / m[F]</c> (multiplication first loses less precision) and cuts it to <see cref="Money.InternalScale"/>
/// towards zero. Contributions record the set they were converted with (design.md §3).
/// </summary>
public sealed record MultiplierSet(string BaseCurrency, IReadOnlyDictionary<string, decimal> Multipliers)
{
    public decimal MultiplierOf(string currency)
    {
        if (Multipliers.TryGetValue(currency, out var m))
            return m > 0m ? m : throw new ArgumentException($"The multiplier of {currency} must be positive, not {m}.", nameof(currency));
        if (currency == BaseCurrency)
            return 1m;
        throw new KeyNotFoundException($"No multiplier for {currency} (base {BaseCurrency}).");
    }

    /// <summary>Converts <paramref name="amount"/> from <paramref name="from"/> to <paramref name="to"/>; the same currency
    /// returns the amount unchanged (not even cut to the internal scale).</summary>
    public decimal Convert(decimal amount, string from, string to)
    {
        if (from == to)
            return amount;
        return Money.ToInternal(amount * MultiplierOf(to) / MultiplierOf(from));
    }
}
