global using NUnit.Framework;
global using ThrillPots.Engine;
global using ThrillPots.Templates;

namespace ThrillPots.Tests;

/// <summary>Templates for the tests, starting from the spec's "Quick Hit" example (spec §6).</summary>
static class Templates
{
    public static PotDefinition Pot(
        string id, decimal contribution, decimal seed, decimal? minReseed = null, decimal seedContribution = 0.85m,
        decimal? maxPotValue = null, bool progressive = true, PotType[]? types = null) =>
        new(id, new Share(contribution), new Share(seedContribution),
            new SeedStrategy(seed, minReseed ?? seed, SeedStrategy.CollectToMinReseed, SeedStrategy.Full),
            null, progressive, false, types ?? [HitRate(5, 0.1m)], null, maxPotValue);

    public static PotType HitRate(long m, decimal k) => new(new HitRateTrigger(m, k), null, null);
    public static PotType ByValue(decimal max) => new(null, new MustDropByValueTrigger(max), null);
    public static PotType ByTime(string? daily = null, long? deadline = null, long window = 3600) =>
        new(null, null, new MustDropByTimeTrigger(daily, deadline, window));
    public static PotType Never => HitRate(long.MaxValue, 1_000_000m);

    public static TemplateDefinition Template(string currency, decimal house, params PotDefinition[] pots) =>
        new("Test", "op:brand", currency, new ContributionRules(true, new ContributionType(0.1m), 0m), new Share(house),
            TemplateDefinition.Highest, pots, TemplateDefinition.Jackpot);

    public static TemplateDefinition QuickHit(string currency = "EUR") => Template(currency, 0.3m,
        Pot("minor", 0.25m, 10m, types: [HitRate(5, 0.1m)]),
        Pot("major", 0.25m, 100m, types: [HitRate(25, 0.1m)]),
        Pot("mega", 0.2m, 1000m, types: [HitRate(1000, 0.1m)]));

    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<PotState> Start(TemplateDefinition template, IRandomSource? random = null) =>
        InstanceMath.Initialize(template, random ?? new DeterministicRandomSource(1), T0);
}
