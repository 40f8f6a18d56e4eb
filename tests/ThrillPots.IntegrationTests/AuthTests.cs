namespace ThrillPots.IntegrationTests;

/// <summary>401 without a valid token, 403 with one that lacks the permission — never the other way round.</summary>
public class AuthTests
{
    static readonly object[] Endpoints =
    [
        new object[] { "GET", "/config/operators" }, new object[] { "POST", "/config/operators" }, new object[] { "GET", "/config/operators/tpa" },
        new object[] { "POST", "/config/operators/tpa/brands" }, new object[] { "POST", "/config/operators/tpa/disable" },
        new object[] { "POST", "/config/sources" }, new object[] { "GET", "/config/sources" }, new object[] { "GET", "/config/sources/s1" },
        new object[] { "POST", "/config/sources/assignjackpot" }, new object[] { "POST", "/config/sources/unassignjackpot" },
        new object[] { "GET", "/config/currencies" }, new object[] { "PUT", "/config/currencies" },
        new object[] { "GET", "/config/currencies/brands/tpa:b1" }, new object[] { "PUT", "/config/currencies/brands/tpa:b1" },
        new object[] { "POST", "/templates" }, new object[] { "GET", "/templates" }, new object[] { "GET", $"/templates/{Guid.Empty}" },
        new object[] { "PUT", $"/templates/{Guid.Empty}" }, new object[] { "POST", $"/templates/{Guid.Empty}/publish" },
        new object[] { "POST", "/templates/instantiate" }, new object[] { "GET", "/instances" }, new object[] { "GET", $"/instances/{Guid.Empty}" },
        new object[] { "POST", $"/instances/{Guid.Empty}/state" }, new object[] { "GET", "/audit" },
    ];

    [TestCaseSource(nameof(Endpoints))]
    public async Task No_token_is_401_with_a_challenge(string method, string path)
    {
        var reply = await Servers.Pots.SendAsync(new HttpMethod(method), path, null, method == "GET" ? null : new { });
        reply.ExpectProblem(HttpStatusCode.Unauthorized);
        Assert.That(reply.WwwAuthenticate, Does.StartWith("Bearer"));
        (await Servers.Pots.SendAsync(new HttpMethod(method), path, "not-a-jwt", method == "GET" ? null : new { })).ExpectProblem(HttpStatusCode.Unauthorized);
    }

    [TestCaseSource(nameof(Endpoints))]
    public async Task A_token_without_the_permission_is_403(string method, string path)
    {
        var token = method == "GET" ? Servers.NoPermissionA : Servers.ReadOnlyA;
        (await Servers.Pots.SendAsync(new HttpMethod(method), path, token, method == "GET" ? null : new { })).ExpectForbidden();
    }

    [Test]
    public async Task Read_permission_reads()
    {
        (await Servers.Pots.GetAsync("/config/operators/tpa", Servers.ReadOnlyA)).Expect(HttpStatusCode.OK);
        (await Servers.Pots.GetAsync("/templates", Servers.ReadOnlyA)).Expect(HttpStatusCode.OK);
    }
}
