namespace ThrillPots.IntegrationTests;

public class CurrencyTests
{
    static Api Pots => Servers.Pots;

    [Test]
    public async Task The_platform_sets_the_system_defaults_and_everyone_reads_them()
    {
        var put = (await Pots.PutAsync("/config/currencies", Servers.Platform, new
        {
            base_currency = "EUR", multipliers = new Dictionary<string, decimal> { ["USD"] = 1.1m, ["SEK"] = 11.5m, ["GBP"] = 0.85m },
        })).Expect(HttpStatusCode.OK).Json;
        Assert.That(put.GetProperty("multipliers").GetProperty("EUR").GetDecimal(), Is.EqualTo(1m), "the base is always 1");
        var got = (await Pots.GetAsync("/config/currencies", Servers.ReadOnlyA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(got.GetProperty("base_currency").GetString(), Is.EqualTo("EUR"));
        Assert.That(got.GetProperty("multipliers").GetProperty("SEK").GetDecimal(), Is.EqualTo(11.5m));
        var audit = await Fixtures.AuditAsync("currencies");
        Assert.That(audit[0].GetProperty("action").GetString(), Is.EqualTo("currencies.set_defaults"));
        Assert.That(audit[0].GetProperty("after").GetProperty("multipliers").GetProperty("GBP").GetDecimal(), Is.EqualTo(0.85m));
    }

    [Test]
    public async Task Operators_may_not_set_the_system_defaults() =>
        (await Pots.PutAsync("/config/currencies", Servers.OperatorA, Currencies.Defaults)).ExpectForbidden();

    [TestCase("""{"multipliers": {"EUR": 1}}""", "base_currency")]
    [TestCase("""{"base_currency": "EURO", "multipliers": {"EUR": 1}}""", "base_currency")]
    [TestCase("""{"base_currency": "EUR"}""", "multipliers")]
    [TestCase("""{"base_currency": "EUR", "multipliers": {"ABC": 2}}""", "multipliers.ABC")]
    [TestCase("""{"base_currency": "EUR", "multipliers": {"usd": 2}}""", "multipliers.usd")]
    [TestCase("""{"base_currency": "EUR", "multipliers": {"USD": 0}}""", "multipliers.USD")]
    [TestCase("""{"base_currency": "EUR", "multipliers": {"USD": -1}}""", "multipliers.USD")]
    [TestCase("""{"base_currency": "EUR", "multipliers": {"EUR": 2}}""", "multipliers.EUR")]
    [TestCase("""{"base_currency": "EUR", "multipliers": {"USD": "x"}}""", "multipliers.USD")]
    public async Task Bad_defaults_are_400_naming_the_field(string body, string field) =>
        (await Pots.PutAsync("/config/currencies", Servers.Platform, JsonNode.Parse(body)!)).ExpectInvalid(field);

    [Test]
    public async Task A_brand_overrides_some_multipliers()
    {
        var before = (await Pots.GetAsync("/config/currencies/brands/tpa:b2", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(before.GetProperty("overrides").EnumerateObject(), Is.Empty);
        Assert.That(before.GetProperty("multipliers").GetProperty("USD").GetDecimal(), Is.EqualTo(1.1m));

        var put = (await Pots.PutAsync("/config/currencies/brands/tpa:b2", Servers.OperatorA, new
        {
            multipliers = new Dictionary<string, decimal> { ["USD"] = 1.25m },
        })).Expect(HttpStatusCode.OK).Json;
        Assert.That(put.GetProperty("brand_id").GetString(), Is.EqualTo("tpa:b2"));
        Assert.That(put.GetProperty("base_currency").GetString(), Is.EqualTo("EUR"));
        Assert.That(put.GetProperty("multipliers").GetProperty("USD").GetDecimal(), Is.EqualTo(1.25m));
        Assert.That(put.GetProperty("multipliers").GetProperty("SEK").GetDecimal(), Is.EqualTo(11.5m), "defaults fill in");
        var listed = (await Pots.GetAsync("/config/currencies/brands", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.EnumerateArray().Select(b => b.GetProperty("brand_id").GetString()), Does.Contain("tpa:b2"));
        var audit = await Fixtures.AuditAsync("tpa:b2");
        Assert.That(audit[0].GetProperty("action").GetString(), Is.EqualTo("currencies.set_brand"));
    }

    [TestCase("""{"multipliers": {"JPY": 160}}""", "multipliers.JPY")] // ISO 4217, not in the system table
    [TestCase("""{"multipliers": {"QQQ": 1}}""", "multipliers.QQQ")]
    [TestCase("""{"base_currency": "XXX", "multipliers": {}}""", "base_currency")]
    [TestCase("""{}""", "multipliers")]
    public async Task Bad_brand_overrides_are_400_naming_the_field(string body, string field) =>
        (await Pots.PutAsync("/config/currencies/brands/tpa:b1", Servers.OperatorA, JsonNode.Parse(body)!)).ExpectInvalid(field);

    [Test]
    public async Task Brand_overrides_are_owner_checked()
    {
        var body = new { multipliers = new Dictionary<string, decimal> { ["USD"] = 1.2m } };
        (await Pots.PutAsync("/config/currencies/brands/tpb:x1", Servers.OperatorA, body)).ExpectForbidden();
        (await Pots.GetAsync("/config/currencies/brands/tpb:x1", Servers.OperatorA)).ExpectForbidden();
        (await Pots.PutAsync("/config/currencies/brands/tpa:b2", Servers.BrandB1, body)).ExpectForbidden();
        (await Pots.PutAsync("/config/currencies/brands/tpa:b3", Servers.OperatorA, body)).ExpectNotFound();
        (await Pots.PutAsync("/config/currencies/brands/tpa", Servers.OperatorA, body)).ExpectInvalid("owner_id");
    }
}
