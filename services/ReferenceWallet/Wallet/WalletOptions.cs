using Microsoft.Extensions.Options;

namespace ReferenceWallet.Wallet;

/// <summary>The wallet's own settings (section <c>Wallet</c>), validated before the service migrates or listens.</summary>
public sealed record WalletOptions
{
    public const string Section = "Wallet";
    public const int MinimumLength = 16;

    /// <summary>HMAC-SHA256 key (its UTF-8 bytes) shared with ThrillGate, whose wallet definition holds it as config.secret_key.</summary>
    public string Secret { get; init; } = "";

    /// <summary>Bearer token of the simulation controls under /sim.</summary>
    public string AdminToken { get; init; } = "";

    /// <summary>Largest request body accepted; the whole body is read once to check its signature.</summary>
    public int MaxBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>Players to create at start when they do not exist (<c>Wallet:Players:N:Id</c>, <c>Token</c>, <c>Currency</c>, <c>Balance</c>,
    /// <c>OperatorId</c>, <c>BrandId</c>, <c>Nickname</c>).</summary>
    public List<ReferenceWallet.Simulation.SeedPlayer> Players { get; init; } = [];
}

internal sealed class WalletOptionsValidator : IValidateOptions<WalletOptions>
{
    public ValidateOptionsResult Validate(string? name, WalletOptions options)
    {
        var errors = new List<string>();
        RequireSecret(errors, "Wallet:Secret", options.Secret, "the HMAC key ThrillGate signs each request body with");
        RequireSecret(errors, "Wallet:AdminToken", options.AdminToken, "the Bearer token of the /sim controls");
        if (options.MaxBodyBytes is < 1024 or > 64 * 1024 * 1024)
            errors.Add($"{Describe("Wallet:MaxBodyBytes")} must be 1024-67108864; got {options.MaxBodyBytes}.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    // The same wording as the platform's settings errors: the key and its environment-variable form.
    static string Describe(string key) => $"{key} (env {key.Replace(":", "__")})";

    static void RequireSecret(List<string> errors, string key, string value, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
            errors.Add($"{Describe(key)} is required: {what}, at least {WalletOptions.MinimumLength} characters.");
        else if (value.Length < WalletOptions.MinimumLength)
            errors.Add($"{Describe(key)} is too short: {what} needs at least {WalletOptions.MinimumLength} characters; got {value.Length}.");
    }
}
