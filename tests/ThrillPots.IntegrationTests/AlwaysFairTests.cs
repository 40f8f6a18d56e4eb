using Dapper;
using Npgsql;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Pots.V1;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// Always Fair multi-currency through the running service (spec wallet §6.2, design.md §4): per-currency limits on the template,
/// opt-in values outside them refused with the range, contribution values clamped into them, each contribution recording the
/// multipliers it was converted with. The system table of these tests: EUR base, USD 1.1, SEK 11.5, GBP 0.85.
/// </summary>
public class AlwaysFairTests
{
    static JsonObject Template(decimal fixedValue = 0.1m, bool optIn = false, string limits = """
        {"EUR": {"min": 0.1, "max": 5}, "GBP": {"min": 0.1, "max": 5}, "SEK": {"min": 1, "max": 50}}
        """)
    {
        var t = Jackpots.Template(optIn: optIn, fixedValue: fixedValue);
        t["contribution_rules"]!["currency_limits"] = JsonNode.Parse(limits);
        return t;
    }

    [Test]
    public async Task A_template_keeps_its_currency_limits()
    {
        var created = (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, Template())).Expect(HttpStatusCode.Created).Json;
        var sek = created.GetProperty("contribution_rules").GetProperty("currency_limits").GetProperty("SEK");
        Assert.That(sek.GetProperty("min").GetDecimal(), Is.EqualTo(1m));
        Assert.That(sek.GetProperty("max").GetDecimal(), Is.EqualTo(50m));
    }

    [TestCase("""{"SEK": {"min": 0, "max": 50}}""", "contribution_rules.currency_limits.SEK.min")]
    [TestCase("""{"SEK": {"max": 50}}""", "contribution_rules.currency_limits.SEK.min")]
    [TestCase("""{"SEK": {"min": 5, "max": 1}}""", "contribution_rules.currency_limits.SEK.max")]
    [TestCase("""{"SEK": {"min": 1.005, "max": 50}}""", "contribution_rules.currency_limits.SEK.min")]
    [TestCase("""{"QQQ": {"min": 1, "max": 2}}""", "contribution_rules.currency_limits.QQQ")]
    [TestCase("""{"JPY": {"min": 10, "max": 500}}""", "contribution_rules.currency_limits.JPY")] // ISO 4217, not in the system table
    [TestCase("""{"SEK": {"min": "x", "max": 2}}""", "contribution_rules.currency_limits.SEK.min")]
    [TestCase("""{"EUR": {"min": 0.2, "max": 5}}""", "contribution_rules.contribution_type.Fixed")] // Fixed 0.1 outside EUR's own range
    public async Task Bad_limits_are_400_naming_the_field(string limits, string field) =>
        (await Servers.Pots.PostAsync("/templates", Servers.OperatorA, Template(limits: limits))).ExpectInvalid(field);

    [Test]
    public async Task An_opt_in_value_outside_the_players_currency_range_is_refused_with_the_range_and_changes_nothing()
    {
        var jackpot = await Jackpots.CreateAsync(Template(optIn: true));
        var player = Fixtures.Unique("p");
        await Jackpots.OptInAsync(jackpot, player, value: "2", currency: "SEK");

        foreach (var (value, currency, range) in new[] { ("0.99", "SEK", "min 1, max 50 SEK"), ("50.01", "SEK", "min 1, max 50 SEK"), ("0.05", "GBP", "min 0.1, max 5 GBP") })
        {
            var ex = Assert.ThrowsAsync<RpcException>(() => Jackpots.OptInAsync(jackpot, player, value: value, currency: currency));
            Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(ex.Status.Detail, Does.StartWith("contribution_value:").And.Contain(range).And.Contain($"{value} {currency}"));
        }
        var state = await Jackpots.CallAsync<Proto.OptInState>(Jackpots.GetOptIn,
            new Proto.GetOptInRequest { InstanceId = jackpot.Id, BrandId = "tpa:b1", PlayerId = player });
        Assert.That((state.PreferredContributionValue, state.PreferredCurrency), Is.EqualTo(("2", "SEK")), "the refusals changed nothing");

        // Opting out needs no value; USD has no limits (Basic mode): any value the API takes.
        Assert.That((await Jackpots.OptInAsync(jackpot, player, optIn: false)).OptedIn, Is.False);
        Assert.That((await Jackpots.OptInAsync(jackpot, player, value: "0.01", currency: "USD")).PreferredContributionValue, Is.EqualTo("0.01"));
    }

    [TestCase("1", "SEK"), TestCase("50", "SEK"), TestCase("0.1", "EUR"), TestCase("5", "GBP")]
    public async Task Opt_in_values_at_the_bounds_are_accepted_and_contributed(string value, string currency)
    {
        var jackpot = await Jackpots.CreateAsync(Template(optIn: true));
        var body = Jackpots.Body(jackpot, currency: currency);
        var player = body["player_id"]!.GetValue<string>();
        var state = await Jackpots.OptInAsync(jackpot, player, value: value, currency: currency);
        Assert.That(state.OptedIn, Is.True);
        var accepted = (await Jackpots.ContributeAsync(body)).Expect(HttpStatusCode.OK).Json;
        var rate = currency switch { "SEK" => 11.5m, "GBP" => 0.85m, _ => 1m };
        Assert.That(accepted.GetProperty("player_contribution_value").GetDecimal(), Is.EqualTo(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture)).Within(1e-9m));
        Assert.That(accepted.GetProperty("contribution_value").GetDecimal(),
            Is.EqualTo(decimal.Round(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture) / rate, 12, MidpointRounding.ToZero)));
    }

    [Test]
    public async Task The_default_value_is_clamped_to_each_currencys_range_and_every_contribution_records_its_multipliers()
    {
        // Fixed EUR 0.05 is below EUR's and SEK's minimums (EUR 0.1, SEK 1 = EUR 0.0869…); USD has no limits.
        var jackpot = await Jackpots.CreateAsync(Template(fixedValue: 0.05m, limits: """{"SEK": {"min": 1, "max": 50}, "GBP": {"min": 0.5, "max": 5}}"""));
        var expected = new Dictionary<string, (decimal Value, decimal Multiplier)>
        {
            ["SEK"] = (decimal.Round(1m / 11.5m, 12, MidpointRounding.ToZero), 11.5m), // clamped up to SEK 1
            ["GBP"] = (decimal.Round(0.5m / 0.85m, 12, MidpointRounding.ToZero), 0.85m), // clamped up to GBP 0.5
            ["USD"] = (0.05m, 1.1m), // no limits: the converted Fixed
            ["EUR"] = (0.05m, 1m), // no EUR limits on this template
        };
        foreach (var (currency, (value, multiplier)) in expected)
        {
            var result = (await Jackpots.ContributeAsync(Jackpots.Body(jackpot, currency: currency))).Expect(HttpStatusCode.OK).Json;
            Assert.That(result.GetProperty("contribution_value").GetDecimal(), Is.EqualTo(value), currency);
            var m = result.GetProperty("currency_multipliers");
            Assert.That((m.GetProperty("base_currency").GetString(), m.GetProperty("player").GetDecimal(), m.GetProperty("jackpot").GetDecimal()),
                Is.EqualTo(("EUR", multiplier, 1m)), currency);
        }

        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        var rows = (await c.QueryAsync<(string Currency, decimal Value, decimal PlayerValue, string BaseCurrency, decimal PlayerMultiplier, decimal JackpotMultiplier)>(
            "select player_currency, value, player_value, base_currency, player_multiplier, jackpot_multiplier from contributions where instance_id = @id",
            new { id = jackpot.Guid })).ToDictionary(r => r.Currency);
        foreach (var (currency, (value, multiplier)) in expected)
        {
            var row = rows[currency];
            Assert.That((row.Value, row.BaseCurrency, row.PlayerMultiplier, row.JackpotMultiplier), Is.EqualTo((value, "EUR", multiplier, 1m)), currency);
        }
        Assert.That(rows["SEK"].PlayerValue, Is.EqualTo(1m).Within(1e-9m), "the player paid their currency's minimum");
        Assert.That(rows["GBP"].PlayerValue, Is.EqualTo(0.5m).Within(1e-9m));
        Assert.That((await Jackpots.ReconcileAsync(jackpot)).GetProperty("balanced").GetBoolean(), Is.True);
    }
}
