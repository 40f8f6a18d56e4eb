using System.Text.RegularExpressions;

namespace ThrillSuite.Deployment.Tests;

/// <summary>The runtime settings a service's image carries are the ones build/up runs it with.</summary>
public partial class ImageTests
{
    [Test]
    public void Every_runtime_variable_an_image_sets_is_set_by_build_up_for_that_service()
    {
        var up = File.ReadAllText(Repo.At("build", "up"));
        var checkedAny = false;
        foreach (var service in Repo.Services())
        {
            var dockerfile = File.ReadAllText(Path.Combine(service.Directory, "Dockerfile"));
            // The service's own block of build/up's service_env: from "<alias>)" to its ";;".
            var block = Regex.Match(up, $@"^\s*{service.Alias}\)\s*$(?<body>.*?)^\s*;;", RegexOptions.Multiline | RegexOptions.Singleline);
            foreach (Match m in RuntimeVariable().Matches(dockerfile))
            {
                checkedAny = true;
                Assert.That(block.Success && block.Groups["body"].Value.Contains($"\"{m.Groups["v"].Value}\""), Is.True,
                    $"{service.Name}'s image sets {m.Groups["v"].Value}; build/up's service_env must give it too");
            }
        }
        Assert.That(checkedAny, Is.True, "ThrillPots' image sets DOTNET_ReadyToRun=0");
    }

    [GeneratedRegex(@"^ENV\s+(?<v>DOTNET_[A-Za-z_]+=\S+)", RegexOptions.Multiline)]
    private static partial Regex RuntimeVariable();
}
