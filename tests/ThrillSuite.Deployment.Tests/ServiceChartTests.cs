using System.Text.RegularExpressions;

namespace ThrillSuite.Deployment.Tests;

/// <summary>What the service chart promises a platform team, read from its templates and values (helm lint does the rest where it exists).</summary>
public sealed partial class ServiceChartTests
{
    static string Template(string name) => File.ReadAllText(Path.Combine(Repo.ServiceChart, "templates", name));

    [GeneratedRegex(@"\{\{-?\s*(?<word>if|range|with|define|block|end)\b")]
    private static partial Regex BlockAction();

    [Test]
    public void Every_template_closes_each_block_it_opens()
    {
        var problems = new List<string>();
        foreach (var file in Repo.Templates(Repo.ServiceChart).Concat(Repo.Templates(Repo.Umbrella)))
        {
            var text = Templates.WithoutComments(File.ReadAllText(file));
            var depth = 0;
            foreach (Match m in BlockAction().Matches(text))
            {
                depth += m.Groups["word"].Value == "end" ? -1 : 1;
                if (depth < 0) { problems.Add($"{Path.GetFileName(file)}: an `end` closes nothing at offset {m.Index}"); break; }
            }
            if (depth > 0) problems.Add($"{Path.GetFileName(file)}: {depth} block(s) never closed");
            if (text.Split("{{").Length != text.Split("}}").Length) problems.Add($"{Path.GetFileName(file)}: unbalanced {{{{ }}}}");
        }
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Every_object_carries_the_standard_labels()
    {
        var helpers = Template("_helpers.tpl");
        var labels = Templates.Defines(helpers).Single(d => d.Key == "thrillsuite-service.labels").Value
            + Templates.Defines(helpers).Single(d => d.Key == "thrillsuite-service.selectorLabels").Value;
        foreach (var label in new[] { "helm.sh/chart", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                     "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by" })
            Assert.That(labels, Does.Contain(label + ":"), label);
        foreach (var file in Repo.Templates(Repo.ServiceChart).Where(f => f.EndsWith(".yaml")))
        {
            var text = File.ReadAllText(file);
            if (!text.Contains("kind:")) continue;
            Assert.That(text.Contains("include \"thrillsuite-service.labels\"")
                || (text.Contains("include \"thrillsuite-service.selectorLabels\"") && text.Contains("app.kubernetes.io/managed-by")),
                Is.True, $"{Path.GetFileName(file)} labels its object with the standard labels");
        }
    }

    [Test]
    public void Pods_run_non_root_read_only_without_privileges_and_stop_within_the_grace_period()
    {
        var values = Repo.ServiceDefaults();
        Assert.That(Yaml.Str(values, "podSecurityContext.runAsNonRoot"), Is.EqualTo("true"));
        Assert.That(Yaml.Str(values, "podSecurityContext.seccompProfile.type"), Is.EqualTo("RuntimeDefault"));
        Assert.That(Yaml.Str(values, "securityContext.runAsNonRoot"), Is.EqualTo("true"));
        Assert.That(Yaml.Str(values, "securityContext.readOnlyRootFilesystem"), Is.EqualTo("true"));
        Assert.That(Yaml.Str(values, "securityContext.allowPrivilegeEscalation"), Is.EqualTo("false"));
        Assert.That(Yaml.Get(values, "securityContext.capabilities.drop"), Is.EqualTo(new List<object?> { "ALL" }));
        Assert.That(Yaml.Str(values, "securityContext.seccompProfile.type"), Is.EqualTo("RuntimeDefault"));

        foreach (var name in new[] { "deployment.yaml", "migrate-job.yaml" })
        {
            var template = Template(name);
            Assert.That(template, Does.Contain("toYaml .Values.podSecurityContext").And.Contain("toYaml .Values.securityContext"), name);
            Assert.That(template, Does.Contain("mountPath: /tmp").And.Contain("emptyDir:"), $"{name}: a writable /tmp on a read-only root");
        }
        var deployment = Template("deployment.yaml");
        Assert.That(deployment, Does.Contain("terminationGracePeriodSeconds: {{ add .Values.shutdownGraceSeconds .Values.terminationMarginSeconds }}"));
        Assert.That(Template("_helpers.tpl"), Does.Contain("Service__ShutdownGraceSeconds: {{ .Values.shutdownGraceSeconds | quote }}"),
            "the service's grace and the pod's come from the same value");
        var settings = File.ReadAllText(Repo.At("services", "ThrillSuite.ServiceDefaults", "Settings", "Settings.cs"));
        Assert.That(settings, Does.Contain("\"Service:ShutdownGraceSeconds\""), "the services read Service:ShutdownGraceSeconds");
    }

    [Test]
    public void Migrations_run_the_services_migrate_verb_as_a_pre_install_and_pre_upgrade_hook()
    {
        var job = Template("migrate-job.yaml");
        Assert.That(job, Does.Contain("kind: Job"));
        Assert.That(job, Does.Contain("helm.sh/hook: pre-install,pre-upgrade"));
        Assert.That(job, Does.Contain("helm.sh/hook-weight:"));
        Assert.That(job, Does.Contain("helm.sh/hook-delete-policy:"));
        Assert.That(job, Does.Match(@"command: \[""dotnet"", ""\{\{ required "".*"" \.Values\.project \}\}\.dll"", ""migrate""\]"));
        Assert.That(job, Does.Contain("if and .Values.migrations.enabled .Values.database.name"), "a Job for every service with a database");
        // The pod must not be selected by the service's Service and Deployment (name + instance).
        Assert.That(job, Does.Contain("app.kubernetes.io/name: {{ include \"thrillsuite-service.name\" . }}-migrate"));
        var host = File.ReadAllText(Repo.At("services", "ThrillSuite.ServiceDefaults", "Hosting", "ServiceDefaultsExtensions.cs"));
        Assert.That(host, Does.Contain("args.Contains(\"migrate\")"), "ServiceDefaults exits after the migrations with the migrate verb");
        foreach (var s in Repo.Services())
            Assert.That(Yaml.Str(Repo.UmbrellaValues()[s.Alias], "migrations.enabled"), Is.EqualTo("true"), $"{s.Alias} has a database: its Job runs");
    }
}
