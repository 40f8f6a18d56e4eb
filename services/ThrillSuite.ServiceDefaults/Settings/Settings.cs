using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace ThrillSuite.ServiceDefaults.Settings;

/// <summary>What a service needs from the platform; each service declares its own in Program.cs.</summary>
public sealed record ServiceShape(string Database, bool Messaging = true, bool Grpc = false, bool Authentication = false, params string[] GrpcClients);

/// <summary>Where a resource service finds Thrill-ID: the issuer its tokens name, the audience, and the JWKS (often an internal URL).</summary>
public sealed record AuthSettings(string Issuer, IReadOnlyList<string> Audiences, Uri JwksUri);

/// <summary>The validated settings every service starts from.</summary>
public sealed record ServiceSettings(
    string Name,
    IPAddress BindAddress,
    int HttpPort,
    int? GrpcPort,
    TimeSpan ShutdownGrace,
    string DatabaseName,
    string DatabaseConnectionString,
    Uri? RabbitMq,
    IReadOnlyDictionary<string, Uri> GrpcEndpoints,
    bool DiagnosticsEnabled,
    string? ProbeTarget,
    long MaxRequestBodyBytes,
    AuthSettings? Auth);

/// <summary>
/// Reads the settings and collects every problem, each naming its setting (and its environment-variable
/// form), so a misconfigured pod says at once what to fix instead of failing later on first use.
/// </summary>
public sealed class SettingsReader(IConfiguration configuration)
{
    public List<string> Errors { get; } = [];

    public ServiceSettings Read(ServiceShape shape, string applicationName)
    {
        var name = configuration["Service:Name"] is { Length: > 0 } n ? n : applicationName.ToLowerInvariant();
        var bind = ReadAddress("Service:BindAddress", "0.0.0.0");
        var httpPort = ReadPort("Service:HttpPort", required: true) ?? 0;
        var grpcPort = shape.Grpc ? ReadPort("Service:GrpcPort", required: true) : null;
        if (grpcPort is not null && grpcPort == httpPort) Errors.Add(Describe("Service:GrpcPort") + " must differ from Service:HttpPort.");
        var grace = ReadInt("Service:ShutdownGraceSeconds", 25, 1, 600);
        var maxBody = ReadInt("Service:MaxRequestBodyBytes", 1024 * 1024, 1024, 64 * 1024 * 1024);
        var database = ReadConnectionString(shape.Database);
        var rabbit = shape.Messaging ? ReadUri($"ConnectionStrings:rabbitmq", ["amqp", "amqps"], required: true) : null;
        var endpoints = new Dictionary<string, Uri>(StringComparer.OrdinalIgnoreCase);
        foreach (var client in shape.GrpcClients)
            if (ReadUri($"Grpc:Endpoints:{client}", ["http", "https"], required: true) is { } uri) endpoints[client] = uri;
        var diagnostics = ReadBool("Diagnostics:Enabled", false);
        var probeTarget = configuration["Diagnostics:ProbeTarget"];
        if (probeTarget is { Length: > 0 } && !endpoints.ContainsKey(probeTarget))
            Errors.Add(Describe("Diagnostics:ProbeTarget") + $" names '{probeTarget}', which is not one of this service's gRPC clients ({string.Join(", ", shape.GrpcClients)}).");
        AuthSettings? auth = null;
        if (shape.Authentication && ReadUri("Auth:Issuer", ["http", "https"], required: true) is { } issuer)
        {
            var jwks = configuration["Auth:JwksUri"] is { Length: > 0 }
                ? ReadUri("Auth:JwksUri", ["http", "https"], required: true)
                : new Uri(issuer.AbsoluteUri.TrimEnd('/') + "/.well-known/jwks.json");
            var audiences = (configuration["Auth:Audience"] is { Length: > 0 } a ? a : "thrillsuite")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (jwks is not null) auth = new AuthSettings(configuration["Auth:Issuer"]!, audiences, jwks);
        }
        return new ServiceSettings(name, bind, httpPort, grpcPort, TimeSpan.FromSeconds(grace), shape.Database, database, rabbit,
            endpoints, diagnostics, probeTarget is { Length: > 0 } ? probeTarget : null, maxBody, auth);
    }

    /// <summary>A setting's name as every start-up message gives it: the key and its environment-variable form.</summary>
    public static string Describe(string key) => $"{key} (env {key.Replace(":", "__")})";

    int? ReadPort(string key, bool required)
    {
        var raw = configuration[key];
        if (string.IsNullOrWhiteSpace(raw))
        {
            if (required) Errors.Add(Describe(key) + " is required: a TCP port 1-65535.");
            return null;
        }
        if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535) return port;
        Errors.Add(Describe(key) + $" must be a TCP port 1-65535; got '{raw}'.");
        return null;
    }

    int ReadInt(string key, int fallback, int min, int max)
    {
        var raw = configuration[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        if (int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        Errors.Add(Describe(key) + $" must be a whole number {min}-{max}; got '{raw}'.");
        return fallback;
    }

    bool ReadBool(string key, bool fallback)
    {
        var raw = configuration[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        if (bool.TryParse(raw, out var value)) return value;
        Errors.Add(Describe(key) + $" must be true or false; got '{raw}'.");
        return fallback;
    }

    IPAddress ReadAddress(string key, string fallback)
    {
        var raw = configuration[key] is { Length: > 0 } r ? r : fallback;
        if (IPAddress.TryParse(raw, out var address)) return address;
        Errors.Add(Describe(key) + $" must be an IP address; got '{raw}'.");
        return IPAddress.Any;
    }

    Uri? ReadUri(string key, string[] schemes, bool required)
    {
        var raw = configuration[key];
        if (string.IsNullOrWhiteSpace(raw))
        {
            if (required) Errors.Add(Describe(key) + $" is required: an absolute URI ({string.Join(" or ", schemes)}).");
            return null;
        }
        if (Uri.TryCreate(raw, UriKind.Absolute, out var uri) && schemes.Contains(uri.Scheme)) return uri;
        Errors.Add(Describe(key) + $" must be an absolute URI ({string.Join(" or ", schemes)}); got '{Redact(raw)}'.");
        return null;
    }

    string ReadConnectionString(string database)
    {
        var key = $"ConnectionStrings:{database}";
        var raw = configuration[key];
        if (string.IsNullOrWhiteSpace(raw))
        {
            Errors.Add(Describe(key) + " is required: a PostgreSQL connection string (Host=...;Database=...;Username=...;Password=...).");
            return "";
        }
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(raw);
            if (string.IsNullOrEmpty(builder.Host)) Errors.Add(Describe(key) + " names no Host.");
            if (string.IsNullOrEmpty(builder.Database)) Errors.Add(Describe(key) + " names no Database.");
            builder.ApplicationName ??= database;
            // Statements run five times are prepared on their connection (and survive its return to the pool), so hot
            // paths skip PostgreSQL's parse and plan; a Max Auto Prepare in the connection string wins.
            if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 64;
            return builder.ConnectionString;
        }
        catch (ArgumentException ex)
        {
            // The message never repeats the value: it may hold a password.
            Errors.Add(Describe(key) + $" is not a valid PostgreSQL connection string: {ex.Message}");
            return "";
        }
    }

    static string Redact(string raw) =>
        Uri.TryCreate(raw, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0 ? raw.Replace(uri.UserInfo, "***") : raw;
}
