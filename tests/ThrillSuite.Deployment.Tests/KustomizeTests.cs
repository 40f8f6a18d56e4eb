using System.Diagnostics;
using System.Text.Json;

namespace ThrillSuite.Deployment.Tests;

/// <summary>deploy/kubernetes built by `kubectl kustomize` (kubectl is installed on this project's machines).</summary>
public sealed class KustomizeTests
{
    static List<Dictionary<string, object?>>? built;

    static List<Dictionary<string, object?>> Build()
    {
        if (built is not null) return built;
        var start = new ProcessStartInfo("kubectl", ["kustomize", Repo.At("deploy", "kubernetes")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"kubectl is not on PATH ({ex.Message}); it ships with this project's machines (shared dependencies)");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.That(process.WaitForExit(TimeSpan.FromMinutes(1)), Is.True, "kubectl kustomize did not finish within a minute");
            Assert.That(process.ExitCode, Is.Zero, "kubectl kustomize deploy/kubernetes failed:\n" + stderr.Result);
            built = Yaml.Parse(stdout.Result).Select(Yaml.Map).Where(d => d.Count > 0).ToList();
        }
        return built;
    }

    [Test]
    public void Kustomize_builds_the_namespace_network_policies_and_dashboard()
    {
        var objects = Build();
        var kinds = objects.Select(o => Yaml.Str(o, "kind")).ToList();
        Assert.That(kinds, Has.Exactly(1).EqualTo("Namespace"));
        Assert.That(kinds.Count(k => k == "NetworkPolicy"), Is.GreaterThanOrEqualTo(4));
        Assert.That(kinds, Has.Some.EqualTo("ConfigMap"));
        Assert.That(kinds.Distinct(), Is.SubsetOf(new[] { "Namespace", "NetworkPolicy", "ConfigMap" }), "only the expected kinds");
        foreach (var o in objects.Where(o => Yaml.Str(o, "kind") != "Namespace"))
            Assert.That(Yaml.Str(o, "metadata.namespace"), Is.EqualTo("thrillsuite"), $"{Yaml.Str(o, "kind")} {Yaml.Str(o, "metadata.name")}");

        var dashboard = objects.Single(o => Yaml.Str(o, "kind") == "ConfigMap" && Yaml.Str(o, "metadata.name") == "thrillsuite-grafana-dashboard");
        Assert.That(Yaml.Str(dashboard, "metadata.labels.grafana_dashboard"), Is.EqualTo("1"), "Grafana's sidecar finds dashboards by this label");
        var json = Yaml.Map(Yaml.Get(dashboard, "data")).GetValueOrDefault("thrillsuite-dashboard.json") as string;
        Assert.That(json, Is.Not.Null.And.Not.Empty, "the dashboard JSON is the ConfigMap's data");
        using var doc = JsonDocument.Parse(json!);
        Assert.That(doc.RootElement.GetProperty("title").GetString(), Is.Not.Null.And.Not.Empty);
    }

    [Test]
    public void Network_policies_let_only_thrillpots_and_thrillconnect_reach_thrillgate_grpc_and_only_the_controller_the_public_http()
    {
        var policies = Build().Where(o => Yaml.Str(o, "kind") == "NetworkPolicy").ToList();
        Assert.That(policies.Any(p => Yaml.Get(p, "spec.podSelector") is Dictionary<string, object?> { Count: 0 }
            && Yaml.Get(p, "spec.ingress") is null), "a default deny of incoming traffic for every pod");

        Assert.That(Sources(policies, "thrillgate", 8081), Is.EquivalentTo(new[] { "pod:thrillpots", "pod:thrillconnect" }));
        Assert.That(Sources(policies, "thrillpots", 8081), Is.EquivalentTo(new[] { "namespace:ingress-nginx", "pod:thrillconnect" }));
        foreach (var alias in new[] { "thrillpots", "thrillgate", "thrillconnect", "bitbridge" })
            Assert.That(Sources(policies, alias, 8080), Is.EquivalentTo(new[] { "namespace:ingress-nginx" }), $"{alias}:8080");
        Assert.That(Sources(policies, "thrillid", 8080), Is.EquivalentTo(new[] { "namespace:ingress-nginx", "pod:*" }), "thrillid:8080 (JWKS for the services)");
        // Policies select pods by the charts' labels: an alias the umbrella chart does not have would select nothing.
        var named = policies.SelectMany(p => Yaml.Maps(p)).Select(m => m.Map.GetValueOrDefault("app.kubernetes.io/name") as string).OfType<string>().Distinct();
        Assert.That(named, Is.SubsetOf(Repo.UmbrellaAliases()));
    }

    /// <summary>Who may reach a pod of this alias on this port: "pod:&lt;alias&gt;", "pod:*", "namespace:&lt;name&gt;" or "anyone".</summary>
    static HashSet<string> Sources(List<Dictionary<string, object?>> policies, string alias, int port)
    {
        var labels = new Dictionary<string, string> { ["app.kubernetes.io/part-of"] = "thrillsuite", ["app.kubernetes.io/name"] = alias };
        var sources = new HashSet<string>();
        foreach (var policy in policies.Where(p => Selects(Yaml.Get(p, "spec.podSelector"), labels)))
            foreach (var rule in (Yaml.Get(policy, "spec.ingress") as List<object?> ?? []).Select(Yaml.Map))
            {
                var ports = (rule.GetValueOrDefault("ports") as List<object?> ?? []).Select(p => Yaml.Str(p, "port")).ToList();
                if (ports.Count > 0 && !ports.Contains(port.ToString())) continue;
                if (rule.GetValueOrDefault("from") is not List<object?> { Count: > 0 } from) { sources.Add("anyone"); continue; }
                foreach (var peer in from.Select(Yaml.Map))
                {
                    if (Yaml.Get(peer, "namespaceSelector") is { } ns)
                        sources.Add("namespace:" + (Yaml.Map(Yaml.Get(ns, "matchLabels")).GetValueOrDefault("kubernetes.io/metadata.name") as string ?? "*"));
                    else if (Yaml.Get(peer, "podSelector") is { } pods)
                        sources.Add("pod:" + (Yaml.Map(Yaml.Get(pods, "matchLabels")).GetValueOrDefault("app.kubernetes.io/name") as string ?? "*"));
                    else sources.Add("anyone");
                }
            }
        return sources;
    }

    /// <summary>A label selector (matchLabels, matchExpressions with In) applied to a pod's labels; {} selects every pod.</summary>
    static bool Selects(object? selector, Dictionary<string, string> labels)
    {
        var matchLabels = Yaml.Map(Yaml.Get(selector, "matchLabels"));
        if (matchLabels.Any(kv => !labels.TryGetValue(kv.Key, out var v) || v != kv.Value as string)) return false;
        foreach (var expression in (Yaml.Get(selector, "matchExpressions") as List<object?> ?? []).Select(Yaml.Map))
        {
            var key = Yaml.Str(expression, "key") ?? "";
            var values = (expression.GetValueOrDefault("values") as List<object?> ?? []).OfType<string>().ToList();
            var op = Yaml.Str(expression, "operator");
            var has = labels.TryGetValue(key, out var value);
            var ok = op switch
            {
                "In" => has && values.Contains(value!),
                "NotIn" => !has || !values.Contains(value!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok) return false;
        }
        return true;
    }
}
