using System.Net.Mail;
using System.Text.Json.Serialization;

namespace BitBridge.Dispatchers;

/// <summary>POST/PUT /admin/dispatchers body (spec §3.2). Fields nullable so that validation names every missing one.</summary>
public sealed record DispatcherBody(string? Id, string? DispatcherType, string? OperatorId, string? BrandId, string? OwnerId, string[]? EventTypes,
    bool? Enabled, ConfigBody? Config, int? Priority);

/// <summary>Every type's settings in one shape; each type accepts only its own (<see cref="DispatcherDefinition.Fields"/>).</summary>
public sealed record ConfigBody(string? Host, int? Port, string? Tls, string? User, string? Pass, string? From, string? To, string? Token, string? ChatId,
    string? BaseUrl, string? Url, string? Secret, string? Uri, string? Exchange, string? RoutingKey, double? MaxPerSecond);

/// <summary>A type's settings as stored and returned: never a secret.</summary>
public sealed record DispatcherConfig(string? Host = null, int? Port = null, string? Tls = null, string? User = null, string? From = null,
    string? To = null, string? ChatId = null, string? BaseUrl = null, string? Url = null, string? Uri = null, string? Exchange = null,
    string? RoutingKey = null, double? MaxPerSecond = null);

/// <summary>The write-only part of the config, sealed at rest as one JSON object.</summary>
public sealed record DispatcherSecrets(string? Pass = null, string? Token = null, string? Secret = null, string? Password = null)
{
    /// <summary>The stored secrets with the ones given in an update replacing them.</summary>
    public DispatcherSecrets Over(DispatcherSecrets? stored) =>
        new(Pass ?? stored?.Pass, Token ?? stored?.Token, Secret ?? stored?.Secret, Password ?? stored?.Password);
}

public sealed record DispatcherDefinition(string Id, string DispatcherType, string? OperatorId, string? BrandId, string OwnerId, string[] EventTypes,
    bool Enabled, DispatcherConfig Config, int Priority)
{
    public const string Smtp = "Smtp", Telegram = "Telegram", Webhook = "Webhook", Amqp = "Amqp";
    public static readonly string[] Types = [Smtp, Telegram, Webhook, Amqp];
    public const string DefaultTelegramApi = "https://api.telegram.org";

    /// <summary>The config fields each type accepts (snake_case, as in the body).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Fields = new Dictionary<string, string[]>
    {
        [Smtp] = ["host", "port", "tls", "user", "pass", "from", "to", "max_per_second"],
        [Telegram] = ["token", "chat_id", "base_url", "max_per_second"],
        [Webhook] = ["url", "secret", "max_per_second"],
        [Amqp] = ["uri", "exchange", "routing_key", "max_per_second"],
    };

    /// <summary>The scope an event must be in: operator, operator:brand, or everything (unbound).</summary>
    [JsonIgnore]
    public string? Scope => OperatorId is null ? null : BrandId is null ? OperatorId : $"{OperatorId}:{BrandId}";

    /// <summary>
    /// The definition, the secrets given (null fields where the body left them out: an update keeps the stored ones) and every
    /// problem by field. <paramref name="callerOrg"/> is the default owner of an unbound dispatcher.
    /// </summary>
    public static (DispatcherDefinition? Definition, DispatcherSecrets Secrets, Dictionary<string, string[]> Errors) Validate(DispatcherBody body,
        bool secretsRequired, string? callerOrg)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [message];

        if (!Ids.IsValid(body.Id)) Error("id", "Required: " + Ids.Rule);
        if (body.DispatcherType is null || !Types.Contains(body.DispatcherType)) Error("dispatcher_type", $"Required: one of {string.Join(", ", Types)}.");
        if (body.OperatorId is not null && !Ids.IsValid(body.OperatorId)) Error("operator_id", Ids.Rule + " Leave out for a global dispatcher.");
        if (body.BrandId is not null && !Ids.IsValid(body.BrandId)) Error("brand_id", "The bare brand id: " + Ids.Rule);
        if (body.BrandId is not null && body.OperatorId is null) Error("brand_id", "A brand binding needs operator_id.");
        var owner = body.OwnerId ?? (body.OperatorId is null ? callerOrg : body.BrandId is null ? body.OperatorId : $"{body.OperatorId}:{body.BrandId}");
        if (!Ids.IsOwner(owner)) Error("owner_id", "operator or operator:brand (defaults to the binding).");
        else if (body.OperatorId is null && owner != callerOrg) Error("owner_id", "A global dispatcher belongs to the platform organisation: leave owner_id out.");
        else if (body.OperatorId is not null && !Covers(owner!, body.OperatorId, body.BrandId))
            Error("owner_id", "Must be the bound operator, or the bound operator:brand.");
        if (body.EventTypes is not { Length: > 0 and <= 64 } || body.EventTypes.Any(e => !Ids.IsValid(e)))
            Error("event_types", "Required: 1-64 event type names (e.g. JackpotWinEvent, ForgotPasswordStarted).");
        if (body.Priority is < -1_000_000 or > 1_000_000) Error("priority", "An integer within ±1000000 (default 0; larger wins).");

        var c = body.Config;
        var secrets = new DispatcherSecrets();
        DispatcherConfig? config = null;
        if (c is null) Error("config", "Required: the transport's settings.");
        else if (body.DispatcherType is { } type && Fields.TryGetValue(type, out var allowed))
        {
            foreach (var field in Given(c).Where(f => !allowed.Contains(f)))
                Error($"config.{field}", $"Not a {type} setting; {type} takes {string.Join(", ", allowed)}.");
            if (c.MaxPerSecond is not (null or (> 0 and <= 10_000))) Error("config.max_per_second", "Messages per second, > 0 and ≤ 10000, or left out.");
            (config, secrets) = type switch
            {
                Smtp => ValidateSmtp(c, secretsRequired, Error),
                Telegram => ValidateTelegram(c, secretsRequired, Error),
                Webhook => ValidateWebhook(c, secretsRequired, Error),
                _ => ValidateAmqp(c, secretsRequired, Error),
            };
        }
        if (errors.Count > 0) return (null, secrets, errors);
        return (new DispatcherDefinition(body.Id!, body.DispatcherType!, body.OperatorId, body.BrandId, owner!, [.. body.EventTypes!.Distinct()],
            body.Enabled ?? true, config! with { MaxPerSecond = c!.MaxPerSecond }, body.Priority ?? 0), secrets, errors);
    }

    static bool Covers(string owner, string operatorId, string? brandId) =>
        owner == operatorId || (brandId is not null && owner == $"{operatorId}:{brandId}");

    static IEnumerable<string> Given(ConfigBody c)
    {
        (string Name, object? Value)[] all =
        [
            ("host", c.Host), ("port", c.Port), ("tls", c.Tls), ("user", c.User), ("pass", c.Pass), ("from", c.From), ("to", c.To),
            ("token", c.Token), ("chat_id", c.ChatId), ("base_url", c.BaseUrl), ("url", c.Url), ("secret", c.Secret), ("uri", c.Uri),
            ("exchange", c.Exchange), ("routing_key", c.RoutingKey), ("max_per_second", c.MaxPerSecond),
        ];
        return all.Where(f => f.Value is not null).Select(f => f.Name);
    }

    static (DispatcherConfig, DispatcherSecrets) ValidateSmtp(ConfigBody c, bool secretsRequired, Action<string, string> error)
    {
        if (c.Host is not { Length: > 0 and <= 253 } || System.Uri.CheckHostName(c.Host) == UriHostNameType.Unknown)
            error("config.host", "Required: the SMTP server's host name or IP address.");
        if (c.Port is not (null or (>= 1 and <= 65535))) error("config.port", "A TCP port 1-65535 (default 25, 587 with starttls).");
        // System.Net.Mail.SmtpClient speaks STARTTLS only; implicit TLS (port 465) it cannot do.
        if (c.Tls is "implicit") error("config.tls", "Implicit TLS (SMTPS, port 465) is not supported: use starttls (port 587) or none.");
        else if (c.Tls is not (null or "none" or "starttls")) error("config.tls", "none or starttls (default none).");
        if (c.User is not null && c.User.Length is 0 or > 256) error("config.user", "1-256 characters, or left out for no authentication.");
        if (c.Pass is not null && c.Pass.Length is 0 or > 512) error("config.pass", "1-512 characters.");
        if (c.User is not null && c.Pass is null && secretsRequired) error("config.pass", "Required with user.");
        if (!IsAddress(c.From)) error("config.from", "Required: the sender's mail address.");
        if (c.To is not { Length: > 0 and <= 1000 } || (!c.To.Contains("{{", StringComparison.Ordinal) && c.To.Split(',').Any(a => !IsAddress(a.Trim()))))
            error("config.to", "Required: recipient addresses, comma-separated, or a placeholder such as {{data.username}}.");
        return (new DispatcherConfig(Host: c.Host, Port: c.Port ?? (c.Tls == "starttls" ? 587 : 25), Tls: c.Tls ?? "none", User: c.User, From: c.From,
            To: c.To), new DispatcherSecrets(Pass: c.Pass));
    }

    static (DispatcherConfig, DispatcherSecrets) ValidateTelegram(ConfigBody c, bool secretsRequired, Action<string, string> error)
    {
        if (c.Token is null ? secretsRequired : c.Token.Length is < 8 or > 256 || c.Token.Any(char.IsWhiteSpace) || c.Token.Contains('/'))
            error("config.token", "Required: the bot token (8-256 characters, no spaces or '/').");
        if (c.ChatId is not { Length: > 0 and <= 128 }) error("config.chat_id", "Required: the chat id (e.g. \"-100123\" or \"@channel\").");
        if (c.BaseUrl is not null && !IsHttpUrl(c.BaseUrl)) error("config.base_url", "An absolute http(s) URL (default " + DefaultTelegramApi + ").");
        return (new DispatcherConfig(ChatId: c.ChatId, BaseUrl: (c.BaseUrl ?? DefaultTelegramApi).TrimEnd('/')), new DispatcherSecrets(Token: c.Token));
    }

    static (DispatcherConfig, DispatcherSecrets) ValidateWebhook(ConfigBody c, bool secretsRequired, Action<string, string> error)
    {
        if (!IsHttpUrl(c.Url)) error("config.url", "Required: an absolute http(s) URL.");
        if (c.Secret is null ? secretsRequired : c.Secret.Length is < 16 or > 512) error("config.secret", "Required: the HMAC key, 16-512 characters.");
        return (new DispatcherConfig(Url: c.Url), new DispatcherSecrets(Secret: c.Secret));
    }

    /// <summary>The URI's password is split off into the secrets; the stored and returned URI has none.</summary>
    static (DispatcherConfig, DispatcherSecrets) ValidateAmqp(ConfigBody c, bool secretsRequired, Action<string, string> error)
    {
        string? password = null, uri = null;
        if (!System.Uri.TryCreate(c.Uri, UriKind.Absolute, out var u) || u.Scheme is not ("amqp" or "amqps") || u.Host.Length == 0)
            error("config.uri", "Required: amqp(s)://user:password@host:port/vhost.");
        else
        {
            var info = u.UserInfo.Split(':', 2);
            if (info.Length == 2 && info[1].Length > 0) password = System.Uri.UnescapeDataString(info[1]);
            else if (secretsRequired && info[0].Length > 0) error("config.uri", "The user's password is required in the URI.");
            uri = new UriBuilder(u) { Password = "" }.Uri.ToString();
        }
        if (c.Exchange is not { Length: > 0 and <= 255 }) error("config.exchange", "Required: the exchange to publish to (it must exist).");
        if (c.RoutingKey is { Length: > 255 }) error("config.routing_key", "At most 255 characters (default: the event type).");
        return (new DispatcherConfig(Uri: uri, Exchange: c.Exchange, RoutingKey: c.RoutingKey), new DispatcherSecrets(Password: password));
    }

    static bool IsAddress(string? s) => s is { Length: > 0 and <= 320 } && MailAddress.TryCreate(s, out _);

    static bool IsHttpUrl(string? s) => System.Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme is "http" or "https";
}
