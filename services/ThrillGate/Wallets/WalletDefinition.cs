using System.Text.Json;
using System.Text.RegularExpressions;

namespace ThrillGate.Wallets;

/// <summary>POST/PUT /admin/wallets body (spec §5.2). Fields nullable so that validation names every missing one.</summary>
public sealed record WalletBody(string? Id, string? OperatorId, string? BrandId, string? WalletType, ConnectionBody? ConnectionDetails,
    JsonElement? Endpoints, ConfigBody? Config);

public sealed record ConnectionBody(string? Protocol, string? Host, int? Port, string? BasePath);

public sealed record ConfigBody(string? SecretKey, int? RequestTimeout, int? RequestRetryLimit, decimal? RequestRetryBackoff, bool? RetryBackoffSleep,
    Dictionary<string, ErrorRule?>? ErrorResponseRules, bool? AcceptZeroValueCredits, bool? MustCloseGamerounds, string? HmacAlgorithm,
    string? HmacEncoding);

/// <summary>An <c>error_response_rules</c> entry: both default to true when left out (spec §5.4).</summary>
public sealed record ErrorRule(bool? MustRetry, bool? MustCancel);

public sealed record Endpoint(string Verb, string Path);

public sealed record WalletConfig(int RequestTimeout, int RequestRetryLimit, decimal RequestRetryBackoff, bool RetryBackoffSleep,
    IReadOnlyDictionary<string, ErrorRule> ErrorResponseRules, bool AcceptZeroValueCredits, bool MustCloseGamerounds, string HmacAlgorithm,
    string HmacEncoding);

/// <summary>
/// A validated, normalised wallet definition: endpoints always in the object shape (verb → path), config with its
/// defaults filled in. The secret travels beside it, never inside it.
/// </summary>
public sealed partial record WalletDefinition(string Id, string OperatorId, string BrandId, string WalletType, ConnectionBody ConnectionDetails,
    IReadOnlyDictionary<string, Endpoint> Endpoints, WalletConfig Config)
{
    public const string StandardWallet = "StandardWallet";

    [System.Text.Json.Serialization.JsonIgnore]
    public Uri BaseUri => new($"{ConnectionDetails.Protocol}://{ConnectionDetails.Host}:{ConnectionDetails.Port}{ConnectionDetails.BasePath}");

    /// <summary>The legacy string shape's verbs (spec §3.2): POST, except balance GET and cancel_bet DELETE.</summary>
    static readonly Dictionary<string, string> LegacyVerbs = new() { ["balance"] = "GET", ["cancel_bet"] = "DELETE", ["cancel_batch"] = "DELETE" };
    public static readonly string[] Operations = ["auth", "balance", "transaction", "transaction_batch", "cancel_bet", "cancel_batch", "debit", "credit"];
    static readonly string[] Verbs = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    public static readonly string[] HmacAlgorithms = ["HMACSHA256", "HMACSHA384", "HMACSHA512"];
    public static readonly string[] HmacEncodings = ["hex", "base64"];

    /// <summary>The definition, its secret (null on an update that keeps the stored one) and every problem by field.</summary>
    public static (WalletDefinition? Definition, string? Secret, Dictionary<string, string[]> Errors) Validate(WalletBody body, bool secretRequired)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [message];

        if (!Ids.IsValid(body.Id)) Error("id", "Required: " + Ids.Rule);
        if (!Ids.IsValid(body.OperatorId)) Error("operator_id", "Required: " + Ids.Rule);
        if (!Ids.IsValid(body.BrandId)) Error("brand_id", "Required: the bare brand id (" + Ids.Rule + ")");
        if (body.WalletType is not (null or StandardWallet)) Error("wallet_type", $"Only \"{StandardWallet}\" is supported.");

        var c = body.ConnectionDetails;
        if (c is null) Error("connection_details", "Required: {protocol, host, port}.");
        else
        {
            if (c.Protocol is not ("http" or "https")) Error("connection_details.protocol", "Required: \"http\" or \"https\".");
            if (c.Host is not { Length: > 0 and <= 253 } || Uri.CheckHostName(c.Host) == UriHostNameType.Unknown)
                Error("connection_details.host", "Required: a host name or IP address.");
            if (c.Port is not (>= 1 and <= 65535)) Error("connection_details.port", "Required: a TCP port 1-65535.");
            if (c.BasePath is not null && !PathPattern().IsMatch(c.BasePath)) Error("connection_details.base_path", "A path starting with '/', or left out.");
        }

        var endpoints = new Dictionary<string, Endpoint>(StringComparer.Ordinal);
        if (body.Endpoints is not { ValueKind: JsonValueKind.Object } e) Error("endpoints", "Required: an object of operation → {VERB: path} or path.");
        else
        {
            foreach (var op in e.EnumerateObject())
            {
                var field = $"endpoints.{op.Name}";
                if (!Operations.Contains(op.Name)) { Error(field, $"Unknown operation; one of {string.Join(", ", Operations)}."); continue; }
                if (op.Value.ValueKind == JsonValueKind.String)
                {
                    var path = op.Value.GetString()!;
                    if (!PathPattern().IsMatch(path)) Error(field, "A path starting with '/'.");
                    else endpoints[op.Name] = new Endpoint(LegacyVerbs.GetValueOrDefault(op.Name, "POST"), path);
                }
                else if (op.Value.ValueKind == JsonValueKind.Object && op.Value.EnumerateObject().ToList() is [var only]
                         && Verbs.Contains(only.Name) && only.Value.ValueKind == JsonValueKind.String && PathPattern().IsMatch(only.Value.GetString()!))
                    endpoints[op.Name] = new Endpoint(only.Name, only.Value.GetString()!);
                else Error(field, "Either {\"VERB\": \"/path\"} with one of " + string.Join(", ", Verbs) + ", or \"/path\".");
            }
            if (!errors.Keys.Any(k => k.StartsWith("endpoints", StringComparison.Ordinal)))
            {
                if (!endpoints.ContainsKey("auth")) Error("endpoints.auth", "Required: players are authenticated with it.");
                if (!endpoints.ContainsKey("transaction") && !(endpoints.ContainsKey("debit") && endpoints.ContainsKey("credit")))
                    Error("endpoints.transaction", "Required: transaction, or both debit and credit (the legacy shape).");
                if (!endpoints.ContainsKey("cancel_bet")) Error("endpoints.cancel_bet", "Required: failed debits are cancelled with it.");
            }
        }

        var cfg = body.Config;
        string? secret = null;
        if (cfg is null) Error("config", "Required: at least {secret_key}.");
        else
        {
            if (cfg.SecretKey is { } key)
            {
                if (key.Length is < 8 or > 512) Error("config.secret_key", "8-512 characters.");
                else secret = key;
            }
            else if (secretRequired) Error("config.secret_key", "Required: the HMAC key shared with the wallet.");
            if (cfg.RequestTimeout is not (null or (>= 1 and <= 120))) Error("config.request_timeout", "Seconds, 1-120 (default 10).");
            if (cfg.RequestRetryLimit is not (null or (>= 0 and <= 10))) Error("config.request_retry_limit", "0-10 (default 3).");
            if (cfg.RequestRetryBackoff is not (null or (>= 1 and <= 10))) Error("config.request_retry_backoff", "1-10 (default 2).");
            if (cfg.HmacAlgorithm is not null && !HmacAlgorithms.Contains(cfg.HmacAlgorithm))
                Error("config.hmac_algorithm", $"One of {string.Join(", ", HmacAlgorithms)} (default HMACSHA256).");
            if (cfg.HmacEncoding is not null && !HmacEncodings.Contains(cfg.HmacEncoding)) Error("config.hmac_encoding", "hex or base64 (default hex).");
            foreach (var (rule, value) in cfg.ErrorResponseRules ?? [])
            {
                if (!RulePattern().IsMatch(rule)) Error($"config.error_response_rules.{rule}", "Keys are HTTP:CODE (e.g. 403:FORBIDDEN) or HTTP.");
                else if (value is null) Error($"config.error_response_rules.{rule}", "An object {must_retry?, must_cancel?}.");
            }
        }
        if (errors.Count > 0) return (null, null, errors);

        var config = new WalletConfig(cfg!.RequestTimeout ?? 10, cfg.RequestRetryLimit ?? 3, cfg.RequestRetryBackoff ?? 2, cfg.RetryBackoffSleep ?? false,
            (cfg.ErrorResponseRules ?? []).ToDictionary(r => r.Key, r => new ErrorRule(r.Value!.MustRetry ?? true, r.Value.MustCancel ?? true)),
            cfg.AcceptZeroValueCredits ?? true, cfg.MustCloseGamerounds ?? false, cfg.HmacAlgorithm ?? "HMACSHA256", cfg.HmacEncoding ?? "hex");
        return (new WalletDefinition(body.Id!, body.OperatorId!, body.BrandId!, StandardWallet, c! with { BasePath = c!.BasePath?.TrimEnd('/') }, endpoints,
            config), secret, errors);
    }

    /// <summary>
    /// What to do with a wallet error (spec §5.4): the rule for "status:code", else for "status", else retry and cancel.
    /// </summary>
    public ErrorRule RuleFor(int status, string? code) =>
        (code is not null && Config.ErrorResponseRules.TryGetValue($"{status}:{code}", out var exact) ? exact : null)
        ?? Config.ErrorResponseRules.GetValueOrDefault(status.ToString(System.Globalization.CultureInfo.InvariantCulture))
        ?? new ErrorRule(true, true);

    [GeneratedRegex(@"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,255}$")]
    private static partial Regex PathPattern();

    [GeneratedRegex(@"^[45][0-9]{2}(:[A-Za-z0-9_.-]{1,64})?$")]
    private static partial Regex RulePattern();
}
