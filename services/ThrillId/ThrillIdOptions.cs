using Microsoft.Extensions.Options;
using static ThrillSuite.ServiceDefaults.Settings.SettingsReader;

namespace ThrillId;

public sealed class ThrillIdOptions
{
    public string Issuer { get; set; } = "";
    public string Audiences { get; set; } = "thrillsuite";
    public int UserTokenLifetimeSeconds { get; set; } = 1800;
    public int ServiceTokenLifetimeSeconds { get; set; } = 1800;
    public int RefreshTokenLifetimeSeconds { get; set; } = 7 * 24 * 3600;

    public string[] AudienceList => Audiences.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    public TimeSpan LongestAccessTokenLifetime => TimeSpan.FromSeconds(Math.Max(UserTokenLifetimeSeconds, ServiceTokenLifetimeSeconds));
}

public sealed class SigningKeyOptions
{
    public string Algorithm { get; set; } = "ES256";
    public int RotationDays { get; set; } = 30;
    /// <summary>How often each replica reloads the key set (other replicas' rotations, scheduled rotation).</summary>
    public int RefreshSeconds { get; set; } = 60;
    public string EncryptionKey { get; set; } = "";

    public byte[] EncryptionKeyBytes => Convert.FromBase64String(EncryptionKey);
}

public sealed class BootstrapOptions
{
    public string AdminUser { get; set; } = "";
    public string AdminPassword { get; set; } = "";
    public string Organisation { get; set; } = "thrilltech";
}

public sealed class LoginOptions
{
    public int MaxFailures { get; set; } = 5;
    public int LockoutSeconds { get; set; } = 300;
    public int PerAddressPerMinute { get; set; } = 30;
}

public sealed class PasswordResetOptions
{
    /// <summary>How long a forgot-password one-time password is valid.</summary>
    public int OtpLifetimeSeconds { get; set; } = 900;
    /// <summary>Digits of the one-time password (6-8).</summary>
    public int OtpDigits { get; set; } = 8;
    /// <summary>Wrong one-time passwords after which the pending one is void.</summary>
    public int MaxAttempts { get; set; } = 5;
    /// <summary>Starts per account per <see cref="StartWindowSeconds"/>; further starts answer the same and do nothing.</summary>
    public int MaxStarts { get; set; } = 3;
    public int StartWindowSeconds { get; set; } = 900;
}

/// <summary>Checks every Thrill-ID setting at start-up, naming each wrong one.</summary>
internal sealed class ThrillIdOptionsValidator(IOptions<SigningKeyOptions> keys, IOptions<LoginOptions> login, IOptions<PasswordResetOptions> reset) : IValidateOptions<ThrillIdOptions>
{
    public ValidateOptionsResult Validate(string? name, ThrillIdOptions o)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(o.Issuer, UriKind.Absolute, out var issuer) || issuer.Scheme is not ("http" or "https"))
            errors.Add($"{Describe("ThrillId:Issuer")} is required: the absolute http(s) URI tokens name as their issuer; got '{o.Issuer}'.");
        if (o.AudienceList.Length == 0) errors.Add($"{Describe("ThrillId:Audiences")} must name at least one audience.");
        Range(errors, "ThrillId:UserTokenLifetimeSeconds", o.UserTokenLifetimeSeconds, 1, 86_400);
        Range(errors, "ThrillId:ServiceTokenLifetimeSeconds", o.ServiceTokenLifetimeSeconds, 1, 86_400);
        Range(errors, "ThrillId:RefreshTokenLifetimeSeconds", o.RefreshTokenLifetimeSeconds, 60, 90 * 86_400);

        var k = keys.Value;
        if (k.Algorithm is not ("ES256" or "RS256")) errors.Add($"{Describe("SigningKeys:Algorithm")} must be ES256 or RS256; got '{k.Algorithm}'.");
        Range(errors, "SigningKeys:RotationDays", k.RotationDays, 1, 3650);
        Range(errors, "SigningKeys:RefreshSeconds", k.RefreshSeconds, 1, 3600);
        byte[]? key = null;
        try { key = string.IsNullOrEmpty(k.EncryptionKey) ? null : k.EncryptionKeyBytes; }
        catch (FormatException) { }
        if (key is not { Length: 32 })
            errors.Add($"{Describe("SigningKeys:EncryptionKey")} is required: base64 of 32 random bytes (it encrypts the signing keys at rest).");

        var l = login.Value;
        Range(errors, "Login:MaxFailures", l.MaxFailures, 1, 1000);
        Range(errors, "Login:LockoutSeconds", l.LockoutSeconds, 1, 86_400);
        Range(errors, "Login:PerAddressPerMinute", l.PerAddressPerMinute, 1, 100_000);

        var r = reset.Value;
        Range(errors, "PasswordReset:OtpLifetimeSeconds", r.OtpLifetimeSeconds, 60, 86_400);
        Range(errors, "PasswordReset:OtpDigits", r.OtpDigits, 6, 8);
        Range(errors, "PasswordReset:MaxAttempts", r.MaxAttempts, 1, 100);
        Range(errors, "PasswordReset:MaxStarts", r.MaxStarts, 1, 1000);
        Range(errors, "PasswordReset:StartWindowSeconds", r.StartWindowSeconds, 1, 86_400);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    static void Range(List<string> errors, string key, int value, int min, int max)
    {
        if (value < min || value > max) errors.Add($"{Describe(key)} must be {min}-{max}; got {value}.");
    }
}
