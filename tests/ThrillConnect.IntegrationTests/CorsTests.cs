namespace ThrillConnect.IntegrationTests;

/// <summary>
/// Each brand's origin allow-list, set through the CORS admin API (README "REST", spec §2.2), governs both the REST reads'
/// Access-Control-Allow-Origin and the WebSocket Origin check. Every test allows origins of its own, so lists can grow freely.
/// </summary>
public class CorsTests
{
    static Api Connect => Servers.Connect;

    static string NewOrigin() => $"https://{Guid.NewGuid():N}.casino.example";

    static async Task AllowAsync(string brand, string pattern, string mode = "Exact") =>
        (await Connect.PutAsync($"/admin/cors/{brand}", Servers.OperatorA, new { cors_origin_list = new[] { new { pattern, match_mode = mode } } }))
            .Expect(HttpStatusCode.OK);

    [TestCase("/v1/currencies?brand_id=cna:a1", HttpStatusCode.OK)]
    [TestCase("/v1/thrillpots/sources?owner_id=cna:a1", HttpStatusCode.OK)]
    [TestCase("/v1/thrillpots/instances/source/no-such-source/brand/cna:a1", HttpStatusCode.NotFound)]
    public async Task A_REST_read_about_a_brand_allows_exactly_the_origins_on_that_brands_list(string path, HttpStatusCode status)
    {
        var origin = NewOrigin();
        await AllowAsync("cna:a1", origin);

        var allowed = (await Connect.GetAsync(path, origin: origin)).Expect(status);
        Assert.That(allowed.Header("Access-Control-Allow-Origin"), Is.EqualTo(origin));
        Assert.That(allowed.Header("Vary"), Does.Contain("Origin"), "a cache must not serve one origin's answer to another");
        var stranger = (await Connect.GetAsync(path, origin: NewOrigin())).Expect(status);
        Assert.That(stranger.Header("Access-Control-Allow-Origin"), Is.Null, "the answer is served, but the browser withholds it");
        var otherBrand = (await Connect.GetAsync(path.Replace("cna:a1", "cna:a2"), origin: origin)).Expect(status);
        Assert.That(otherBrand.Header("Access-Control-Allow-Origin"), Is.Null, "a1's list says nothing about a2");
    }

    [TestCase("Prefix", "https://{id}.", "https://{id}.shop.example", true)]
    [TestCase("Prefix", "https://{id}.", "http://{id}.shop.example", false)]
    [TestCase("Suffix", ".{id}.example", "https://www.{id}.example", true)]
    [TestCase("Suffix", ".{id}.example", "https://www.{id}.example.evil", false)]
    [TestCase("Regex", "^https://(www|m)\\.{id}\\.example$", "https://m.{id}.example", true)]
    [TestCase("Regex", "^https://(www|m)\\.{id}\\.example$", "https://api.{id}.example", false)]
    [TestCase("Exact", "https://{id}.example", "HTTPS://{ID}.EXAMPLE", true)]
    public async Task Each_match_mode_matches_as_documented(string mode, string pattern, string origin, bool allowed)
    {
        var id = Guid.NewGuid().ToString("N");
        await AllowAsync("cna:a1", pattern.Replace("{id}", id), mode);
        var reply = (await Connect.GetAsync("/v1/currencies?brand_id=cna:a1", origin: origin.Replace("{id}", id).Replace("{ID}", id.ToUpperInvariant())))
            .Expect(HttpStatusCode.OK);
        Assert.That(reply.Header("Access-Control-Allow-Origin") is not null, Is.EqualTo(allowed), reply.Header("Access-Control-Allow-Origin"));
    }

    [Test]
    public async Task A_removed_origin_is_refused_at_once()
    {
        var (kept, removed) = (NewOrigin(), NewOrigin());
        await AllowAsync("cna:a1", kept);
        await AllowAsync("cna:a1", removed);
        Assert.That((await Connect.GetAsync("/v1/currencies?brand_id=cna:a1", origin: removed)).Header("Access-Control-Allow-Origin"), Is.EqualTo(removed));

        var after = (await Connect.DeleteAsync("/admin/cors/cna:a1", Servers.OperatorA, new { cors_origin_list = new[] { removed } })).Expect(HttpStatusCode.OK).Json;
        Assert.That(after.GetProperty("removed").GetInt32(), Is.EqualTo(1));
        var patterns = after.GetProperty("cors_origin_list").EnumerateArray().Select(r => r.GetProperty("pattern").GetString()).ToList();
        Assert.That(patterns, Does.Contain(kept).And.No.Contain(removed));
        Assert.That((await Connect.GetAsync("/v1/currencies?brand_id=cna:a1", origin: removed)).Header("Access-Control-Allow-Origin"), Is.Null);
        Assert.That((await Connect.GetAsync("/v1/currencies?brand_id=cna:a1", origin: kept)).Header("Access-Control-Allow-Origin"), Is.EqualTo(kept));
    }

    [Test]
    public async Task A_preflight_from_an_allowed_origin_is_answered_and_from_another_is_not()
    {
        var origin = NewOrigin();
        await AllowAsync("cna:a1", origin);
        async Task<HttpResponseMessage> PreflightAsync(string from)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "/v1/currencies?brand_id=cna:a1");
            request.Headers.Add("Origin", from);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            request.Headers.Add("Access-Control-Request-Headers", "traceparent");
            return await Connect.Http.SendAsync(request);
        }
        static string? Header(HttpResponseMessage r, string name) => r.Headers.TryGetValues(name, out var v) ? string.Join(", ", v) : null;

        using var allowed = await PreflightAsync(origin);
        Assert.That(allowed.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Header(allowed, "Access-Control-Allow-Origin"), Is.EqualTo(origin));
        Assert.That(Header(allowed, "Access-Control-Allow-Methods"), Is.EqualTo("GET"));
        Assert.That(Header(allowed, "Access-Control-Allow-Headers"), Is.EqualTo("traceparent"));
        using var stranger = await PreflightAsync(NewOrigin());
        Assert.That(Header(stranger, "Access-Control-Allow-Origin"), Is.Null, "the browser then never sends the read");
    }

    [Test]
    public async Task The_admin_API_needs_the_cors_permission_for_the_brand()
    {
        var body = new { cors_origin_list = new[] { new { pattern = NewOrigin(), match_mode = "Exact" } } };
        (await Connect.PutAsync("/admin/cors/cna:a1", null, body)).Expect(HttpStatusCode.Unauthorized);
        (await Connect.PutAsync("/admin/cors/cna:a1", Servers.CorsReaderA, body)).Expect(HttpStatusCode.Forbidden);
        (await Connect.GetAsync("/admin/cors/cna:a1", Servers.CorsReaderA)).Expect(HttpStatusCode.OK);
        (await Connect.GetAsync("/admin/cors/cna:a1", Servers.NoPermissionA)).Expect(HttpStatusCode.Forbidden);
        (await Connect.PutAsync("/admin/cors/cna:a1", Servers.OperatorB, body)).Expect(HttpStatusCode.Forbidden);
        (await Connect.PutAsync("/admin/cors/cna:a2", Servers.BrandA1, body)).Expect(HttpStatusCode.Forbidden);
        (await Connect.PutAsync("/admin/cors/cna:a1", Servers.BrandA1, body)).Expect(HttpStatusCode.OK);
        (await Connect.PutAsync("/admin/cors/cna:a1", Servers.OperatorA, new { cors_origin_list = new[] { new { pattern = "(", match_mode = "Regex" } } }))
            .ExpectInvalid("cors_origin_list[0].pattern");
    }

    [Test]
    public async Task A_browser_socket_from_an_origin_off_the_brands_list_is_closed_4403()
    {
        var origin = NewOrigin();
        await AllowAsync("cna:a1", origin);
        var p = await Servers.PlayerAsync("cna:a1");
        var stranger = NewOrigin();

        await using (var refused = await Ws.PlayerAsync(p, origin: stranger))
            Assert.That(await refused.ClosedAsync(), Is.EqualTo((4403, $"403 origin {stranger} is not allowed")));
        await using var accepted = await Ws.PlayerAsync(p, origin: origin);
        await accepted.SubscribeAsync("*");
        Assert.That(accepted.IsOpen);
    }

    [Test]
    public async Task A_service_socket_may_come_from_an_origin_on_any_of_its_brands_lists()
    {
        var (ofA2, ofB) = (NewOrigin(), NewOrigin());
        await AllowAsync("cna:a2", ofA2);
        (await Connect.PutAsync("/admin/cors/cnb:y1", Servers.OperatorB, new { cors_origin_list = new[] { new { pattern = ofB, match_mode = "Exact" } } }))
            .Expect(HttpStatusCode.OK);

        await using var accepted = await Ws.ServiceAsync(Servers.OperatorA, origin: ofA2);
        await accepted.SubscribeAsync("*");
        await using var refused = await Ws.ServiceAsync(Servers.OperatorA, origin: ofB);
        Assert.That((await refused.ClosedAsync()).Code, Is.EqualTo(4403), "cnb's origin is not one of cna's");
        await using var brandBound = await Ws.ServiceAsync(Servers.BrandA1, origin: ofA2);
        Assert.That((await brandBound.ClosedAsync()).Code, Is.EqualTo(4403), "a1's account reads no a2 list");
    }
}
