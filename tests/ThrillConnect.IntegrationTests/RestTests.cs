namespace ThrillConnect.IntegrationTests;

/// <summary>The public REST reads (README "REST", spec §2.2), answered from ThrillPots over gRPC.</summary>
public class RestTests
{
    static Api Connect => Servers.Connect;

    [Test]
    public async Task Currencies_are_the_systems_or_a_brands_overrides_over_them()
    {
        var system = (await Connect.GetAsync("/v1/currencies")).Expect(HttpStatusCode.OK).Json;
        Assert.That(system.GetProperty("base_currency").GetString(), Is.EqualTo("EUR"));
        Assert.That(system.GetProperty("last_updated").GetInt64(), Is.GreaterThan(0));
        Assert.That(system.GetProperty("multipliers").GetProperty("USD").GetDecimal(), Is.EqualTo(1.1m));
        Assert.That(system.GetProperty("multipliers").GetProperty("SEK").GetDecimal(), Is.EqualTo(11.5m));
        var a2 = (await Connect.GetAsync("/v1/currencies?brand_id=cna:a2")).Expect(HttpStatusCode.OK).Json;
        Assert.That(a2.GetProperty("multipliers").GetProperty("USD").GetDecimal(), Is.EqualTo(1.25m));
        Assert.That(a2.GetProperty("multipliers").GetProperty("SEK").GetDecimal(), Is.EqualTo(11.5m), "the defaults where a2 overrides nothing");
    }

    [Test]
    public async Task An_instance_is_read_by_its_id_by_its_source_and_brand_and_listed_among_the_brands_sources()
    {
        var jackpot = await Jackpots.CreateAsync(["cna:a1", "cna:a2"], optIn: true);

        var byId = (await Connect.GetAsync($"/v1/thrillpots/instances/{jackpot.Id}")).Expect(HttpStatusCode.OK).Json;
        Assert.That(byId.GetProperty("id").GetGuid(), Is.EqualTo(jackpot.Id));
        Assert.That(byId.GetProperty("allowed_brands").EnumerateArray().Select(b => b.GetString()), Is.EquivalentTo(new[] { "cna:a1", "cna:a2" }));
        Assert.That(byId.GetProperty("pots").EnumerateArray().Select(p => p.GetProperty("id").GetString()), Is.EquivalentTo(new[] { "small", "big" }));
        Assert.That(byId.GetProperty("opt_in_required").GetBoolean(), Is.True);
        Assert.That(byId.GetProperty("opt_in").ValueKind, Is.EqualTo(JsonValueKind.Null), "no player asked about");

        var bySource = (await Connect.GetAsync($"/v1/thrillpots/instances/source/{jackpot.Source}/brand/cna:a2")).Expect(HttpStatusCode.OK).Json;
        Assert.That(bySource.GetProperty("id").GetGuid(), Is.EqualTo(jackpot.Id));
        var forPlayer = (await Connect.GetAsync($"/v1/thrillpots/instances/source/{jackpot.Source}/brand/cna:a2?player_id=never-opted&country_code=MT"))
            .Expect(HttpStatusCode.OK).Json;
        Assert.That(forPlayer.GetProperty("id").GetGuid(), Is.EqualTo(jackpot.Id));
        Assert.That(forPlayer.GetProperty("opt_in").ValueKind, Is.EqualTo(JsonValueKind.Null), "a player who never opted");

        var sources = (await Connect.GetAsync("/v1/thrillpots/sources?owner_id=cna:a1")).Expect(HttpStatusCode.OK).Json;
        var source = sources.EnumerateArray().Single(s => s.GetProperty("source_id").GetString() == jackpot.Source);
        Assert.That(source.GetProperty("owner_id").GetString(), Is.EqualTo("cna:a1"));
        Assert.That(source.GetProperty("source_name").GetString(), Is.EqualTo("Source " + jackpot.Source));
        Assert.That(source.GetProperty("instance_ids").EnumerateArray().Select(i => i.GetString()), Is.EquivalentTo(new[] { jackpot.Id.ToString() }));
        var ofB = (await Connect.GetAsync("/v1/thrillpots/sources?owner_id=cnb:y1")).Expect(HttpStatusCode.OK).Json;
        Assert.That(ofB.EnumerateArray().Select(s => s.GetProperty("source_id").GetString()), Does.Not.Contain(jackpot.Source));
    }

    [TestCase("/v1/thrillpots/instances/01a2358e-0000-7000-8000-000000000000")]
    [TestCase("/v1/thrillpots/instances/source/no-such-source/brand/cna:a1")]
    public async Task An_unknown_instance_or_source_is_a_404_problem(string path)
    {
        var problem = (await Connect.GetAsync(path)).ExpectProblem(HttpStatusCode.NotFound).Json;
        Assert.That(problem.GetProperty("status").GetInt32(), Is.EqualTo(404));
        Assert.That(problem.GetProperty("title").GetString(), Is.Not.Empty);
    }

    [TestCase("/v1/thrillpots/instances/not-a-uuid", "instance_id")]
    [TestCase("/v1/thrillpots/sources", "owner_id")]
    [TestCase("/v1/currencies?brand_id=cna", "brand_id")]
    [TestCase("/v1/thrillpots/instances/source/s1/brand/cna", "brand_id")]
    [TestCase("/v1/thrillpots/instances/source/s1/brand/cna:a1?country_code=malta", "country_code")]
    public async Task A_malformed_parameter_is_a_400_problem_naming_it(string path, string field)
    {
        (await Connect.GetAsync(path)).ExpectInvalid(field);
    }
}
