using System.Text.RegularExpressions;

namespace ThrillSuite.Deployment.Tests;

/// <summary>
/// The Helm charts checked as data (no helm binary here): they agree with the services' code (projects, ServiceShape,
/// secret settings, health endpoints), every template value exists, no secret is in a ConfigMap or default, no image
/// is `latest`. build/helm-check runs helm lint and helm template where helm exists.
/// </summary>
public sealed partial class ChartTests
{
    static readonly string[] Aliases = ["thrillid", "thrillpots", "thrillgate", "thrillconnect", "bitbridge", "referencewallet"];

    [GeneratedRegex(@"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex ValuesReference();
    [GeneratedRegex(@"\$(?<name>[A-Za-z_][A-Za-z0-9_]*)\s*:=\s*[$\w.]*?\.Values(?<path>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*\}\}")]
    private static partial Regex VariableAssignment();
    /// <summary>A configuration key naming a secret, as the services spell it in their validation messages and options.</summary>
    [GeneratedRegex(@"""(?<section>[A-Z][A-Za-z0-9]*):(?<key>[A-Za-z0-9]*(?:EncryptionKey|Secret|Password|AdminToken|ApiKey))(?=[\s""])")]
    private static partial Regex SecretSetting();
    [GeneratedRegex(@"(?i)password|secret|token|encryptionkey|apikey|credential|connectionstrings")]
    private static partial Regex SecretLookingName();
    [GeneratedRegex(@"(?i)password=|://[^/\s:@]+:[^@\s]+@|-----BEGIN")]
    private static partial Regex SecretLookingValue();
    [GeneratedRegex(@"MapHealthChecks\(""(?<path>[^""]+)""")]
    private static partial Regex HealthMapping();

    [Test]
    public void Every_values_and_chart_file_parses()
    {
        var files = Repo.ValuesFiles().Concat(new[] { Repo.ServiceChart, Repo.Umbrella }.Select(c => Path.Combine(c, "Chart.yaml"))).ToList();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(4), "values.yaml of both charts, values-production.yaml, two Chart.yaml");
        foreach (var file in files)
        {
            object? root = null;
            Assert.DoesNotThrow(() => root = Yaml.Load(file), file);
            Assert.That(root, Is.InstanceOf<Dictionary<string, object?>>(), $"{file} is not a YAML mapping");
        }
    }

    [Test]
    public void Every_service_project_of_the_solution_has_an_alias_matching_its_service_shape()
    {
        var services = Repo.Services();
        Assert.That(services.Select(s => s.Alias), Is.EquivalentTo(Aliases), "service projects of ThrillSuite.sln (services/*/Program.cs)");
        var dependencies = Repo.Dependencies().ToDictionary(d => Yaml.Str(d, "alias") ?? "");
        var values = Repo.UmbrellaValues();
        var problems = new List<string>();
        foreach (var s in services)
        {
            if (!dependencies.TryGetValue(s.Alias, out var dep)) { problems.Add($"{s.Name}: no dependency with alias {s.Alias} in charts/thrillsuite/Chart.yaml"); continue; }
            if (Yaml.Str(dep, "name") != "thrillsuite-service") problems.Add($"{s.Alias}: the dependency is not thrillsuite-service");
            if (Yaml.Str(dep, "repository") != "file://../thrillsuite-service") problems.Add($"{s.Alias}: repository is not file://../thrillsuite-service");
            if (Yaml.Str(dep, "condition") != $"{s.Alias}.enabled") problems.Add($"{s.Alias}: condition is not {s.Alias}.enabled");
            var v = values[s.Alias];
            Check(problems, s.Alias, "project", Yaml.Str(v, "project"), s.Name);
            Check(problems, s.Alias, "database.name", Yaml.Str(v, "database.name"), s.Database);
            Check(problems, s.Alias, "messaging", Yaml.Str(v, "messaging"), s.Messaging ? "true" : "false");
            Check(problems, s.Alias, "grpc.enabled", Yaml.Str(v, "grpc.enabled"), s.Grpc ? "true" : "false");
            Check(problems, s.Alias, "authentication", Yaml.Str(v, "authentication"), s.Authentication ? "true" : "false");
            var clients = (Yaml.Get(v, "grpcClients") as List<object?> ?? []).Select(c => c as string).Order().ToList();
            Check(problems, s.Alias, "grpcClients", string.Join(",", clients), string.Join(",", s.GrpcClients.Order()));
            Check(problems, s.Alias, "enabled", Yaml.Str(v, "enabled"), s.Alias == "referencewallet" ? "false" : "true");
        }
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    static void Check(List<string> problems, string alias, string key, string? actual, string expected)
    {
        if (actual != expected) problems.Add($"{alias}.{key} is '{actual}' in charts/thrillsuite/values.yaml; the service's code says '{expected}'");
    }

    [Test]
    public void Every_values_reference_of_the_service_chart_templates_exists_in_its_values()
    {
        var missing = MissingReferences(Repo.ServiceChart, Repo.ServiceDefaults());
        Assert.That(missing, Is.Empty, string.Join("\n", missing));
    }

    [Test]
    public void Every_values_reference_of_the_umbrella_templates_exists_in_its_merged_values()
    {
        var missing = MissingReferences(Repo.Umbrella, Repo.UmbrellaValues());
        Assert.That(missing, Is.Empty, string.Join("\n", missing));
    }

    static List<string> MissingReferences(string chart, Dictionary<string, object?> values)
    {
        var missing = new List<string>();
        var count = 0;
        foreach (var template in Repo.Templates(chart))
        {
            var text = File.ReadAllText(template);
            var references = ValuesReference().Matches(text).Select(m => m.Groups[1].Value).ToList();
            // A variable holding part of the values ({{ $l := .Values.ingress.limits }} ... $l.tokenRps) counts as its path.
            foreach (Match assignment in VariableAssignment().Matches(text))
                references.AddRange(Regex.Matches(text, $@"\${assignment.Groups["name"].Value}((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
                    .Select(use => assignment.Groups["path"].Value + use.Groups[1].Value));
            foreach (var reference in references)
            {
                count++;
                if (!Yaml.Has(values, reference.TrimStart('.').Split('.')))
                    missing.Add($"{Path.GetRelativePath(Repo.Root, template)}: .Values{reference} is not in the values");
            }
        }
        Assert.That(count, Is.GreaterThan(10), $"{chart}: the templates reference values");
        return missing;
    }

    [Test]
    public void Every_key_of_the_umbrella_values_files_is_one_the_charts_know()
    {
        // Alias keys are the service chart's (plus `enabled`, the dependency condition); an overlay's keys are values.yaml's.
        var defaults = Repo.ServiceDefaults();
        var umbrella = Yaml.Map(Yaml.Load(Path.Combine(Repo.Umbrella, "values.yaml")));
        var schema = new Dictionary<string, object?>(umbrella)
        {
            ["global"] = Yaml.Merge(defaults["global"], umbrella.GetValueOrDefault("global")),
        };
        var serviceKeys = new Dictionary<string, object?>(defaults) { ["enabled"] = "true" };
        serviceKeys.Remove("global");
        foreach (var alias in Aliases) schema[alias] = serviceKeys;

        var unknown = new List<string>();
        foreach (var file in Repo.UmbrellaOverlays().Prepend(Path.Combine(Repo.Umbrella, "values.yaml")))
            foreach (var (path, _) in Yaml.Leaves(Yaml.Load(file)))
                if (!KnownPath(schema, path)) unknown.Add($"{Path.GetFileName(file)}: {string.Join(".", path)}");
        Assert.That(unknown, Is.Empty, "keys no chart reads:\n" + string.Join("\n", unknown));
    }

    /// <summary>The path exists in the schema, or passes through a free-form node there (an empty map or a list).</summary>
    static bool KnownPath(object? schema, List<string> path)
    {
        foreach (var key in path)
        {
            if (schema is Dictionary<string, object?> { Count: 0 } or List<object?>) return true;
            if (schema is not Dictionary<string, object?> map || !map.TryGetValue(key, out schema)) return false;
        }
        return true;
    }

    /// <summary>The secret settings each service reads, from its code: connection strings from its ServiceShape, keys from its sources.</summary>
    static Dictionary<string, SortedSet<string>> SecretSettingsByAlias()
    {
        var settings = File.ReadAllText(Repo.At("services", "ThrillSuite.ServiceDefaults", "Settings", "Settings.cs"));
        Assert.That(settings, Does.Contain("$\"ConnectionStrings:{database}\"").And.Contain("ConnectionStrings:rabbitmq"),
            "ServiceDefaults reads ConnectionStrings:<database> and ConnectionStrings:rabbitmq (the derivation below relies on it)");
        var shared = Repo.Sources(Repo.At("services", "ThrillSuite.ServiceDefaults")).ToList();
        var result = new Dictionary<string, SortedSet<string>>();
        foreach (var s in Repo.Services())
        {
            var set = new SortedSet<string>(StringComparer.Ordinal) { $"ConnectionStrings__{s.Database}" };
            if (s.Messaging) set.Add("ConnectionStrings__rabbitmq");
            foreach (var file in Repo.Sources(s.Directory).Concat(shared))
                foreach (Match m in SecretSetting().Matches(File.ReadAllText(file)))
                    set.Add($"{m.Groups["section"].Value}__{m.Groups["key"].Value}");
            result[s.Alias] = set;
        }
        return result;
    }

    [Test]
    public void Every_secret_setting_the_services_read_is_mapped_to_an_existing_secret_key_and_documented()
    {
        var secrets = SecretSettingsByAlias();
        Assert.That(secrets.Values.Sum(s => s.Count), Is.GreaterThanOrEqualTo(18),
            "connection strings (6 databases, 5 RabbitMQ users) and the keys: SigningKeys, Bootstrap password, Webhooks, Wallets, Dispatchers, Wallet secret and admin token");
        var helpers = File.ReadAllText(Path.Combine(Repo.ServiceChart, "templates", "_helpers.tpl"));
        Assert.That(helpers, Does.Contain("ConnectionStrings__{{ .Values.database.name }}").And.Contain("ConnectionStrings__rabbitmq"),
            "the service chart builds the connection strings from database.name and the RabbitMQ Secret");
        var readme = File.ReadAllLines(Repo.At("charts", "README.md")).Where(l => l.StartsWith('|')).ToList();

        var problems = new List<string>();
        foreach (var file in Repo.UmbrellaOverlays().Prepend(null))
        {
            var values = Repo.UmbrellaValues(file);
            var where = file is null ? "values.yaml" : Path.GetFileName(file);
            foreach (var (alias, envs) in secrets)
            {
                var v = values[alias];
                foreach (var env in envs)
                {
                    string? secret, key;
                    if (env == "ConnectionStrings__rabbitmq")
                    {
                        secret = Yaml.Str(values["global"], "rabbitmq.existingSecret");
                        key = Yaml.Str(values["global"], "rabbitmq.uriKey");
                        if (Yaml.Str(v, "messaging") != "true") problems.Add($"{where}: {alias}.messaging is off but the service reads {env}");
                    }
                    else if (env.StartsWith("ConnectionStrings__"))
                    {
                        secret = Yaml.Str(v, "database.existingSecret") is { Length: > 0 } own ? own : Yaml.Str(values["global"], "postgres.existingSecret");
                        key = Yaml.Str(values["global"], "postgres.passwordKey");
                        if ($"ConnectionStrings__{Yaml.Str(v, "database.name")}" != env) problems.Add($"{where}: {alias}.database.name does not give {env}");
                    }
                    else
                    {
                        secret = Yaml.Str(v, "secrets.existingSecret");
                        key = Yaml.Str(v, $"secrets.env.{env}");
                    }
                    if (string.IsNullOrEmpty(secret) || string.IsNullOrEmpty(key)) { problems.Add($"{where}: {alias} reads {env}, which no existingSecret key provides"); continue; }
                    if (file is not null) continue;
                    // Documented: a row of charts/README.md's table naming the variable, the Secret, the key and the service.
                    var documented = readme.Any(row => row.Contains($"`{env}`") && row.Contains($"`{secret}") && row.Contains($"`{key}`")
                        && Regex.IsMatch(row.Split('|', StringSplitOptions.RemoveEmptyEntries).Last(), $@"\b{alias}\b"));
                    if (!documented) problems.Add($"charts/README.md: no secrets table row with `{env}`, `{secret}` / `{key}` and {alias}");
                }
            }
        }
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Probes_point_at_the_health_endpoints_the_services_map()
    {
        var defaults = File.ReadAllText(Repo.At("services", "ThrillSuite.ServiceDefaults", "Hosting", "ServiceDefaultsExtensions.cs"));
        var mapped = HealthMapping().Matches(defaults).Select(m => m.Groups["path"].Value).ToHashSet();
        Assert.That(mapped, Is.SupersetOf(new[] { "/health/live", "/health/ready" }), "ServiceDefaults maps /health/live and /health/ready");

        var deployment = File.ReadAllText(Path.Combine(Repo.ServiceChart, "templates", "deployment.yaml"));
        foreach (var probe in new[] { "startup", "liveness", "readiness" })
            Assert.That(deployment, Does.Contain($"path: {{{{ .Values.probes.{probe}.path }}}}"), $"the Deployment's {probe} probe uses probes.{probe}.path");
        var service = Repo.ServiceDefaults();
        Assert.That(Yaml.Str(service, "probes.liveness.path"), Is.EqualTo("/health/live"));
        Assert.That(Yaml.Str(service, "probes.readiness.path"), Is.EqualTo("/health/ready"));

        var wrong = new List<string>();
        foreach (var file in Repo.ValuesFiles())
            foreach (var (path, map) in Yaml.Maps(Yaml.Load(file)))
                if (path.Count >= 2 && path[^2] == "probes" && map.TryGetValue("path", out var p) && !mapped.Contains(p as string ?? ""))
                    wrong.Add($"{Path.GetFileName(file)}: {string.Join(".", path)}.path = {p} is not mapped by the services");
        Assert.That(wrong, Is.Empty, string.Join("\n", wrong));
    }

    [Test]
    public void No_image_tag_is_latest_or_empty()
    {
        var appVersion = Yaml.Str(Yaml.Load(Path.Combine(Repo.ServiceChart, "Chart.yaml")), "appVersion");
        var problems = new List<string>();
        foreach (var file in Repo.ValuesFiles())
            foreach (var (path, value) in Yaml.Leaves(Yaml.Load(file)))
                if (path.Count > 0 && path[^1] is "tag" or "imageTag" && string.Equals(value as string, "latest", StringComparison.OrdinalIgnoreCase))
                    problems.Add($"{Path.GetFileName(file)}: {string.Join(".", path)} is latest");

        // The tag each service runs: its own, the global one, the chart's appVersion (the helper's order).
        string? Effective(object? service, object? global) =>
            new[] { Yaml.Str(service, "image.tag"), Yaml.Str(global, "imageTag"), appVersion }.FirstOrDefault(t => !string.IsNullOrEmpty(t));
        var alone = Repo.ServiceDefaults();
        if (Effective(alone, alone["global"]) is not { Length: > 0 } t0 || t0.Equals("latest", StringComparison.OrdinalIgnoreCase))
            problems.Add("charts/thrillsuite-service: no image tag");
        foreach (var file in Repo.UmbrellaOverlays().Prepend(null))
        {
            var values = Repo.UmbrellaValues(file);
            if (Yaml.Str(values["global"], "imageTag") is not { Length: > 0 })
                problems.Add($"{(file is null ? "values.yaml" : Path.GetFileName(file))}: global.imageTag is empty");
            foreach (var alias in Aliases)
                if (Effective(values[alias], values["global"]) is not { Length: > 0 } tag || tag.Equals("latest", StringComparison.OrdinalIgnoreCase))
                    problems.Add($"{file ?? "values.yaml"}: {alias} has no usable image tag");
        }
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void No_configmap_takes_a_secret_looking_value()
    {
        var problems = new List<string>();
        var configMaps = Repo.Templates(Repo.ServiceChart).Concat(Repo.Templates(Repo.Umbrella))
            .Where(f => File.ReadAllText(f).Contains("kind: ConfigMap")).ToList();
        Assert.That(configMaps, Is.Not.Empty, "the service chart has a ConfigMap template");
        var helpers = Repo.Templates(Repo.ServiceChart).Concat(Repo.Templates(Repo.Umbrella)).Where(f => f.EndsWith(".tpl"))
            .SelectMany(f => Templates.Defines(Templates.WithoutComments(File.ReadAllText(f)))).ToDictionary(d => d.Key, d => d.Value);
        foreach (var file in configMaps)
        {
            var raw = Templates.WithoutComments(File.ReadAllText(file));
            var text = Templates.Expand(raw, helpers);
            Assert.That(text, Has.Length.GreaterThan(raw.Length + 200), $"{Path.GetFileName(file)}: the helpers it includes were followed");
            if (text.Contains("secretKeyRef") || text.Contains("lookup")) problems.Add($"{Path.GetFileName(file)} reads a Secret");
            foreach (Match m in ValuesReference().Matches(text))
                if (SecretLookingName().IsMatch(m.Value)) problems.Add($"{Path.GetFileName(file)} takes .Values{m.Groups[1].Value}");
        }
        // What the ConfigMap carries from the values: every `config:` map (and global: settings).
        foreach (var file in Repo.ValuesFiles())
            foreach (var (path, map) in Yaml.Maps(Yaml.Load(file)))
            {
                if (path.Count == 0 || path[^1] != "config") continue;
                foreach (var (key, value) in map)
                    if (SecretLookingName().IsMatch(key) || (value is string s && SecretLookingValue().IsMatch(s)))
                        problems.Add($"{Path.GetFileName(file)}: {string.Join(".", path)}.{key} looks like a secret; map it under secrets.env");
            }
        // And no default in any values file is a secret itself: secret-looking keys hold only Secret names and keys.
        foreach (var file in Repo.ValuesFiles())
            foreach (var (path, value) in Yaml.Leaves(Yaml.Load(file)))
                if (value is string s && SecretLookingValue().IsMatch(s)) problems.Add($"{Path.GetFileName(file)}: {string.Join(".", path)} holds a credential");
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void The_edge_ingress_carries_every_route_and_limit_of_the_local_edge()
    {
        var edge = File.ReadAllText(Repo.At("deploy", "nginx", "edge.conf.template"));
        var ingress = File.ReadAllText(Path.Combine(Repo.Umbrella, "templates", "ingress.yaml"));
        var prefixes = new List<string>();
        foreach (Match m in Regex.Matches(edge, @"location ~ \^(?<base>/[\w/]*?)\(\?:(?<alts>[^)]*)\)\(\?:/\|\$\)"))
            prefixes.AddRange(m.Groups["alts"].Value.Split('|').Select(a => m.Groups["base"].Value + a.Replace(@"\.", ".")));
        prefixes.AddRange(Regex.Matches(edge, @"location (?:\^~|=) (?<p>/[^\s{]+)").Select(m => m.Groups["p"].Value.TrimEnd('/')));
        prefixes.AddRange(Regex.Matches(edge, @"location (?<p>/thrillsuite\.[\w.]+)/").Select(m => m.Groups["p"].Value));
        Assert.That(prefixes, Has.Count.GreaterThan(25), "routes read from deploy/nginx/edge.conf.template");
        // /demo serves the demo page of the local run only.
        var missing = prefixes.Where(p => p != "/demo" && !ingress.Contains($"\"{p}\"")).ToList();
        Assert.That(missing, Is.Empty, "routes of the local edge missing from charts/thrillsuite/templates/ingress.yaml: " + string.Join(", ", missing));

        foreach (var annotation in new[] { "limit-rps", "limit-burst-multiplier", "proxy-body-size", "proxy-read-timeout", "proxy-send-timeout",
                     "proxy-connect-timeout", "proxy-buffering", "backend-protocol", "enable-opentelemetry" })
            Assert.That(ingress + File.ReadAllText(Path.Combine(Repo.Umbrella, "templates", "_helpers.tpl")),
                Does.Contain($"nginx.ingress.kubernetes.io/{annotation}"), annotation);
        var limits = Yaml.Get(Repo.UmbrellaValues(), "ingress.limits");
        var expected = new Dictionary<string, string>
        {
            ["tokenRps"] = "10", ["tokenBurstMultiplier"] = "2", ["contributionRps"] = "1000", ["contributionBurstMultiplier"] = "2",
            ["bodySize"] = "1m", ["grpcBodySize"] = "8m", ["connectTimeoutSeconds"] = "5", ["timeoutSeconds"] = "30",
            ["grpcTimeoutSeconds"] = "60", ["websocketTimeoutSeconds"] = "3600",
        };
        foreach (var (key, value) in expected) Assert.That(Yaml.Str(limits, key), Is.EqualTo(value), $"ingress.limits.{key} (the edge's shared limits)");
    }

    [Test]
    public void Values_files_document_every_key()
    {
        var undocumented = new List<string>();
        foreach (var file in Repo.ValuesFiles())
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                // A mapping key at any depth (list items such as `- thrillgate` are values, not keys).
                var key = Regex.Match(lines[i], @"^(\s*)([A-Za-z_][\w.-]*):(\s|$)");
                if (!key.Success || InsideFreeText(lines, i)) continue;
                var previous = i - 1;
                while (previous >= 0 && lines[previous].Trim().Length == 0) previous--;
                if (previous < 0 || !lines[previous].TrimStart().StartsWith('#'))
                    undocumented.Add($"{Path.GetFileName(Path.GetDirectoryName(file))}/{Path.GetFileName(file)}:{i + 1}: {lines[i].Trim()}");
            }
        }
        Assert.That(undocumented, Is.Empty, "keys without a comment above them:\n" + string.Join("\n", undocumented));
    }

    /// <summary>Keys inside a list item (topologySpreadConstraints entries and the like) are Kubernetes objects, not chart values.</summary>
    static bool InsideFreeText(string[] lines, int index)
    {
        var indent = lines[index].Length - lines[index].TrimStart().Length;
        for (var i = index - 1; i >= 0; i--)
        {
            var line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
            var lineIndent = line.Length - line.TrimStart().Length;
            if (lineIndent < indent || (lineIndent == indent && line.TrimStart().StartsWith("- ")))
            {
                if (line.TrimStart().StartsWith("- ")) return true;
                indent = lineIndent;
                if (indent == 0) return false;
            }
        }
        return false;
    }
}

/// <summary>Just enough of Go templates to follow `include`: the bodies of `define` blocks, nested actions counted.</summary>
public static partial class Templates
{
    [GeneratedRegex(@"\{\{-?\s*(?<word>define|if|range|with|block|end)\b(?:\s+""(?<name>[^""]+)"")?")]
    private static partial Regex Action();
    [GeneratedRegex(@"include\s+""(?<name>[^""]+)""")]
    private static partial Regex Include();
    [GeneratedRegex(@"\{\{-?\s*/\*.*?\*/\s*-?\}\}", RegexOptions.Singleline)]
    private static partial Regex Comment();

    public static string WithoutComments(string text) => Comment().Replace(text, "");

    public static IEnumerable<KeyValuePair<string, string>> Defines(string text)
    {
        var depth = 0;
        string? name = null;
        var start = 0;
        foreach (Match m in Action().Matches(text))
        {
            var word = m.Groups["word"].Value;
            if (word == "define" && depth == 0) { name = m.Groups["name"].Value; start = m.Index + m.Length; depth = 1; continue; }
            if (name is null) continue;
            if (word == "end") depth--;
            else depth++;
            if (depth == 0)
            {
                yield return new(name, text[start..m.Index]);
                name = null;
            }
        }
    }

    /// <summary>The text with every included define's body appended (transitively).</summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> defines)
    {
        var seen = new HashSet<string>();
        var pending = new Queue<string>(Include().Matches(text).Select(m => m.Groups["name"].Value));
        var result = new System.Text.StringBuilder(text);
        while (pending.TryDequeue(out var name))
        {
            if (!seen.Add(name) || !defines.TryGetValue(name, out var body)) continue;
            result.Append('\n').Append(body);
            foreach (Match m in Include().Matches(body)) pending.Enqueue(m.Groups["name"].Value);
        }
        return result.ToString();
    }
}
