using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Engine;
using ThrillPots.Jackpots;
using ThrillPots.Templates;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Data.Outbox;

namespace ThrillPots.Community;

/// <summary>One community credit of a win: its payout id (the wallet transaction derives from it) and where it goes.</summary>
public sealed record CommunityPayoutRow(Guid Id, CommunityShare Share, string PlayerCurrency, decimal PlayerAmount, bool Withheld);

/// <summary>A win's community part: the split (jackpot currency) and a credit per share.</summary>
public sealed record CommunityAward(CommunitySplit Split, IReadOnlyList<CommunityPayoutRow> Payouts)
{
    /// <summary>The event's community_winners: amounts in each player's currency.</summary>
    public IReadOnlyList<PayoutRecord> Records =>
        [.. Payouts.Select(p => new PayoutRecord(p.Share.PlayerId, p.Share.BrandId, p.PlayerCurrency, p.PlayerAmount))];
}

/// <summary>
/// Chooses a win's community winners inside the instance writer's transaction (spec §8, design.md §4). Candidates come
/// from the ledger as committed before this batch plus this batch's contributions up to and including the winning one
/// (<see cref="Add"/> is called for each in arrival order), so a later contribution of the same batch never shares an
/// earlier win. The triggering player is a contributor like any other and can be a community winner too.
/// </summary>
public sealed class CommunityResolver(Guid instanceId, NpgsqlConnection conn, NpgsqlTransaction tx, TemplateDefinition definition,
    string jackpotCurrency, DateTimeOffset now, DateTime totalsThrough, IRandomSource random, Func<string, MultiplierSet?> multipliersOf,
    Func<string, bool> integrated)
{
    sealed record Fresh(string BrandId, string PlayerId, string Currency, decimal Value, IReadOnlyList<PotShare> Shares);

    readonly List<Fresh> fresh = [];
    // Per pot won earlier in this batch: how many of the batch's contributions came before that win.
    readonly Dictionary<string, int> wonAt = new(StringComparer.Ordinal);

    public static bool Applies(TemplateDefinition definition) => definition.Pots?.Any(p => p?.Community is not null) == true;

    public void Add(string brandId, string playerId, string currency, decimal value, IReadOnlyList<PotShare> shares) =>
        fresh.Add(new Fresh(brandId, playerId, currency, value, shares));

    /// <summary>The community part of a win of <paramref name="win"/>'s pot, or null when the pot has none.</summary>
    public CommunityAward? Resolve(PotWin win)
    {
        var pots = definition.Pots!;
        var position = pots.ToList().FindIndex(p => p?.Id == win.PotId);
        var community = position < 0 ? null : pots[position].Community;
        var since = wonAt.GetValueOrDefault(win.PotId, -1);
        wonAt[win.PotId] = fresh.Count;
        if (community?.Strategies is not { } strategies || win.WinAmount <= 0m) return null;

        var draws = new List<CommunityDraw>();
        foreach (var strategy in strategies)
        {
            var (name, share, winners) = strategy.Selected!.Value;
            var count = (int)winners!.Value;
            var candidates = name switch
            {
                CommunityStrategy.ActivePlayersName => Candidates(
                    "created_at >= @from", new { from = now.UtcDateTime.AddHours(-(double)strategy.ActivePlayers!.WindowHours!.Value) }, "1::numeric",
                    fresh.Select(f => (f, 1m))),
                CommunityStrategy.HighestContributionPerWinName => since >= 0
                    // Won earlier in this batch: only what came after that win counts.
                    ? Merge([], fresh.Skip(since).Select(f => (f, f.Shares[position].Share)), since)
                    : Candidates("(@lastWin::timestamptz is null or created_at > @lastWin)", new { lastWin = LastWin(win.PotId) },
                        $"pot_shares[{position + 1}]", fresh.Select(f => (f, f.Shares[position].Share))),
                _ => Merge(Committed(Lifetime, new { totalsThrough }), fresh.Select(f => (f, f.Value)), 0),
            };
            candidates = [.. candidates.Where(c => currencies.ContainsKey((c.BrandId, c.PlayerId)))];
            var chosen = name == CommunityStrategy.ActivePlayersName
                ? CommunityPayouts.Random(candidates, count, random)
                : CommunityPayouts.Top(candidates, count);
            draws.Add(new CommunityDraw(name, share!.Value, chosen));
        }
        var split = CommunityPayouts.Split(win.WinAmount, jackpotCurrency, draws);
        var payouts = split.Shares.Select(s =>
        {
            var currency = currencies[(s.BrandId, s.PlayerId)];
            var amount = Money.RoundDown(multipliersOf(s.BrandId)!.Convert(s.Amount, jackpotCurrency, currency), currency);
            return new CommunityPayoutRow(Guid.CreateVersion7(), s, currency, amount, Withheld: !integrated(s.BrandId));
        }).ToList();
        return new CommunityAward(split, payouts);
    }

    // Each candidate's wallet currency: their latest contribution's (this batch's first), kept only where it converts.
    readonly Dictionary<(string, string), string> currencies = [];

    DateTime? LastWin(string potId) => conn.ExecuteScalar<DateTime?>(new CommandDefinition(
        "select last_win_at from pots where instance_id = @instanceId and pot_id = @potId", new { instanceId, potId }, tx));

    /// <summary>
    /// Each player's lifetime Σ value, first contribution and latest currency, from <see cref="Leaderboards.LifetimeRows"/>
    /// (the mark as read with the instance in this transaction) instead of the whole ledger.
    /// </summary>
    internal const string Lifetime = $"""
        select brand_id, player_id, sum(v), min(f), (array_agg(c order by l desc))[1]
        from ({Leaderboards.LifetimeRows}) x
        group by brand_id, player_id
        """;

    /// <summary>Ledger rows matching <paramref name="where"/> summed per player by <paramref name="measure"/>, plus this batch's.</summary>
    List<CommunityCandidate> Candidates(string where, object args, string measure, IEnumerable<(Fresh Row, decimal Amount)> batch) =>
        Merge(Committed($"""
            select brand_id, player_id, coalesce(sum({measure}), 0), min(created_at),
                   (array_agg(player_currency order by created_at desc))[1]
            from contributions where instance_id = @instanceId and {where}
            group by brand_id, player_id
            """, args), batch, 0);

    /// <summary>Per player as committed before this batch: (brand, player, amount, first contribution, latest currency).</summary>
    List<CommunityCandidate> Committed(string sql, object args)
    {
        var parameters = new DynamicParameters(args);
        parameters.Add("instanceId", instanceId);
        var rows = conn.Query<(string BrandId, string PlayerId, decimal Amount, DateTime FirstAt, string Currency)>(new CommandDefinition(sql, parameters, tx));
        return [.. rows.Select(r =>
        {
            Remember(r.BrandId, r.PlayerId, r.Currency, overwrite: false);
            return new CommunityCandidate(r.BrandId, r.PlayerId, r.Amount, r.FirstAt, 0);
        })];
    }

    List<CommunityCandidate> Merge(List<CommunityCandidate> committed, IEnumerable<(Fresh Row, decimal Amount)> batch, int offset)
    {
        var byPlayer = committed.ToDictionary(c => (c.BrandId, c.PlayerId));
        var order = offset;
        foreach (var (row, amount) in batch)
        {
            order++;
            Remember(row.BrandId, row.PlayerId, row.Currency, overwrite: true);
            var key = (row.BrandId, row.PlayerId);
            byPlayer[key] = byPlayer.TryGetValue(key, out var c)
                ? c with { Amount = c.Amount + amount }
                : new CommunityCandidate(row.BrandId, row.PlayerId, amount, now.UtcDateTime, order);
        }
        return [.. byPlayer.Values];
    }

    void Remember(string brandId, string playerId, string currency, bool overwrite)
    {
        var set = multipliersOf(brandId);
        var converts = set is not null && (set.Multipliers.ContainsKey(currency) || currency == set.BaseCurrency)
            && (set.Multipliers.ContainsKey(jackpotCurrency) || jackpotCurrency == set.BaseCurrency) && Money.IsKnownCurrency(currency);
        if (!converts) return;
        if (overwrite) currencies[(brandId, playerId)] = currency;
        else currencies.TryAdd((brandId, playerId), currency);
    }

    /// <summary>
    /// The payouts rows, the triggering player's portion on the win, and one CreditBatch per brand with wallet integration,
    /// in the writer's transaction (brands without integration: withheld, owed, for the operator to settle).
    /// </summary>
    public static void Record(NpgsqlConnection conn, NpgsqlTransaction tx, Guid instanceId, Guid winId, string potId, string jackpotCurrency,
        string? gameroundId, CommunityAward award)
    {
        var batches = award.Payouts.GroupBy(p => p.Share.BrandId).ToDictionary(g => g.Key, _ => Guid.CreateVersion7());
        conn.Execute(new CommandDefinition("update wins set player_portion = @toTrigger where id = @winId",
            new { winId, toTrigger = award.Split.ToTrigger }, tx));
        conn.Execute(new CommandDefinition("""
            insert into payouts (id, kind, instance_id, pot_id, win_id, batch_id, brand_id, player_id, jackpot_currency, amount, player_currency,
                player_amount, detail, win_withheld)
            select u.id, 'community', @instanceId, @potId, @winId, u.batch, u.b, u.p, @jackpotCurrency, u.a, u.c, u.pa, u.d::jsonb, u.w
            from unnest(@ids, @batchIds, @brands, @players, @amounts, @currencies, @playerAmounts, @details, @withheld)
                as u(id, batch, b, p, a, c, pa, d, w)
            """, new
        {
            instanceId, potId, winId, jackpotCurrency,
            ids = award.Payouts.Select(p => p.Id).ToArray(),
            batchIds = award.Payouts.Select(p => batches[p.Share.BrandId]).ToArray(),
            brands = award.Payouts.Select(p => p.Share.BrandId).ToArray(),
            players = award.Payouts.Select(p => p.Share.PlayerId).ToArray(),
            amounts = award.Payouts.Select(p => p.Share.Amount).ToArray(),
            currencies = award.Payouts.Select(p => p.PlayerCurrency).ToArray(),
            playerAmounts = award.Payouts.Select(p => p.PlayerAmount).ToArray(),
            details = award.Payouts.Select(p => JsonSerializer.Serialize(new { strategy = p.Share.Strategy, rank = p.Share.Rank })).ToArray(),
            withheld = award.Payouts.Select(p => p.Withheld).ToArray(),
        }, tx));
        foreach (var brand in award.Payouts.Where(p => !p.Withheld).GroupBy(p => p.Share.BrandId))
        {
            var batchId = batches[brand.Key];
            var (operatorId, _) = ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(brand.Key);
            Outbox.SendAsync(tx, CreditBatch.Queue, new CreditBatch(batchId, BatchTransactionId(batchId), CreditBatch.Community, instanceId,
                operatorId!, brand.Key, gameroundId,
                [.. brand.Select(p => new BatchCredit(p.Id, TransactionId(p.Id), p.Share.PlayerId, jackpotCurrency, p.Share.Amount, p.PlayerCurrency,
                    p.PlayerAmount, potId))])).GetAwaiter().GetResult();
        }
    }

    /// <summary>Wallet ids are pure functions of the payout and batch ids (design.md §6): a re-drive never pays twice.</summary>
    public static string TransactionId(Guid payoutId) => $"payout-{payoutId:N}";

    public static string BatchTransactionId(Guid batchId) => $"batch-{batchId:N}";
}
