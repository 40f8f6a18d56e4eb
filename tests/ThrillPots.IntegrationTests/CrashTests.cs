using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Npgsql;

namespace ThrillPots.IntegrationTests;

/// <summary>
/// design.md §5 under a crash: ThrillPots is killed with SIGKILL in the middle of a stream of contributions, restarted on
/// the same database, and the client resends everything it got no answer for with the same keys. Every acknowledged
/// contribution must be in the ledger exactly once, every key applied once, and the pots must reconcile to the cent.
/// </summary>
[NonParallelizable]
public class CrashTests
{
    const int Keys = 4000, Workers = 24, KillAfter = 1200;

    [Test]
    public async Task Sigkill_mid_stream_loses_no_acknowledged_contribution_and_duplicates_none()
    {
        var connection = TestEnvironment.UniqueDatabase("potscrash", out var database);
        var (httpPort, grpcPort) = (TestEnvironment.FreePort(), TestEnvironment.FreePort());
        var pots = Servers.StartPots(httpPort, grpcPort, connection);
        try
        {
            await pots.WaitReadyAsync();
            using var api = new Api(new HttpClient { BaseAddress = new Uri(pots.BaseUrl) });
            await Servers.RegisterAsync(api);
            var instance = await CreateInstanceAsync(api);

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Workers }) { BaseAddress = new Uri(pots.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
            var acknowledged = new ConcurrentDictionary<int, Guid>();
            var unanswered = new ConcurrentBag<int>();
            var next = -1;
            var killed = 0;

            // The stream: workers take keys in order; once enough are acknowledged, the process is killed under them.
            var stream = Enumerable.Range(0, Workers).Select(async _ =>
            {
                int key;
                while ((key = Interlocked.Increment(ref next)) < Keys)
                {
                    var id = await SendAsync(http, instance, key);
                    if (id is { } contributionId) acknowledged[key] = contributionId;
                    else unanswered.Add(key);
                    if (acknowledged.Count >= KillAfter && Interlocked.Exchange(ref killed, 1) == 0) await pots.KillAsync();
                    if (pots.HasExited) break;
                }
            }).ToList();
            await Task.WhenAll(stream);
            Assert.That(pots.HasExited, Is.True, "the process was killed mid-stream");
            var acknowledgedBeforeCrash = acknowledged.ToDictionary();
            TestContext.Progress.WriteLine($"crash: {acknowledgedBeforeCrash.Count} acknowledged, {unanswered.Count} unanswered, {Keys - Math.Min(next, Keys)} never sent");

            pots = Servers.StartPots(httpPort, grpcPort, connection);
            await pots.WaitReadyAsync();
            // Tokens are checked against Thrill-ID's keys, which the new process fetches on first use: a client meeting a
            // 401 in that moment would not resend, so wait until the operator's token is accepted.
            await Eventually.TrueAsync(async () =>
            {
                using var probe = new HttpRequestMessage(HttpMethod.Get, $"/instances/{instance}/wins");
                probe.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Servers.OperatorA);
                using var answer = await http.SendAsync(probe);
                return answer.StatusCode != HttpStatusCode.Unauthorized;
            }, TimeSpan.FromSeconds(30), "the restarted ThrillPots to accept the operator's token");
            // Resend what got no answer and what was never sent, with the same keys and content.
            var failures = new ConcurrentBag<(int Key, string Why)>();
            var resend = unanswered.Concat(Enumerable.Range(Math.Min(next, Keys), Math.Max(0, Keys - next))).Distinct().ToList();
            // A client resends until it has an answer: the first attempt may still meet a connection of the killed process.
            await Parallel.ForEachAsync(resend, new ParallelOptions { MaxDegreeOfParallelism = Workers }, async (key, _) =>
            {
                for (var attempt = 0; attempt < 5 && !acknowledged.ContainsKey(key); attempt++)
                    if (await SendAsync(http, instance, key, failures) is { } id) acknowledged[key] = id;
                Assert.That(acknowledged.ContainsKey(key), $"key {key} got no answer after the restart: {string.Join(" | ", failures.Where(f => f.Key == key).Select(f => f.Why))}");
            });
            // A sample of what was acknowledged before the crash, resent, answers the very same contribution.
            foreach (var key in acknowledgedBeforeCrash.Keys.Take(50))
                Assert.That(await SendAsync(http, instance, key), Is.EqualTo(acknowledgedBeforeCrash[key]), $"key {key} resent after the crash");

            await using var c = new NpgsqlConnection(connection);
            var ledger = (await c.QueryAsync<(Guid Id, string Round)>("select id, gameround_id from contributions where instance_id = @instance",
                new { instance = Guid.Parse(instance) })).ToList();
            Assert.That(ledger, Has.Count.EqualTo(Keys), "every key applied exactly once");
            var ids = ledger.Select(l => l.Id).ToHashSet();
            Assert.That(acknowledgedBeforeCrash.Values.Where(id => !ids.Contains(id)), Is.Empty, "every contribution acknowledged before the crash is in the ledger");
            Assert.That(acknowledged.Values.Distinct().Count(), Is.EqualTo(Keys));
            Assert.That(acknowledged.Values.All(ids.Contains));

            var report = (await api.GetAsync($"/instances/{instance}/reconciliation", Servers.OperatorA)).Expect(HttpStatusCode.OK).Json;
            Assert.That(report.GetProperty("balanced").GetBoolean(), Is.True, report.ToString());
            Assert.That(report.GetProperty("ledger").GetProperty("contributions").GetInt64(), Is.EqualTo(Keys));
        }
        finally
        {
            await pots.DisposeAsync();
            await TestEnvironment.DropDatabaseAsync(database);
        }
    }

    static async Task<string> CreateInstanceAsync(Api api)
    {
        // Wins one time in fifty: the crash also lands among wins, their events and credit commands.
        var template = (await api.PostAsync("/templates", Servers.OperatorA, Jackpots.Template(magic: 50, dropMax: 103))).Expect(HttpStatusCode.Created)
            .Json.GetProperty("id").GetString();
        (await api.PostAsync($"/templates/{template}/publish", Servers.OperatorA)).Expect(HttpStatusCode.OK);
        return (await api.PostAsync("/templates/instantiate", Servers.OperatorA, new { template_id = template, owner_id = "tpa", allowed_brands = new[] { "tpa:b1" } }))
            .Expect(HttpStatusCode.Created).Json.GetProperty("id").GetString()!;
    }

    /// <summary>The contribution of one key (always the same content); its id when acknowledged, null when there was no answer.</summary>
    static async Task<Guid?> SendAsync(HttpClient http, string instance, int key, ConcurrentBag<(int, string)>? failures = null)
    {
        var currency = key % 3 == 0 ? "GBP" : "EUR";
        var body = $$$"""
            {"brand_id":"tpa:b1","player_id":"crash-p{{{key % 13}}}","instance_id":"{{{instance}}}","gameround_id":"crash-{{{key}}}",
             "currency":"{{{currency}}}","base_wager":{{{key % 7}}},"metadata":{"key":{{{key}}}}}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jackpots/contribute/instance") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Servers.OperatorA);
        try
        {
            using var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                failures?.Add((key, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}"));
                return null;
            }
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return Guid.Parse(json.RootElement.GetProperty("contribution_id").GetString()!);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            failures?.Add((key, ex.GetType().Name + ": " + ex.Message));
            return null;
        }
    }
}
