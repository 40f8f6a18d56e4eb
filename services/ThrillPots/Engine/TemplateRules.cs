using System.Globalization;
using ThrillPots.Templates;

namespace ThrillPots.Engine;

/// <summary>A broken rule: the JSON path of the field (snake_case, as the template is posted) and what is wrong.</summary>
public sealed record TemplateViolation(string Field, string Message);

/// <summary>
/// The pure checks the engine relies on (design.md §4). The admin API adds its own (owner exists, name, publishing) and
/// reports these as they are. An empty list means <see cref="InstanceMath"/> can run the template.
/// </summary>
public static class TemplateRules
{
    public const decimal ShareTolerance = 0.000000001m;

    public static IReadOnlyList<TemplateViolation> Check(TemplateDefinition template)
    {
        var errors = new List<TemplateViolation>();
        void Error(string field, string message) => errors.Add(new(field, message));

        if (string.IsNullOrEmpty(template.Currency))
            Error("currency", "is required");
        else if (!Money.IsKnownCurrency(template.Currency))
            Error("currency", $"'{template.Currency}' is not a known ISO 4217 (or supported crypto) currency code");
        if (template.WinSelectorStrategy is not (null or TemplateDefinition.Highest))
            Error("win_selector_strategy", $"'{template.WinSelectorStrategy}' is not supported; use \"Highest\"");

        var total = Fraction(template.HouseHoldContribution, "house_hold_contribution", Error) ?? 0m;
        if (template.Pots is not { Count: > 0 } pots)
        {
            Error("pots", "at least one pot is required");
            return errors;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < pots.Count; i++)
        {
            var pot = pots[i];
            var at = $"pots[{i}]";
            if (pot is null)
            {
                Error(at, "is required");
                continue;
            }
            if (string.IsNullOrWhiteSpace(pot.Id))
                Error($"{at}.id", "is required");
            else if (!ids.Add(pot.Id))
                Error($"{at}.id", $"'{pot.Id}' is used by another pot of this template");
            total += Fraction(pot.Contribution, $"{at}.contribution", Error) ?? 0m;
            Fraction(pot.SeedContribution, $"{at}.seed_contribution", Error);
            CheckSeeds(pot, at, Error);
            // A raffle's pot is its prize pool, paid by the draw (spec §9): it has no win trigger, so no community part either.
            if (template.JackpotType == TemplateDefinition.RaffleType)
            {
                if (pot.PotTypes is { Count: > 0 }) Error($"{at}.pot_types", "a raffle's pot has no win trigger: leave pot_types out or empty");
                if (pot.Community is not null) Error($"{at}.community", "community payouts share a pot win; a raffle's pot is paid by its draw");
            }
            else
            {
                CheckPotTypes(pot, at, Error);
                CheckCommunity(pot, at, Error);
            }
        }
        Raffles.RaffleMath.Check(template, Error);
        AlwaysFair.Check(template, Error);
        if (Math.Abs(total - 1m) > ShareTolerance)
            Error("pots", $"house_hold_contribution and the pots' contribution shares add up to {total.ToString(CultureInfo.InvariantCulture)}, not 1");
        return errors;
    }

    static decimal? Fraction(Share? share, string field, Action<string, string> error)
    {
        if (share?.Percentage is not decimal value)
        {
            error($"{field}.Percentage", "is required");
            return null;
        }
        if (value is < 0m or > 1m)
            error($"{field}.Percentage", "must be a fraction within [0, 1]");
        return value;
    }

    static void CheckSeeds(PotDefinition pot, string at, Action<string, string> error)
    {
        var seeds = pot.SeedStrategy;
        if (seeds is null)
        {
            error($"{at}.seed_strategy", "is required");
            return;
        }
        if (seeds.InitialSeedValue is not decimal initial)
            error($"{at}.seed_strategy.initial_seed_value", "is required");
        else if (initial < 0m)
            error($"{at}.seed_strategy.initial_seed_value", "must be ≥ 0");
        if (seeds.MinReseedValue is not decimal minReseed)
            error($"{at}.seed_strategy.min_reseed_value", "is required");
        else if (minReseed < 0m)
            error($"{at}.seed_strategy.min_reseed_value", "must be ≥ 0");
        if (seeds.FundStrategy is not (null or SeedStrategy.CollectToMinReseed))
            error($"{at}.seed_strategy.fund_strategy", $"'{seeds.FundStrategy}' is not supported; use \"CollectToMinReseed\"");
        if (seeds.ReseedStrategy is not (null or SeedStrategy.Full))
            error($"{at}.seed_strategy.reseed_strategy", $"'{seeds.ReseedStrategy}' is not supported; use \"Full\"");
        if (pot.MaxPotValue is decimal cap)
        {
            if (cap <= 0m)
                error($"{at}.max_pot_value", "must be > 0 when set");
            if (seeds.MinReseedValue > cap)
                error($"{at}.seed_strategy.min_reseed_value", "must not exceed max_pot_value");
            if (seeds.InitialSeedValue > cap)
                error($"{at}.seed_strategy.initial_seed_value", "must not exceed max_pot_value");
        }
    }

    static void CheckPotTypes(PotDefinition pot, string at, Action<string, string> error)
    {
        if (pot.PotTypes is not { Count: > 0 } types)
        {
            error($"{at}.pot_types", "at least one trigger is required");
            return;
        }
        int byValue = 0, byTime = 0;
        for (var j = 0; j < types.Count; j++)
        {
            var type = types[j];
            var field = $"{at}.pot_types[{j}]";
            var members = type is null ? 0 : (type.HitRate is null ? 0 : 1) + (type.MustDropByValue is null ? 0 : 1) + (type.MustDropByTime is null ? 0 : 1);
            if (members != 1)
            {
                error(field, "exactly one of HitRate, MustDropByValue, MustDropByTime must be set");
                continue;
            }
            if (type!.HitRate is { } hitRate)
            {
                if (hitRate.MaxMagicNumber is not >= 1)
                    error($"{field}.HitRate.max_magic_number", "must be an integer ≥ 1");
                if (hitRate.CostPerAttempt is not > 0m)
                    error($"{field}.HitRate.cost_per_attempt", "must be > 0");
            }
            else if (type.MustDropByValue is { } dropByValue)
            {
                if (++byValue > 1)
                    error(field, "a pot has at most one MustDropByValue");
                if (dropByValue.MaxValue is not decimal max)
                    error($"{field}.MustDropByValue.max_value", "is required");
                else
                {
                    if (pot.SeedStrategy?.InitialSeedValue is decimal initial && max <= initial)
                        error($"{field}.MustDropByValue.max_value", "must exceed seed_strategy.initial_seed_value");
                    if (pot.SeedStrategy?.MinReseedValue is decimal minReseed && max <= minReseed)
                        error($"{field}.MustDropByValue.max_value", "must exceed seed_strategy.min_reseed_value");
                    if (pot.MaxPotValue is decimal cap && max > cap)
                        error($"{field}.MustDropByValue.max_value", "must not exceed max_pot_value, or the pot could never reach its drop");
                }
            }
            else if (type.MustDropByTime is { } dropByTime)
            {
                if (++byTime > 1)
                    error(field, "a pot has at most one MustDropByTime");
                if ((dropByTime.DailyTime is null) == (dropByTime.DeadlineTimestamp is null))
                    error($"{field}.MustDropByTime", "exactly one of daily_time and deadline_timestamp must be set");
                if (dropByTime.DailyTime is { } daily
                    && !TimeOnly.TryParseExact(daily, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                    error($"{field}.MustDropByTime.daily_time", "must be a UTC time of day \"HH:mm\"");
                if (dropByTime.DeadlineTimestamp is <= 0)
                    error($"{field}.MustDropByTime.deadline_timestamp", "must be a Unix time in milliseconds");
                if (dropByTime.WindowSeconds is not > 0)
                    error($"{field}.MustDropByTime.window_seconds", "must be > 0");
            }
        }
    }

    /// <summary>A pot's community payout: shares in (0, 1], whole winner counts, one strategy of each kind, strategy shares
    /// adding up to the community share.</summary>
    static void CheckCommunity(PotDefinition pot, string at, Action<string, string> error)
    {
        if (pot.Community is not { } community) return;
        var field = $"{at}.community";
        if (community.Share is not decimal share)
            error($"{field}.share", "is required");
        else if (share is <= 0m or > 1m)
            error($"{field}.share", "must be a fraction within (0, 1]");
        if (community.Strategies is not { Count: > 0 } strategies)
        {
            error($"{field}.strategies", "at least one strategy is required");
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var total = 0m;
        for (var j = 0; j < strategies.Count; j++)
        {
            var item = $"{field}.strategies[{j}]";
            if (strategies[j]?.Selected is not { } selected)
            {
                error(item, "exactly one of ActivePlayers, HighestContributionPerWin, HighestLifetimeContributor must be set");
                continue;
            }
            var (name, strategyShare, winners) = selected;
            var path = $"{item}.{name}";
            if (!seen.Add(name))
                error(item, $"a community payout has at most one {name}");
            if (strategyShare is not decimal s)
                error($"{path}.share", "is required");
            else if (s is <= 0m or > 1m)
                error($"{path}.share", "must be a fraction of the payout within (0, 1]");
            else
                total += s;
            if (winners is not decimal w || w < 1m || w != decimal.Truncate(w) || w > int.MaxValue)
                error($"{path}.winners", "must be an integer ≥ 1");
            if (strategies[j]!.ActivePlayers is { } active && active.WindowHours is not > 0m)
                error($"{path}.window_hours", "must be > 0");
        }
        if (community.Share is decimal communityShare && Math.Abs(total - communityShare) > ShareTolerance
            && strategies.All(s => s?.Selected is { Share: > 0m and <= 1m }))
            error($"{field}.strategies", $"the strategies' shares add up to {total.ToString(CultureInfo.InvariantCulture)}, not the community share {communityShare.ToString(CultureInfo.InvariantCulture)}");
    }
}
