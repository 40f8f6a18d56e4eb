using System.Collections.Frozen;

namespace ThrillPots.Engine;

/// <summary>
/// Currency precision (ISO 4217 minor-unit exponents plus the crypto currencies the suite uses) and the engine's rounding
/// rules (design.md §3): pots keep full precision, a paid win is rounded down to the minor unit.
/// </summary>
public static class Money
{
    /// <summary>
    /// "Full precision" inside the engine: contributions, pot shares and reseed-fund shares are cut to 12 decimal places,
    /// far below any minor unit (at most 8), so every sum the ledger makes stays exact in decimal's 28 digits up to 10^16.
    /// </summary>
    public const int InternalScale = 12;

    static readonly FrozenDictionary<string, int> Exponents = BuildTable();

    static FrozenDictionary<string, int> BuildTable()
    {
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        // ISO 4217 active codes with exponent 2 (funds codes such as BOV, CHE, MXV included).
        foreach (var code in """
            AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE
            CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD
            HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU
            MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG
            SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES
            WST XCD XCG YER ZAR ZMW ZWG ZWL
            """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
            table[code] = 2;
        foreach (var code in "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".Split(' '))
            table[code] = 0;
        foreach (var code in "BHD IQD JOD KWD LYD OMR TND".Split(' '))
            table[code] = 3;
        table["CLF"] = 4;
        table["UYW"] = 4;
        // Crypto as the suite (and its reference wallet) counts them; ETH is capped at 8 of its 18 decimals.
        table["BTC"] = 8;
        table["ETH"] = 8;
        table["LTC"] = 8;
        table["USDT"] = 6;
        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Codes are upper case as ISO 4217 writes them; "eur" is unknown.</summary>
    public static bool IsKnownCurrency(string? currency) => currency is not null && Exponents.ContainsKey(currency);

    public static bool TryGetMinorUnitExponent(string currency, out int exponent) => Exponents.TryGetValue(currency, out exponent);

    /// <exception cref="UnknownCurrencyException">the currency is not in the table.</exception>
    public static int MinorUnitExponent(string currency) =>
        Exponents.TryGetValue(currency, out var exponent) ? exponent : throw new UnknownCurrencyException(currency);

    /// <summary>The smallest payable amount: 0.01 for EUR, 1 for JPY, 0.001 for KWD, 0.00000001 for BTC.</summary>
    public static decimal MinorUnit(string currency) => Pow10(-MinorUnitExponent(currency));

    /// <summary>The amount rounded down (towards negative infinity) to the currency's minor unit.</summary>
    public static decimal RoundDown(decimal amount, string currency) =>
        decimal.Round(amount, MinorUnitExponent(currency), MidpointRounding.ToNegativeInfinity);

    /// <summary>Cuts an amount to <see cref="InternalScale"/> decimal places, towards zero.</summary>
    public static decimal ToInternal(decimal amount) => decimal.Round(amount, InternalScale, MidpointRounding.ToZero);

    internal static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < Math.Abs(exponent); i++)
            result = exponent > 0 ? result * 10m : result / 10m;
        return result;
    }
}

public sealed class UnknownCurrencyException(string currency)
    : ArgumentException($"Unknown currency '{currency}': no ISO 4217 minor-unit exponent is known for it.", nameof(currency))
{
    public string Currency { get; } = currency;
}
