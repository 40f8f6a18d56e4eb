namespace ThrillPots.IntegrationTests;

public class AuditTests
{
    static Api Pots => Servers.Pots;

    [Test]
    public async Task Audit_rows_are_filtered_by_owner()
    {
        var theirs = (await Fixtures.InstanceAsync("tpb")).GetProperty("id").GetString()!;
        Assert.That((await Pots.GetAsync($"/audit?resource_id={theirs}", Servers.OperatorB)).Expect(HttpStatusCode.OK).Json.GetArrayLength(), Is.EqualTo(1));
        Assert.That((await Pots.GetAsync($"/audit?resource_id={theirs}", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json.GetArrayLength(), Is.Zero);
        var mine = (await Pots.GetAsync("/audit", Servers.ReadOnlyA)).Expect(HttpStatusCode.OK).Json;
        Assert.That(mine.EnumerateArray().Select(a => a.GetProperty("owner_id").GetString()), Is.All.StartsWith("tpa"));
        var b1 = (await Pots.GetAsync("/audit?limit=1000", Servers.BrandB1)).Expect(HttpStatusCode.OK).Json;
        Assert.That(b1.EnumerateArray().Select(a => a.GetProperty("owner_id").GetString()), Is.All.EqualTo("tpa:b1"));
        (await Pots.GetAsync("/audit?limit=0", Servers.ReadOnlyA)).ExpectInvalid("limit");
    }

    [Test]
    public async Task A_refused_change_writes_no_audit_row()
    {
        var id = (await Fixtures.InstanceAsync()).GetProperty("id").GetString()!;
        (await Pots.PostAsync($"/instances/{id}/state", Servers.OperatorA, new { state = "Pending" })).ExpectConflict();
        Assert.That((await Fixtures.AuditAsync(id)).Select(a => a.GetProperty("action").GetString()), Is.EqualTo(new[] { "instance.create" }));
    }
}
