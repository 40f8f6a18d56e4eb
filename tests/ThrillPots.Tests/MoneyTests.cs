namespace ThrillPots.Tests;

public class MoneyTests
{
    [TestCase("EUR", 2)]
    [TestCase("USD", 2)]
    [TestCase("JPY", 0)]
    [TestCase("KRW", 0)]
    [TestCase("XOF", 0)]
    [TestCase("KWD", 3)]
    [TestCase("TND", 3)]
    [TestCase("CLF", 4)]
    [TestCase("BTC", 8)]
    [TestCase("ETH", 8)]
    [TestCase("USDT", 6)]
    public void Minor_unit_exponents_follow_ISO_4217_and_the_suites_crypto(string currency, int exponent) =>
        Assert.That(Money.MinorUnitExponent(currency), Is.EqualTo(exponent));

    [TestCase("EUR", "123.456789", "123.45")]
    [TestCase("EUR", "0.009999", "0")]
    [TestCase("JPY", "1999.999", "1999")]
    [TestCase("KWD", "12.34567", "12.345")]
    [TestCase("BTC", "0.123456789123", "0.12345678")]
    [TestCase("EUR", "5.00", "5")]
    public void A_paid_win_is_rounded_down_to_the_minor_unit(string currency, string amount, string expected) =>
        Assert.That(Money.RoundDown(decimal.Parse(amount), currency), Is.EqualTo(decimal.Parse(expected)));

    [Test]
    public void Unknown_currencies_are_refused()
    {
        Assert.That(Money.IsKnownCurrency("EUR"), Is.True);
        Assert.That(Money.IsKnownCurrency("eur"), Is.False);
        Assert.That(Money.IsKnownCurrency("XYZ"), Is.False);
        Assert.That(Money.IsKnownCurrency(null), Is.False);
        Assert.That(() => Money.RoundDown(1m, "XYZ"), Throws.TypeOf<UnknownCurrencyException>());
    }

    static readonly MultiplierSet Rates = new("EUR", new Dictionary<string, decimal>
    {
        ["EUR"] = 1m, ["GBP"] = 0.85m, ["USD"] = 1.0762m, ["JPY"] = 160m, ["BTC"] = 0.000011m,
    });

    [Test]
    public void Conversion_divides_by_the_players_multiplier_and_multiplies_by_the_jackpots()
    {
        Assert.That(Rates.Convert(0.085m, "GBP", "EUR"), Is.EqualTo(0.1m)); // spec §11: £0.085 is €0.10
        Assert.That(Rates.Convert(0.1m, "EUR", "GBP"), Is.EqualTo(0.085m));
        Assert.That(Rates.Convert(16m, "JPY", "EUR"), Is.EqualTo(0.1m));
        Assert.That(Rates.Convert(1m, "GBP", "USD"), Is.EqualTo(1.266117647058m)); // 1.0762 / 0.85, cut to 12 places
        Assert.That(Rates.Convert(0.1m, "EUR", "BTC"), Is.EqualTo(0.0000011m));
        Assert.That(Rates.Convert(1.23456789012345m, "EUR", "EUR"), Is.EqualTo(1.23456789012345m));
    }

    [Test]
    public void Conversion_needs_a_positive_multiplier_for_both_currencies()
    {
        Assert.That(() => Rates.Convert(1m, "SEK", "EUR"), Throws.TypeOf<KeyNotFoundException>());
        var broken = new MultiplierSet("EUR", new Dictionary<string, decimal> { ["GBP"] = 0m });
        Assert.That(() => broken.Convert(1m, "GBP", "EUR"), Throws.ArgumentException);
        Assert.That(broken.Convert(1m, "EUR", "EUR"), Is.EqualTo(1m));
    }

    [Test]
    public void Random_sources_are_unbiased_in_range_and_deterministic_by_seed()
    {
        var a = new DeterministicRandomSource(42);
        var b = new DeterministicRandomSource(42);
        var counts = new int[3];
        for (var i = 0; i < 30_000; i++)
        {
            var x = a.NextInt(3);
            Assert.That(b.NextInt(3), Is.EqualTo(x));
            counts[x]++;
        }
        Assert.That(counts, Has.All.InRange(9_500, 10_500));
        Assert.That(CryptoRandomSource.Instance.NextInt64(long.MaxValue), Is.InRange(0L, long.MaxValue - 1));
        Assert.That(CryptoRandomSource.Instance.NextInt(1), Is.Zero);
        Span<byte> bytes = stackalloc byte[13];
        a.NextBytes(bytes);
        Assert.That(bytes.ToArray(), Has.Some.Not.Zero);
    }
}
