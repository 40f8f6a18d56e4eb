namespace ThrillPots.Engine;

/// <summary>
/// The HitRate trigger (design.md §4): a contribution of value v (the whole contribution in jackpot currency, before the
/// split) makes floor(v/K) independent draws that each hit with probability 1/M, plus one draw that hits with probability
/// frac(v/K)/M. The pot hits when any draw hits; draws stop at the first hit (the outcome, "hit or not", has the same
/// distribution). Every probability is drawn with exact integers: 1/M as NextInt64(M) == 0 and frac(v/K) as
/// NextInt64(D) &lt; R with R/D = (v mod K)/K scaled to integers, so no rounding biases the odds.
/// </summary>
public static class HitRate
{
    public static bool Draw(decimal value, long maxMagicNumber, decimal costPerAttempt, IRandomSource random)
    {
        var (attempts, remainder) = Attempts(value, costPerAttempt);
        for (long i = 0; i < attempts; i++)
            if (random.NextInt64(maxMagicNumber) == 0)
                return true;
        if (remainder == 0m)
            return false;
        var (numerator, denominator) = Fraction(remainder, costPerAttempt);
        return random.NextInt64(maxMagicNumber) == 0 && random.NextInt64(denominator) < numerator;
    }

    /// <summary>floor(v/K) and v mod K, both exact.</summary>
    public static (long Attempts, decimal Remainder) Attempts(decimal value, decimal costPerAttempt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(costPerAttempt, 0m);
        var remainder = value % costPerAttempt;
        return (checked((long)((value - remainder) / costPerAttempt)), remainder);
    }

    /// <summary>The probability that the pot hits on one contribution: 1 − (1 − 1/M)^n × (1 − f/M). For simulations and tests.</summary>
    public static double Probability(decimal value, long maxMagicNumber, decimal costPerAttempt)
    {
        var (attempts, remainder) = Attempts(value, costPerAttempt);
        var m = (double)maxMagicNumber;
        var fraction = (double)(remainder / costPerAttempt);
        return 1.0 - Math.Pow(1.0 - 1.0 / m, attempts) * (1.0 - fraction / m);
    }

    /// <summary>(v mod K)/K as R/D with integers: exact when K scaled to an integer fits 64 bits (any realistic template),
    /// otherwise rounded down to 18 decimal places.</summary>
    static (long Numerator, long Denominator) Fraction(decimal remainder, decimal costPerAttempt)
    {
        var scale = Math.Max(remainder.Scale, costPerAttempt.Scale);
        if (scale <= 18)
        {
            var factor = Money.Pow10(scale);
            var denominator = costPerAttempt * factor;
            if (denominator <= long.MaxValue)
                return ((long)(remainder * factor), (long)denominator);
        }
        const long OneE18 = 1_000_000_000_000_000_000;
        return ((long)decimal.Floor(remainder / costPerAttempt * OneE18), OneE18);
    }
}
