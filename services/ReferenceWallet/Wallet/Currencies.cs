using System.Collections.Frozen;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ReferenceWallet.Wallet;

/// <summary>Minor units per currency: amounts finer than these are refused, balances are shown at this precision.</summary>
public static partial class Currencies
{
    const int DefaultDecimals = 2;

    /// <summary>Larger amounts are refused so that a balance always fits numeric(30, 8).</summary>
    public const decimal MaxAmount = 1_000_000_000_000_000m;

    static readonly FrozenDictionary<string, int> Decimals = new Dictionary<string, int>
    {
        ["JPY"] = 0, ["KRW"] = 0, ["ISK"] = 0, ["CLP"] = 0, ["VND"] = 0, ["HUF"] = 2,
        ["BHD"] = 3, ["KWD"] = 3, ["OMR"] = 3, ["JOD"] = 3, ["TND"] = 3,
        ["USDT"] = 6, ["BTC"] = 8, ["ETH"] = 8, ["LTC"] = 8,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    [GeneratedRegex("^[A-Z][A-Z0-9]{2,9}$")]
    private static partial Regex Code();

    public static bool IsValidCode(string currency) => Code().IsMatch(currency);

    public static int DecimalsOf(string currency) => Decimals.GetValueOrDefault(currency, DefaultDecimals);

    public static bool FitsMinorUnit(decimal amount, string currency) => decimal.Round(amount, DecimalsOf(currency)) == amount;

    /// <summary>The amount at the currency's precision (numeric(30, 8) comes back with eight decimals).</summary>
    public static decimal Normalize(decimal amount, string currency) => decimal.Round(amount, DecimalsOf(currency));

    public static string Format(decimal amount, string currency) =>
        Normalize(amount, currency).ToString("F" + DecimalsOf(currency), CultureInfo.InvariantCulture);
}
