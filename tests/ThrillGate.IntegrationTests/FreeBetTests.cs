using System.Globalization;
using Google.Protobuf.Reflection;
using ThrillSuite.Contracts.Gate;
using ThrillSuite.Grpc;
using Proto = ThrillSuite.Gate.V1;

namespace ThrillGate.IntegrationTests;

/// <summary>
/// The bonus API (spec §8.3–§8.5): templates, instances, awards (idempotent by request_id), direct awards, removal, expiry,
/// queries, and consumption through the FreeBets gRPC service (Fixed, Variable, retries, releases, concurrency).
/// </summary>
public class FreeBetTests
{
    static Api Gate => Servers.Gate;
    static string Operator => Servers.OperatorA;
    static readonly ServiceDescriptor Service = Proto.GateReflection.Descriptor.FindTypeByName<ServiceDescriptor>("FreeBets");

    static string NewPlayer() => "p-" + Guid.NewGuid().ToString("N")[..12];

    static async Task<JsonElement> DirectAsync(string brand, string[] players, object bonus, object? availableFor = null, long expires = 0,
        string? requestId = null, string? promo = null)
    {
        var reply = await Gate.PostAsync("/thrillgate/bonus/playerbonus/create", Operator, new
        {
            request_id = requestId ?? Guid.NewGuid().ToString(), operator_id = Servers.Operator, brand_id = brand, players, bonus_name = "Dynamic",
            bonus, available_for = availableFor, timestamp_bonus_expires = expires, promo_id = promo,
        });
        return reply.Expect(HttpStatusCode.OK).Json;
    }

    public static Task<Proto.FreeBetReply> ConsumeAsync(string brand, string player, string key, decimal optIn, string currency = "EUR",
        string provider = "thrillsuite", string game = "slots") =>
        Servers.Grpc.UnaryAsync<Proto.FreeBetReply>(Service.FindMethodByName("Consume"), new Proto.ConsumeFreeBetRequest
        {
            OperatorId = Servers.Operator, BrandId = brand, PlayerId = player, ProviderId = provider, GameId = game, ContributionKey = key,
            OptInValue = optIn.ToString(CultureInfo.InvariantCulture), Currency = currency,
        }, CallOptions.WithTimeout(TimeSpan.FromSeconds(30)));

    static Task<Proto.ReleaseFreeBetReply> ReleaseAsync(string key) =>
        Servers.Grpc.UnaryAsync<Proto.ReleaseFreeBetReply>(Service.FindMethodByName("Release"), new Proto.ReleaseFreeBetRequest { ContributionKey = key },
            CallOptions.WithTimeout(TimeSpan.FromSeconds(30)));

    static async Task<JsonElement> BonusAsync(string id) => (await Gate.GetAsync("/bonus/playerbonus/" + id, Operator)).Expect(HttpStatusCode.OK).Json
        .GetProperty("bonus");

    static JsonElement Freespin(JsonElement bonus) => bonus.GetProperty("bonus_data").GetProperty("Freespins").GetProperty("freespin_type");

    [Test]
    public async Task A_template_an_instance_and_an_award_give_each_player_a_bonus_that_expires_after_the_templates_lifetime()
    {
        var brand = Brands.Next();
        var template = (await Gate.PostAsync("/bonus/templates", Operator, new
        {
            name = "10 Freebets @ €0.10", operator_id = Servers.Operator, brand_id = brand,
            freespin_type = new { type = "FixedFreeSpins", count = 10, currency = "EUR", value = 0.1 }, expires_after_ms = 86_400_000,
        })).Expect(HttpStatusCode.Created).Json;
        var instance = (await Gate.PostAsync("/bonus/instances", Operator, new
        {
            name = "Weekend", operator_id = Servers.Operator, brand_id = brand, template_id = template.GetProperty("id").GetString(),
            available_for = new[] { new { provider_id = "thrillsuite", game_ids = new[] { "slots" } } }, timestamp_start = 0, timestamp_end = 0,
        })).Expect(HttpStatusCode.Created).Json;
        var (p1, p2) = (NewPlayer(), NewPlayer());
        var before = BonusFieldsNow();
        var awarded = (await Gate.PostAsync("/bonus/freespins/add", Operator, new
        {
            request_id = Guid.NewGuid().ToString(), instance_id = instance.GetProperty("id").GetString(), operator_id = Servers.Operator, brand_id = brand,
            players = new[] { p1, p2 }, promo_id = "promo-7",
        })).Expect(HttpStatusCode.OK).Json;

        var listed = (await Gate.GetAsync($"/bonus/instances?operator_id={Servers.Operator}&brand_id={brand}&sort_field=name&sort_direction=1&page=1&limit=10",
            Operator)).Expect(HttpStatusCode.OK).Json;
        var added = await Events.WaitAsync<PlayerBonusAdded>(e => e.PlayerId == p2 && e.BrandId == brand, "PlayerBonusAdded for p2");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(template.GetProperty("freespin_type").GetProperty("type").GetString(), Is.EqualTo("FixedFreeSpins"));
            Assert.That(template.GetProperty("created_by").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(instance.GetProperty("expires_after_ms").GetInt64(), Is.EqualTo(86_400_000), "inherited from the template");
            Assert.That(awarded.GetArrayLength(), Is.EqualTo(2));
            var first = awarded[0];
            Assert.That(first.GetProperty("promo_id").GetString(), Is.EqualTo("promo-7"));
            Assert.That(first.GetProperty("state").GetString(), Is.EqualTo("Available"));
            Assert.That(first.GetProperty("bonus_instance_id").GetString(), Is.EqualTo(instance.GetProperty("id").GetString()));
            Assert.That(Freespin(first).GetProperty("type").GetString(), Is.EqualTo("PlayerFixedFreeSpins"));
            Assert.That((Freespin(first).GetProperty("count").GetInt32(), Freespin(first).GetProperty("used").GetInt32()), Is.EqualTo((10, 0)));
            Assert.That(first.GetProperty("timestamp_bonus_expires").GetInt64() - first.GetProperty("timestamp_bonus_awarded").GetInt64(),
                Is.EqualTo(86_400_000));
            Assert.That(first.GetProperty("timestamp_bonus_awarded").GetInt64(), Is.GreaterThanOrEqualTo(before - 5000));
            Assert.That(listed.GetArrayLength(), Is.EqualTo(1));
            Assert.That(listed[0].GetProperty("available_for")[0].GetProperty("game_ids")[0].GetString(), Is.EqualTo("slots"));
            Assert.That(added.Data.AvailableFor.Single().ProviderId, Is.EqualTo("thrillsuite"));
            Assert.That(added.Data.BonusData["Freespins"].FreespinType.Count, Is.EqualTo(10));
        }
        var audit = (await Gate.GetAsync("/thrillgate/audit?resource_type=bonus_award", Operator)).Text;
        Assert.That(audit, Does.Contain("player_bonus.award"));
    }

    static long BonusFieldsNow() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Test]
    public async Task The_instance_sample_spelling_and_amounts_as_strings_are_accepted()
    {
        var brand = Brands.Next();
        var template = (await Gate.PostAsync("/bonus/templates", Operator, new
        {
            name = "€1.50", operator_id = Servers.Operator, brand_id = brand, freespin_type = new { type = "Variable", currency = "EUR", amount = "1.50" },
            expires_after_ms = "0",
        })).Expect(HttpStatusCode.Created).Json;
        var bonus = await DirectAsync(brand, [NewPlayer()], new { type = "Fixed", count = "3", currency = "EUR", value = "0.25" });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(template.GetProperty("freespin_type").GetProperty("type").GetString(), Is.EqualTo("VariableFreeSpins"), "emitted in the template spelling");
            Assert.That(template.GetProperty("freespin_type").GetProperty("amount").GetDecimal(), Is.EqualTo(1.50m));
            Assert.That(Freespin(bonus[0]).GetProperty("value").GetDecimal(), Is.EqualTo(0.25m));
            Assert.That(Freespin(bonus[0]).GetProperty("count").GetInt32(), Is.EqualTo(3));
        }
    }

    [Test]
    public async Task Bad_input_is_a_400_naming_the_field_and_creates_nothing()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        object Body(object bonus, object? players = null, object? expires = null) => new
        {
            request_id = Guid.NewGuid().ToString(), operator_id = Servers.Operator, brand_id = brand, players = players ?? new[] { player },
            bonus_name = "x", bonus, timestamp_bonus_expires = expires ?? 0,
        };
        (await Gate.PostAsync("/bonus/playerbonus/create", Operator, Body(new { type = "Lottery", currency = "EUR", amount = 1 }))).ExpectInvalid("bonus.type");
        (await Gate.PostAsync("/bonus/playerbonus/create", Operator, Body(new { type = "FixedFreeSpins", count = 0, currency = "EUR", value = 0.1 })))
            .ExpectInvalid("bonus.count");
        (await Gate.PostAsync("/bonus/playerbonus/create", Operator, Body(new { type = "FixedFreeSpins", count = 2.5, currency = "EUR", value = 0.1 })))
            .ExpectInvalid("bonus.count");
        (await Gate.PostAsync("/bonus/playerbonus/create", Operator, Body(new { type = "VariableFreeSpins", currency = "EUR", amount = "-1" })))
            .ExpectInvalid("bonus.amount");
        (await Gate.PostAsync("/bonus/playerbonus/create", Operator, Body(new { type = "VariableFreeSpins", currency = "eur", amount = 1 })))
            .ExpectInvalid("bonus.currency");
        (await Gate.PostAsync("/bonus/playerbonus/create", Operator, Body(new { type = "VariableFreeSpins", currency = "EUR", amount = 1 }, players: Array.Empty<string>())))
            .ExpectInvalid("players");
        (await Gate.PostAsync("/bonus/playerbonus/create", Operator, Body(new { type = "VariableFreeSpins", currency = "EUR", amount = 1 }, expires: 1000)))
            .ExpectInvalid("timestamp_bonus_expires");
        (await Gate.PostAsync("/bonus/templates", Operator, new { name = "t", operator_id = Servers.Operator, brand_id = brand, expires_after_ms = 0 }))
            .ExpectInvalid("freespin_type");
        (await Gate.PostAsync("/bonus/instances", Operator, new { name = "i", operator_id = Servers.Operator, brand_id = brand, template_id = Guid.NewGuid() }))
            .ExpectInvalid("template_id");
        (await Gate.PostAsync("/bonus/freespins/add", Operator, new
        {
            request_id = "r1", instance_id = Guid.NewGuid(), operator_id = Servers.Operator, brand_id = brand, players = new[] { player },
        })).ExpectInvalid("instance_id");
        (await Gate.GetAsync($"/bonus/playerbonus?operator_id={Servers.Operator}&brand_id={brand}&sort_direction=2", Operator)).ExpectInvalid("sort_direction");
        (await Gate.GetAsync($"/bonus/playerbonus?operator_id={Servers.Operator}&brand_id={brand}&sort_field=colour", Operator)).ExpectInvalid("sort_field");
        (await Gate.GetAsync($"/bonus/playerbonus?operator_id={Servers.Operator}&brand_id={brand}&limit=0", Operator)).ExpectInvalid("limit");

        var none = (await Gate.GetAsync($"/bonus/playerbonus?operator_id={Servers.Operator}&brand_id={brand}", Operator)).Expect(HttpStatusCode.OK).Json;
        Assert.That(none.GetArrayLength(), Is.Zero);
        // The refused instance award left its request_id free.
        var template = (await Gate.PostAsync("/bonus/templates", Operator, new
        {
            name = "t", operator_id = Servers.Operator, brand_id = brand, freespin_type = new { type = "FixedFreeSpins", count = 1, currency = "EUR", value = 1 },
        })).Expect(HttpStatusCode.Created).Json;
        var instance = (await Gate.PostAsync("/bonus/instances", Operator, new
        {
            name = "i", operator_id = Servers.Operator, brand_id = brand, template_id = template.GetProperty("id").GetString(),
        })).Expect(HttpStatusCode.Created).Json;
        (await Gate.PostAsync("/bonus/freespins/add", Operator, new
        {
            request_id = "r1", instance_id = instance.GetProperty("id").GetString(), operator_id = Servers.Operator, brand_id = brand, players = new[] { player },
        })).Expect(HttpStatusCode.OK);
    }

    [Test]
    public async Task Owners_are_checked()
    {
        var brand = Brands.Next();
        var body = new
        {
            request_id = Guid.NewGuid().ToString(), operator_id = Servers.Operator, brand_id = brand, players = new[] { NewPlayer() }, bonus_name = "x",
            bonus = new { type = "VariableFreeSpins", currency = "EUR", amount = 1 },
        };
        (await Gate.PostAsync("/bonus/playerbonus/create", Servers.OperatorB, body)).ExpectProblem(HttpStatusCode.Forbidden);
        (await Gate.PostAsync("/bonus/playerbonus/create", Servers.ReadOnlyA, body)).ExpectProblem(HttpStatusCode.Forbidden);
        (await Gate.PostAsync("/bonus/playerbonus/create", null, body)).Expect(HttpStatusCode.Unauthorized);
        var created = await DirectAsync(brand, [NewPlayer()], new { type = "VariableFreeSpins", currency = "EUR", amount = 1 });
        (await Gate.DeleteAsync("/bonus/playerbonus/" + created[0].GetProperty("id").GetString(), Servers.OperatorB)).ExpectProblem(HttpStatusCode.Forbidden);
        (await Gate.GetAsync($"/bonus/playerbonus?operator_id={Servers.Operator}&brand_id={brand}", Servers.OperatorB)).ExpectProblem(HttpStatusCode.Forbidden);
        Assert.That((await BonusAsync(created[0].GetProperty("id").GetString()!)).GetProperty("state").GetString(), Is.EqualTo("Available"));
    }

    [Test]
    public async Task A_replayed_request_id_returns_the_first_answer_and_awards_nothing_more_and_other_content_is_409()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        var requestId = Guid.NewGuid().ToString();
        var bonus = new { type = "FixedFreeSpins", count = 15, currency = "EUR", value = 0.25 };
        var replies = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => DirectAsync(brand, [player], bonus, requestId: requestId, promo: "p")));
        var other = await Gate.PostAsync("/bonus/playerbonus/create", Operator, new
        {
            request_id = requestId, operator_id = Servers.Operator, brand_id = brand, players = new[] { player }, bonus_name = "Dynamic",
            bonus = new { type = "FixedFreeSpins", count = 16, currency = "EUR", value = 0.25 }, promo_id = "p",
        });
        var all = (await Gate.GetAsync($"/bonus/playerbonus?operator_id={Servers.Operator}&brand_id={brand}&player_id={player}", Operator))
            .Expect(HttpStatusCode.OK).Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Select(r => r[0].GetProperty("id").GetString()).Distinct().Count(), Is.EqualTo(1));
            Assert.That(all.GetArrayLength(), Is.EqualTo(1));
            other.ExpectProblem(HttpStatusCode.Conflict);
        }
    }

    [Test]
    public async Task Fixed_bonus_funds_count_contributions_at_its_value_whatever_the_opt_in_then_is_consumed()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        var bonus = (await DirectAsync(brand, [player], new { type = "FixedFreeSpins", count = 3, currency = "EUR", value = 0.1 }))[0];
        var replies = new List<Proto.FreeBetReply>();
        for (var i = 0; i < 4; i++) replies.Add(await ConsumeAsync(brand, player, $"{player}-{i}", 0.5m));
        var consumed = await Events.WaitAsync<PlayerBonusConsumed>(e => e.PlayerId == player, "PlayerBonusConsumed");
        var state = await BonusAsync(bonus.GetProperty("id").GetString()!);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Take(3).Select(r => (r.Funded, r.Amount, r.BonusType)), Is.All.EqualTo((true, "0.1", "Fixed")));
            Assert.That(replies[3].Funded, Is.False);
            Assert.That(state.GetProperty("state").GetString(), Is.EqualTo("Consumed"));
            Assert.That(Freespin(state).GetProperty("used").GetInt32(), Is.EqualTo(3));
            Assert.That(consumed.Data.TimestampBonusConsumed, Is.Not.Null);
            Assert.That(Events.All<PlayerBonusUpdated>().Count(e => e.PlayerId == player), Is.EqualTo(3).Or.LessThan(3), "at most one per use");
        }
    }

    [Test]
    public async Task Variable_bonus_of_150_at_20_funds_seven_of_20_and_one_of_10_as_in_the_spec()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        await DirectAsync(brand, [player], new { type = "VariableFreeSpins", currency = "EUR", amount = 1.50 });
        var amounts = new List<string>();
        for (var i = 0; i < 9; i++)
        {
            var r = await ConsumeAsync(brand, player, $"{player}-{i}", 0.20m);
            amounts.Add(r.Funded ? r.Amount : "-");
        }
        Assert.That(amounts.Select(a => a == "-" ? -1m : decimal.Parse(a, CultureInfo.InvariantCulture)),
            Is.EqualTo(new[] { 0.2m, 0.2m, 0.2m, 0.2m, 0.2m, 0.2m, 0.2m, 0.1m, -1m }));
    }

    [Test]
    public async Task A_retried_contribution_key_returns_the_same_consumption_and_a_release_gives_the_use_back()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        var bonus = (await DirectAsync(brand, [player], new { type = "FixedFreeSpins", count = 1, currency = "EUR", value = 0.3 }))[0];
        var id = bonus.GetProperty("id").GetString()!;
        var first = await ConsumeAsync(brand, player, "k1", 1m);
        var again = await ConsumeAsync(brand, player, "k1", 1m);
        var other = await ConsumeAsync(brand, player, "k2", 1m);
        var consumedState = (await BonusAsync(id)).GetProperty("state").GetString();
        var released = await ReleaseAsync("k1");
        var releasedTwice = await ReleaseAsync("k1");
        var afterRelease = await BonusAsync(id);
        var retried = await ConsumeAsync(brand, player, "k1", 1m);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((first.Funded, first.BonusId, first.Amount), Is.EqualTo((true, id, "0.3")));
            Assert.That((again.Funded, again.BonusId, again.Amount), Is.EqualTo((true, id, "0.3")));
            Assert.That(other.Funded, Is.False, "the retry did not take a second use");
            Assert.That(consumedState, Is.EqualTo("Consumed"));
            Assert.That((released.Released, releasedTwice.Released), Is.EqualTo((true, false)));
            Assert.That(afterRelease.GetProperty("state").GetString(), Is.EqualTo("Available"));
            Assert.That(Freespin(afterRelease).GetProperty("used").GetInt32(), Is.Zero);
            Assert.That(retried.Funded, Is.True);
        }
    }

    [Test]
    public async Task Concurrent_consumptions_of_one_player_never_overspend()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        await DirectAsync(brand, [player], new { type = "VariableFreeSpins", currency = "EUR", amount = 1.00 });
        await DirectAsync(brand, [player], new { type = "FixedFreeSpins", count = 5, currency = "EUR", value = 0.05 });
        var replies = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => ConsumeAsync(brand, player, $"{player}-{i}", 0.15m)));
        var funded = replies.Where(r => r.Funded).ToList();
        var bonuses = (await Gate.GetAsync($"/bonus/playerbonus?operator_id={Servers.Operator}&brand_id={brand}&player_id={player}", Operator))
            .Expect(HttpStatusCode.OK).Json;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(funded.Where(r => r.BonusType == "Variable").Sum(r => decimal.Parse(r.Amount, CultureInfo.InvariantCulture)), Is.EqualTo(1.00m));
            Assert.That(funded.Count(r => r.BonusType == "Fixed"), Is.EqualTo(5));
            Assert.That(bonuses.EnumerateArray().Select(b => b.GetProperty("bonus").GetProperty("state").GetString()), Is.All.EqualTo("Consumed"));
        }
    }

    [Test]
    public async Task Only_bonuses_for_the_provider_and_game_and_currency_fund_a_contribution()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        await DirectAsync(brand, [player], new { type = "FixedFreeSpins", count = 5, currency = "EUR", value = 0.1 },
            availableFor: new[] { new { provider_id = "thrillsuite", game_ids = new[] { "roulette" } } });
        using (Assert.EnterMultipleScope())
        {
            Assert.That((await ConsumeAsync(brand, player, "a", 1m, game: "slots")).Funded, Is.False);
            Assert.That((await ConsumeAsync(brand, player, "b", 1m, provider: "other", game: "roulette")).Funded, Is.False);
            Assert.That((await ConsumeAsync(brand, player, "c", 1m, currency: "USD", game: "roulette")).Funded, Is.False);
            Assert.That((await ConsumeAsync(brand, player, "d", 1m, game: "roulette")).Funded, Is.True);
        }
    }

    [Test]
    public async Task A_removed_bonus_funds_nothing_more_and_publishes_removed()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        var id = (await DirectAsync(brand, [player], new { type = "FixedFreeSpins", count = 5, currency = "EUR", value = 0.1 }))[0].GetProperty("id").GetString()!;
        var used = await ConsumeAsync(brand, player, player + "-1", 1m);
        var removed = (await Gate.DeleteAsync("/bonus/playerbonus/" + id, Operator)).Expect(HttpStatusCode.OK).Json;
        var after = await ConsumeAsync(brand, player, player + "-2", 1m);
        var again = await Gate.DeleteAsync("/bonus/playerbonus/" + id, Operator);
        var published = await Events.WaitAsync<PlayerBonusRemoved>(e => e.PlayerId == player, "PlayerBonusRemoved");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(used.Funded, Is.True);
            Assert.That(removed.GetProperty("state").GetString(), Is.EqualTo("Removed"));
            Assert.That(after.Funded, Is.False);
            again.ExpectProblem(HttpStatusCode.Conflict);
            Assert.That(published.Data.BonusData["Freespins"].FreespinType.Used, Is.EqualTo(1));
        }
        Assert.That((await Gate.GetAsync("/thrillgate/audit?resource_type=player_bonus", Operator)).Text, Does.Contain("player_bonus.remove"));
    }

    [Test]
    public async Task A_bonus_expires_at_its_time_publishes_expired_and_funds_nothing_more()
    {
        var brand = Brands.Next();
        var player = NewPlayer();
        var expires = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 10_000;
        var id = (await DirectAsync(brand, [player], new { type = "VariableFreeSpins", currency = "EUR", amount = 5 }, expires: expires))[0]
            .GetProperty("id").GetString()!;
        var before = await ConsumeAsync(brand, player, player + "-1", 1m);
        var expired = await Events.WaitAsync<PlayerBonusExpired>(e => e.PlayerId == player, "PlayerBonusExpired");
        var after = await ConsumeAsync(brand, player, player + "-2", 1m);
        var state = await BonusAsync(id);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(before.Funded, Is.True);
            Assert.That(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Is.GreaterThanOrEqualTo(expires), "not expired early");
            Assert.That(expired.Data.State, Is.EqualTo("Expired"));
            Assert.That(expired.Data.BonusData["Freespins"].FreespinType.AmountUsed, Is.EqualTo(1m));
            Assert.That(after.Funded, Is.False);
            Assert.That(state.GetProperty("state").GetString(), Is.EqualTo("Expired"));
        }
    }
}
