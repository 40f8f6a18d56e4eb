using Dapper;
using Npgsql;

namespace ThrillPots.IntegrationTests;

/// <summary>Seed boosts (spec §7.3): operator money into one pot or all of them, reconciled, spent on the next reseed.</summary>
public class SeedBoostTests
{
    static async Task<Dictionary<string, decimal>> BoostsAsync(Jackpot jackpot)
    {
        await using var c = new NpgsqlConnection(Servers.PotsDatabase);
        return (await c.QueryAsync<(string PotId, decimal Boost)>("select pot_id, seed_boost from pots where instance_id = @id", new { id = jackpot.Guid }))
            .ToDictionary(p => p.PotId, p => p.Boost);
    }

    [Test]
    public async Task Bad_boosts_are_refused_naming_the_field_and_change_nothing()
    {
        var jackpot = await Jackpots.CreateAsync();
        var path = $"/instances/{jackpot.Id}/boosts";
        var pots = Servers.Pots;
        (await pots.PostAsync(path, Servers.OperatorA, new { pot_id = "small" })).ExpectInvalid("amount");
        (await pots.PostAsync(path, Servers.OperatorA, new { pot_id = "small", amount = 0 })).ExpectInvalid("amount");
        (await pots.PostAsync(path, Servers.OperatorA, new { pot_id = "small", amount = -5 })).ExpectInvalid("amount");
        (await pots.PostAsync(path, Servers.OperatorA, new { pot_id = "small", amount = 0.0000000000001m })).ExpectInvalid("amount");
        (await pots.PostAsync(path, Servers.OperatorA, new { pot_id = "small", amount = "lots" })).ExpectInvalid("amount");
        (await pots.PostAsync(path, Servers.OperatorA, new { pot_id = "mega", amount = 5 })).ExpectInvalid("pot_id");
        (await pots.PostAsync(path, Servers.OperatorA, new { pot_id = "small", amount = 5, reason = new string('x', 501) })).ExpectInvalid("reason");
        (await pots.PostAsync($"/instances/{Guid.NewGuid()}/boosts", Servers.OperatorA, new { amount = 5 })).ExpectNotFound();
        (await pots.PostAsync(path, Servers.OperatorB, new { amount = 5 })).ExpectForbidden();
        (await pots.PostAsync(path, Servers.ReadOnlyA, new { amount = 5 })).ExpectForbidden();
        Assert.That((await BoostsAsync(jackpot)).Values, Is.All.Zero);

        await Jackpots.SetStateAsync(jackpot, "Terminated");
        (await pots.PostAsync(path, Servers.OperatorA, new { amount = 5 })).ExpectConflict();
        Assert.That((await BoostsAsync(jackpot)).Values, Is.All.Zero);
        (await pots.GetAsync(path, Servers.ReadOnlyA)).Expect(HttpStatusCode.OK);
        Assert.That((await pots.GetAsync(path, Servers.ReadOnlyA)).Json.GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task A_boost_to_one_pot_or_spread_over_all_is_recorded_audited_and_reconciled_as_money_in()
    {
        var jackpot = await Jackpots.CreateAsync();
        (await Jackpots.ContributeAsync(Jackpots.Body(jackpot))).Expect(HttpStatusCode.OK);
        var path = $"/instances/{jackpot.Id}/boosts";

        var one = (await Servers.Pots.PostAsync(path, Servers.OperatorA, new { pot_id = "big", amount = 25.5, reason = "Top tier push" }))
            .Expect(HttpStatusCode.Created).Json;
        Assert.That(one.GetProperty("pots")[0].GetProperty("amount").GetDecimal(), Is.EqualTo(25.5m));
        // Spread by min_reseed_value: small 10, big 100 → 1 and 10 of 11.
        var spread = (await Servers.Pots.PostAsync(path, Servers.OperatorA, new { amount = 11 })).Expect(HttpStatusCode.Created).Json;
        Assert.That(spread.GetProperty("pots").EnumerateArray().ToDictionary(p => p.GetProperty("pot_id").GetString()!, p => p.GetProperty("amount").GetDecimal()),
            Is.EqualTo(new Dictionary<string, decimal> { ["small"] = 1m, ["big"] = 10m }));
        Assert.That(await BoostsAsync(jackpot), Is.EqualTo(new Dictionary<string, decimal> { ["small"] = 1m, ["big"] = 35.5m }));

        (await Jackpots.ContributeAsync(Jackpots.Body(jackpot))).Expect(HttpStatusCode.OK);
        var report = await Jackpots.ReconcileAsync(jackpot);
        Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, report.ToString());
        var big = report.GetProperty("pots").EnumerateArray().Single(p => p.GetProperty("pot_id").GetString() == "big");
        Assert.That(big.GetProperty("boosts").GetDecimal(), Is.EqualTo(35.5m));
        Assert.That(big.GetProperty("seed_boost").GetDecimal(), Is.EqualTo(35.5m));

        var listed = (await Servers.Pots.GetAsync(path, Servers.ReadOnlyA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(listed.GetArrayLength(), Is.EqualTo(3));
        var audit = await Fixtures.AuditAsync(jackpot.Id);
        Assert.That(audit.Count(e => e.GetProperty("action").GetString() == "instance.boost"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_boost_pays_the_next_reseed_after_the_reseed_fund()
    {
        // Every contribution wins "small" (HitRate 1 in 1): 10 + 0.02 is paid, the pot reseeds to 10 from the fund (0.02) then boosts.
        var boosted = await Jackpots.CreateAsync(Jackpots.Template(magic: 1));
        var plain = await Jackpots.CreateAsync(Jackpots.Template(magic: 1));
        (await Servers.Pots.PostAsync($"/instances/{boosted.Id}/boosts", Servers.OperatorA, new { pot_id = "small", amount = 50 })).Expect(HttpStatusCode.Created);

        var withBoost = (await Jackpots.ContributeAsync(Jackpots.Body(boosted))).Expect(HttpStatusCode.OK).Json.GetProperty("wins").EnumerateArray().Single();
        var without = (await Jackpots.ContributeAsync(Jackpots.Body(plain))).Expect(HttpStatusCode.OK).Json.GetProperty("wins").EnumerateArray().Single();

        Assert.That(withBoost.GetProperty("pot_id").GetString(), Is.EqualTo("small"));
        Assert.That(withBoost.GetProperty("seed").GetDecimal(), Is.EqualTo(10m));
        Assert.That(withBoost.GetProperty("seed_deficit").GetDecimal(), Is.Zero);
        Assert.That(without.GetProperty("seed_deficit").GetDecimal(), Is.EqualTo(9.98m));
        await using (var c = new NpgsqlConnection(Servers.PotsDatabase))
            Assert.That(await c.ExecuteScalarAsync<decimal>("select from_boosts from wins where instance_id = @id", new { id = boosted.Guid }), Is.EqualTo(9.98m));
        Assert.That((await BoostsAsync(boosted))["small"], Is.EqualTo(40.02m));
        Assert.That((await Jackpots.ReconcileAsync(boosted)).GetProperty("balanced").GetBoolean(), Is.True);
    }
}
