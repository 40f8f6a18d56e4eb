using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace ThrillSuite.EndToEnd;

/// <summary>
/// The demo widget page in headless Debian Chromium against the running suite, set up as the local run sets itself up:
/// build/demo-data seeds the demo operator, players, jackpots, wallet and CORS through the edge, build/demo-load plays
/// contributions through the operator API, and the page (served by ThrillConnect at /demo/ through the edge) is expected to
/// connect, tick, opt the player in and announce wins. A screenshot is kept with the test logs.
/// </summary>
[NonParallelizable]
public sealed class DemoPageTests
{
    const string Chromium = "/usr/bin/chromium";
    static readonly float Timeout = 60_000;
    string state = null!;
    Process? load;

    [OneTimeSetUp]
    public async Task SeedAsync()
    {
        Assert.That(File.Exists(Chromium), Is.True, $"{Chromium} (Debian's chromium; build/test installs it)");
        Assert.That(File.Exists(Path.Combine(TestEnvironment.RepoRoot, "clients", "thrillconnect-js", "dist", "thrillconnect.js")), Is.True,
            "the JavaScript client is built (build/test builds clients/thrillconnect-js before the .NET tests)");
        state = Directory.CreateTempSubdirectory("thrillsuite-demo-").FullName;
        await File.WriteAllTextAsync(Path.Combine(state, "secrets.env"), $"WALLET_SECRET={Suite.WalletSecret}\n");
        var seed = await ChildProcess.RunAsync(Script("demo-data"), TimeSpan.FromMinutes(2));
        Assert.That(seed.ExitCode, Is.Zero, seed.Describe());
        Assert.That(seed.Stderr, Does.Contain("Demo VIP Boost").And.Contain("demo widget at"), "demo-data created the jackpots and the CORS rule");
        var again = await ChildProcess.RunAsync(Script("demo-data"), TimeSpan.FromMinutes(2));
        Assert.That(again.ExitCode, Is.Zero, again.Describe());
        Assert.That(again.Stderr, Does.Not.Contain("created").And.Not.Contain("demo jackpot"), "a second run leaves everything as it was");

        var psi = Script("demo-load");
        psi.Environment["THRILLSUITE_DEMO_LOAD_INTERVAL"] = "0.1";
        load = Process.Start(psi);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (load is not null) await ChildProcess.KillAsync(load);
        load?.Dispose();
        if (state is not null) Directory.Delete(state, recursive: true);
    }

    [Test]
    public async Task The_demo_page_ticks_opts_the_player_in_and_announces_wins()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 800 } });
        var problems = new List<string>();
        page.PageError += (_, e) => problems.Add("page error: " + e);
        page.Console += (_, m) => { if (m.Type == "error") problems.Add("console error: " + m.Text); };
        try
        {
            var response = await page.GotoAsync($"{Suite.Edge}/demo/");
            Assert.That(response?.Status, Is.EqualTo(200), "the edge serves the demo page");

            await Assertions.Expect(page.GetByTestId("status")).ToHaveAttributeAsync("data-status", "open", new() { Timeout = Timeout });
            var quickHit = page.GetByTestId("jackpot-sitewide-casino");
            await Assertions.Expect(quickHit.GetByTestId("jackpot-name")).ToHaveTextAsync("Demo Quick Hit", new() { Timeout = Timeout });
            await Assertions.Expect(page.GetByTestId("jackpot-live-casino").GetByTestId("jackpot-name")).ToHaveTextAsync("Demo Must Drop");
            var vip = page.GetByTestId("jackpot-vip-slots");
            await Assertions.Expect(vip.GetByTestId("jackpot-name")).ToHaveTextAsync("Demo VIP Boost");

            // The pots tick: a pot's value changes while the page is open (the demo load contributes several times a second).
            var pot = quickHit.GetByTestId("pot-mega");
            await Assertions.Expect(pot).ToHaveTextAsync(new Regex(@"€\s?[\d,]+\.\d\d"), new() { Timeout = Timeout });
            var first = await pot.TextContentAsync();
            await Assertions.Expect(pot).Not.ToHaveTextAsync(first!, new() { Timeout = Timeout });

            // Opt in to the opt-in-only jackpot: the switch sends PlayerOptInRequest; the page shows it confirmed by the server.
            var toggle = vip.GetByTestId("optin-toggle");
            await Assertions.Expect(toggle).ToBeEnabledAsync(new() { Timeout = Timeout });
            await Assertions.Expect(vip.GetByTestId("optin-state")).ToHaveAttributeAsync("data-state", "out");
            await toggle.ClickAsync();
            await Assertions.Expect(vip.GetByTestId("optin-state")).ToHaveAttributeAsync("data-state", "in", new() { Timeout = Timeout });
            await Assertions.Expect(vip.GetByTestId("optin-error")).ToBeHiddenAsync();
            // Confirmed by ThrillPots itself, not only by the page: the REST read of the player's state says so.
            using (var http = new HttpClient())
            {
                var doc = await http.GetStringAsync($"{Suite.Edge}/v1/thrillpots/instances/source/vip-slots/brand/demo_operator:demo_brand?player_id=demo_player_1");
                Assert.That(System.Text.Json.JsonDocument.Parse(doc).RootElement.GetProperty("opt_in").GetProperty("opted_in").GetBoolean(), Is.True, doc);
            }

            // Wins of the brand are announced (the minor pot hits about once in 50 contributions).
            await Assertions.Expect(page.GetByTestId("wins").Locator("li").First).ToContainTextAsync("won the", new() { Timeout = 120_000 });

            await page.ScreenshotAsync(new PageScreenshotOptions { Path = ScreenshotPath(), FullPage = true });
            Assert.That(problems, Is.Empty, "no script errors on the page");
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = ScreenshotPath("failed-"), FullPage = true });
            throw;
        }
    }

    /// <summary>Kept with the test logs (build/test prints where) or in the test's output directory.</summary>
    static string ScreenshotPath(string prefix = "")
    {
        var dir = Environment.GetEnvironmentVariable("THRILLSUITE_TEST_STATE_DIR") is { Length: > 0 } s
            ? Path.Combine(s, "logs") : TestContext.CurrentContext.WorkDirectory;
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"{prefix}demo-page.png");
        TestContext.Out.WriteLine($"screenshot: {path}");
        return path;
    }

    ProcessStartInfo Script(string name)
    {
        var psi = new ProcessStartInfo(Path.Combine(TestEnvironment.RepoRoot, "build", name));
        psi.Environment["THRILLSUITE_EDGE_URL"] = Suite.Edge;
        psi.Environment["THRILLSUITE_STATE_DIR"] = state;
        psi.Environment["THRILLSUITE_ADMIN_USER"] = Suite.AdminUser;
        psi.Environment["THRILLSUITE_ADMIN_PASSWORD"] = Suite.AdminPassword;
        psi.Environment["THRILLSUITE_WALLET_URL"] = Suite.Processes["ReferenceWallet"].BaseUrl;
        psi.Environment["THRILLSUITE_WALLET_ADMIN_TOKEN"] = Suite.WalletAdminToken;
        return psi;
    }
}
