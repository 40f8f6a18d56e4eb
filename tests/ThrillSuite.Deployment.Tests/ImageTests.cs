using System.Text.RegularExpressions;
using ThrillSuite.Testing;

namespace ThrillSuite.Deployment.Tests;

/// <summary>The runtime settings a service's image carries are the ones build/up runs it with.</summary>
public class ImageTests
{
    [Test]
    public void Every_runtime_variable_an_image_sets_is_set_by_build_up_for_that_service()
    {
        var up = File.ReadAllText(Repo.At("build", "up"));
        var checkedAny = false;
        foreach (var service in Repo.Services())
        {
            // The service's own block of build/up's service_env: from "<alias>)" to its ";;".
            var block = Regex.Match(up, $@"^\s*{service.Alias}\)\s*$(?<body>.*?)^\s*;;", RegexOptions.Multiline | RegexOptions.Singleline);
            foreach (var (key, value) in ServiceImage.Environment(Path.Combine(service.Directory, "Dockerfile")).Where(e => e.Key.StartsWith("DOTNET_", StringComparison.Ordinal)))
            {
                checkedAny = true;
                Assert.That(block.Success && block.Groups["body"].Value.Contains($"\"{key}={value}\""), Is.True,
                    $"{service.Name}'s image sets {key}={value}; build/up's service_env must give it too");
            }
        }
        Assert.That(checkedAny, Is.True, "ThrillPots' image sets DOTNET_ReadyToRun=0");
    }
}
