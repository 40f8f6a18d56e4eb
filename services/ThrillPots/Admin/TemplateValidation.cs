using ThrillPots.Engine;
using ThrillPots.Templates;

namespace ThrillPots.Admin;

/// <summary>
/// A posted template's rules, each refusal keyed by the field's JSON path: the engine's (Engine/TemplateRules: shares,
/// sum to 1, pot ids, seeds, triggers) plus the admin API's own (required fields, owner grammar, ISO currency, strategies
/// named rather than defaulted). Rules that need the database (owner registered, currency in the table) are the endpoint's.
/// </summary>
public static class TemplateValidation
{
    static readonly string[] JackpotTypes = [TemplateDefinition.Jackpot, TemplateDefinition.RaffleType];

    public static Dictionary<string, string[]> Validate(TemplateDefinition t)
    {
        var errors = TemplateRules.Check(t).GroupBy(v => v.Field).ToDictionary(g => g.Key, g => g.Select(v => v.Message).ToArray());
        void Add(string field, string message)
        {
            if (!errors.ContainsKey(field)) errors[field] = [message];
        }

        if (string.IsNullOrWhiteSpace(t.Name) || t.Name.Length > 200) Add("name", "Required: 1-200 characters.");
        if (!Ids.IsOwner(t.OwnerId)) Add("owner_id", "Required: operator or operator:brand.");
        if (!ThrillPots.Engine.Money.IsKnownCurrency(t.Currency)) Add("currency", "Required: a currency ThrillPots knows (ISO 4217, or BTC, ETH, LTC, USDT).");
        if (t.JackpotType is not null && !JackpotTypes.Contains(t.JackpotType)) Add("jackpot_type", $"One of {string.Join(", ", JackpotTypes)} (or left out).");
        if (t.WinSelectorStrategy != TemplateDefinition.Highest) Add("win_selector_strategy", $"Required: {TemplateDefinition.Highest}.");

        if (t.ContributionRules is not { } rules) Add("contribution_rules", "Required.");
        else
        {
            if (rules.OptInRequired is null) Add("contribution_rules.opt_in_required", "Required: true or false.");
            if (rules.ContributionType?.Fixed is not > 0) Add("contribution_rules.contribution_type.Fixed", "Required: a contribution amount greater than 0.");
            if (rules.OperatorContributionPercentage is not (>= 0 and <= 1))
                Add("contribution_rules.operator_contribution_percentage", "Required: a fraction in [0, 1].");
        }

        for (var i = 0; i < (t.Pots?.Count ?? 0); i++)
        {
            if (t.Pots![i] is not { } pot) continue;
            var p = $"pots[{i}]";
            if (pot.Id is not null && !Ids.IsValid(pot.Id)) Add($"{p}.id", Ids.Rule);
            if (pot.SeedStrategy is { FundStrategy: null }) Add($"{p}.seed_strategy.fund_strategy", $"Required: {SeedStrategy.CollectToMinReseed}.");
            if (pot.SeedStrategy is { ReseedStrategy: null }) Add($"{p}.seed_strategy.reseed_strategy", $"Required: {SeedStrategy.Full}.");
            if (pot.MaxInstantiationCount is < 1) Add($"{p}.max_instantiation_count", "1 or more, or null.");
            if (pot.IsProgressive is null) Add($"{p}.is_progressive", "Required: true or false.");
            if (pot.SupportsExternalTrigger is null) Add($"{p}.supports_external_trigger", "Required: true or false.");
        }
        return errors;
    }
}
