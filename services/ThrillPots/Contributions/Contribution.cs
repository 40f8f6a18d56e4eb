using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ThrillPots.Engine;

namespace ThrillPots.Contributions;

/// <summary>
/// One validated contribution for one instance, as every front door (v1, v2, batch, gRPC, async) hands it to the instance's
/// writer. <see cref="BrandId"/> is <c>operator:brand</c>. <see cref="Hash"/> covers the content that must match for a
/// repeat of the idempotency key (instance, brand, player, gameround) to be the same contribution (design.md §5): currency,
/// base wager, country and metadata, not the player's session token nor the route it came by.
/// </summary>
public sealed record Contribution(
    string BrandId,
    string PlayerId,
    string GameroundId,
    string? PlayerCountry,
    string Currency,
    decimal BaseWager,
    string? SourceId,
    string? Token,
    string? MetadataJson)
{
    public string OperatorId => BrandId[..BrandId.IndexOf(':')];

    /// <summary>Set when the player's wallet was debited for it (a wallet-integrated brand): the amount taken, in the player's
    /// currency, is the contribution's value; not part of <see cref="Hash"/>.</summary>
    public Prepaid? Prepaid { get; init; }

    public byte[] Hash { get; } = SHA256.HashData(Encoding.UTF8.GetBytes(
        $"{Currency}\n{DropCommitments.FormatValue(BaseWager)}\n{PlayerCountry}\n{MetadataJson}"));
}

/// <summary>
/// What paid for a contribution in advance: a debit from the player's wallet (its amount in the player currency and wallet
/// transaction id), or a free bet (issue 9: the amount the player's ThrillGate bonus <see cref="FreeBetId"/> gave, no debit).
/// </summary>
public sealed record Prepaid(decimal Amount, string? TransactionId, Guid? FreeBetId = null);

/// <summary>What happened to one contribution on one instance.</summary>
public static class Outcomes
{
    public const string Accepted = "accepted", Duplicate = "duplicate", Rejected = "rejected", Conflict = "conflict",
        Invalid = "invalid", Unavailable = "unavailable";
}

/// <summary>Machine-readable reasons of a refusal, each with the HTTP status a single-target endpoint answers.</summary>
public static class Reasons
{
    public const string NotFound = "not_found", InstanceNotActive = "instance_not_active", BrandNotAllowed = "brand_not_allowed",
        SourceNotAllowed = "source_not_allowed", NotOptedIn = "not_opted_in", CurrencyNotSupported = "currency_not_supported",
        BrandDisabled = "brand_disabled", KeyConflict = "key_conflict", Forbidden = "forbidden", Unavailable = "unavailable",
        Invalid = "invalid", TokenRequired = "player_token_required", TokenInvalid = "player_token_invalid", PlayerMismatch = "player_mismatch",
        WalletRefused = "wallet_refused", WalletUnavailable = "wallet_unavailable", WalletNotConfigured = "wallet_not_configured",
        OutsideSchedule = "outside_schedule";

    public static int HttpStatus(string? reason) => reason switch
    {
        NotFound => StatusCodes.Status404NotFound,
        Forbidden => StatusCodes.Status403Forbidden,
        CurrencyNotSupported or Invalid or TokenRequired => StatusCodes.Status400BadRequest,
        Unavailable or WalletUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status409Conflict,
    };
}

public sealed record WinSummary(Guid WinId, string PotId, decimal WinAmount, decimal PlayerWinAmount, decimal Seed, decimal SeedDeficit,
    string Trigger, bool WinWithheld);

public sealed record AppliedMultipliers(string BaseCurrency, decimal Player, decimal Jackpot);

/// <summary>The result of one contribution on one instance: an applied (or repeated) contribution, or why not.</summary>
public sealed record ContributionResult(
    Guid? InstanceId,
    string Outcome,
    string? Reason = null,
    string? Detail = null,
    Guid? ContributionId = null,
    string? JackpotCurrency = null,
    decimal? ContributionValue = null,
    string? PlayerCurrency = null,
    decimal? PlayerContributionValue = null,
    AppliedMultipliers? CurrencyMultipliers = null,
    long? Timestamp = null,
    IReadOnlyList<WinSummary>? Wins = null,
    string? InstanceState = null,
    IReadOnlyDictionary<string, string[]>? Errors = null)
{
    /// <summary>With <see cref="Reasons.OutsideSchedule"/>: when the instance's schedule opens next (epoch ms; null: never).</summary>
    public long? NextOpenTimestamp { get; init; }

    [JsonIgnore] public bool Succeeded => Outcome is Outcomes.Accepted or Outcomes.Duplicate;

    public static ContributionResult Refused(Guid? instanceId, string reason, string detail, string? state = null) =>
        new(instanceId, reason == Reasons.KeyConflict ? Outcomes.Conflict : reason == Reasons.Unavailable ? Outcomes.Unavailable : Outcomes.Rejected,
            reason, detail, InstanceState: state);
}

/// <summary>The hidden MustDrop state of a pot as the pots.drops column keeps it.</summary>
public sealed record PotDrops(DropCommitment? Value, DropCommitment? Time, string? LastEligibleContributionId, long? LastEligibleAtMs)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static string? Serialize(PotState pot) =>
        pot.ValueDrop is null && pot.TimeDrop is null && pot.LastEligibleContributionId is null
            ? null
            : JsonSerializer.Serialize(new PotDrops(pot.ValueDrop, pot.TimeDrop, pot.LastEligibleContributionId, pot.LastEligibleAtMs), Json);

    public static PotState Apply(PotState pot, string? json)
    {
        if (json is null) return pot;
        var drops = JsonSerializer.Deserialize<PotDrops>(json, Json)!;
        return pot with
        {
            ValueDrop = drops.Value, TimeDrop = drops.Time,
            LastEligibleContributionId = drops.LastEligibleContributionId, LastEligibleAtMs = drops.LastEligibleAtMs,
        };
    }
}

public static class ContributionValues
{
    /// <summary>
    /// A contribution's value in the jackpot currency (design.md §4): the player's preferred value when opted in with one
    /// (in the currency it was chosen in, converted), else the template's <c>Fixed</c>; then, when the template sets Always
    /// Fair bounds for <paramref name="playerCurrency"/>, clamped into them (<see cref="AlwaysFair.Clamp"/>).
    /// </summary>
    public static decimal InJackpotCurrency(ThrillPots.Templates.TemplateDefinition template, bool optedIn, decimal? preferred, string? preferredCurrency,
        MultiplierSet set, string jackpotCurrency, string? playerCurrency = null)
    {
        var value = optedIn && preferred is decimal chosen
            ? set.Convert(chosen, preferredCurrency ?? jackpotCurrency, jackpotCurrency)
            : template.ContributionRules?.ContributionType?.Fixed ?? 0m;
        return playerCurrency is null ? value : AlwaysFair.Clamp(template, value, set, jackpotCurrency, playerCurrency);
    }
}
