using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Community;
using ThrillPots.Engine;
using ThrillPots.Raffles;
using ThrillPots.Templates;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.Data.Outbox;
using EngineResult = ThrillPots.Engine.ContributionResult;

namespace ThrillPots.Contributions;

/// <summary>A contribution waiting for its instance's writer, or (Contribution null) a nudge to settle passed deadlines.</summary>
sealed class WorkItem(Contribution? contribution, ActivityContext parent)
{
    public Contribution? Contribution { get; } = contribution;
    public ActivityContext Parent { get; } = parent;
    public TaskCompletionSource<ContributionResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The single writer of one jackpot instance (design.md §5): it drains its queue in batches and commits each batch in ONE
/// transaction — the instance row locked (so a second writer, in this process or another replica, waits), pots and
/// opt-ins read, the engine run in memory in arrival order, every new contribution appended to the ledger with its key,
/// each pot updated once, wins with their events and CreditWin commands in the outbox — and only after the commit answers
/// the batch's callers. A failed batch changes nothing and answers "unavailable", so callers resend with the same keys.
/// State is read from the database in every batch, so a restart, a replica or an admin change is always seen.
/// </summary>
sealed class InstanceWriter
{
    // Named under ThrillSuite.* so the shared telemetry exports them (ServiceDefaults Telemetry).
    public static readonly ActivitySource Source = new("ThrillSuite.ThrillPots");
    static readonly Meter Meter = new("ThrillSuite.ThrillPots");
    static readonly Counter<long> Contributions = Meter.CreateCounter<long>("thrillpots.contributions", "{contribution}",
        "Contributions answered, by instance and outcome");
    static readonly Counter<long> Wins = Meter.CreateCounter<long>("thrillpots.wins", "{win}", "Pots won, by instance and pot");
    static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("thrillpots.batch.size", description: "Contributions per committed batch");
    static readonly Histogram<double> BatchDuration = Meter.CreateHistogram<double>("thrillpots.batch.duration", "ms", "From first read to commit");

    readonly Guid instanceId;
    readonly string instanceTag;
    readonly NpgsqlDataSource db;
    readonly IRandomSource random;
    readonly WriterOptions options;
    readonly ILogger logger;
    readonly TimeProvider clock;
    readonly Channel<WorkItem> channel;
    (Guid Id, TemplateDefinition Definition)? template;
    // This instance and those it was switched from (model switching, spec §21.4): a repeat of a key one of them applied is a
    // duplicate of that contribution, never a second one, so an integrator's retry that crosses a switch counts once. Fixed
    // when the instance is created (in the switch's transaction), so read once per writer.
    Guid[]? lineage;
    (string Json, Schedule Parsed)? schedule;
    // Batches that still look their keys up before the engine runs. A repeated key is rare (an integrator's retry), so
    // normally the ledger's unique key finds it at the insert, and the lookup — a sixth of PostgreSQL's time per
    // contribution in build/bench contributions, most of it planning — is skipped. After a repeat or a refusal (which
    // needs the lookup to be answered right), more tend to follow (a client resending after a timeout or a restart, a
    // player not opted in), so lookups go on until this many batches in a row found no repeat.
    int keyLookups;
    const int KeyLookupBatches = 16;
    // The writer's own connection, kept across batches: no pool round trip or reset per batch, and its prepared
    // statements stay. Dropped after any failure, since its state is then unknown.
    NpgsqlConnection? connection;

    readonly TotalsFolder folder;

    public InstanceWriter(Guid instanceId, NpgsqlDataSource db, IRandomSource random, WriterOptions options, ILogger logger, TimeProvider clock,
        TotalsFolder folder)
    {
        this.folder = folder;
        this.clock = clock;
        this.instanceId = instanceId;
        instanceTag = instanceId.ToString();
        this.db = db;
        this.random = random;
        this.options = options;
        this.logger = logger;
        channel = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(options.QueueLimit)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    // Set by every producer after its write; the writer sleeps on it when its queue is empty. A channel's own
    // WaitToReadAsync would wake the writer through a thread-pool work item, which under load waits behind the HTTP backlog.
    // No spinning before sleeping: on two busy cores a spin only takes CPU from the callers it waits for.
    readonly ManualResetEventSlim ready = new(false, spinCount: 0);

    /// <summary>False when the queue is full (back-pressure: the caller answers 503) or the writer has retired.</summary>
    public bool TryEnqueue(WorkItem item)
    {
        if (!channel.Writer.TryWrite(item)) return false;
        ready.Set();
        return true;
    }

    public bool Retired { get; private set; }

    /// <summary>Runs until idle for <see cref="WriterOptions.IdleTimeout"/> or <paramref name="stopping"/> and the queue is empty.</summary>
    public void Run(CancellationToken stopping)
    {
        var batch = new List<WorkItem>(options.MaxBatch);
        while (true)
        {
            var more = true;
            if (!channel.Reader.TryPeek(out _))
            {
                // Reset before looking again: a write after this look sets it again, so no wake-up is lost.
                ready.Reset();
                if (!channel.Reader.TryPeek(out _))
                {
                    try { more = ready.Wait(options.IdleTimeout, stopping); }
                    catch (OperationCanceledException) { more = false; }
                }
            }
            if (!more)
            {
                // Retire; whatever raced in before the queue closed is still processed below.
                Retired = true;
                channel.Writer.TryComplete();
            }
            while (channel.Reader.TryRead(out var item))
            {
                batch.Add(item);
                if (batch.Count < options.MaxBatch) continue;
                ProcessSafely(batch);
                batch.Clear();
            }
            if (batch.Count > 0)
            {
                ProcessSafely(batch);
                batch.Clear();
            }
            if (Retired)
            {
                DropConnection();
                return;
            }
        }
    }

    /// <summary>After an unexpected end of <see cref="Run"/>: nothing waiting is left without an answer.</summary>
    public void Abandon()
    {
        Retired = true;
        channel.Writer.TryComplete();
        while (channel.Reader.TryRead(out var item))
            item.Done.TrySetResult(ContributionResult.Refused(instanceId, Reasons.Unavailable, "The instance's writer stopped; retry with the same key."));
        DropConnection();
    }

    NpgsqlConnection Connection()
    {
        if (connection is { State: System.Data.ConnectionState.Open }) return connection;
        DropConnection();
        connection = db.OpenConnection();
        // Every statement of a batch is an index probe (instance, pots, keys, opt-ins by their keys), prepared once per
        // connection. A generic plan made while the ledger is still small or not yet analysed (a new deployment's first
        // minute) scans the ledger — sequentially, or through (instance_id, created_at) — and PostgreSQL keeps it as the
        // ledger grows: seen in build/bench contributions as 1–10 s key lookups of 500 keys. Planned for each batch's
        // values against the table as it is now, the lookups stay on the unique key. So statements are planned per
        // execution unless a batch says otherwise (GenericPlans: the statements on the instance's own rows, whose
        // planning cost as much as their execution).
        using (var set = new NpgsqlCommand("set plan_cache_mode = force_custom_plan", connection)) set.ExecuteNonQuery();
        return connection;
    }

    void DropConnection()
    {
        connection?.Dispose();
        connection = null;
    }

    void ProcessSafely(List<WorkItem> batch)
    {
        using var activity = Source.StartActivity("contribution batch", ActivityKind.Internal, default(ActivityContext),
            links: batch.Where(i => i.Parent != default).Take(32).Select(i => new ActivityLink(i.Parent)));
        activity?.SetTag("thrillpots.instance_id", instanceId.ToString());
        activity?.SetTag("thrillpots.batch_size", batch.Count);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var results = Process(batch, lookUpKeys: keyLookups > 0) ?? Process(batch, lookUpKeys: true)!;
            BatchSize.Record(batch.Count);
            BatchDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Contribution is not null) Contributions.Add(1, new("instance_id", instanceTag), new("outcome", results[i].Outcome));
                if (results[i].Outcome == Outcomes.Accepted && results[i].Wins is { Count: > 0 } wins)
                    foreach (var win in wins) Wins.Add(1, new("instance_id", instanceTag), new("pot_id", win.PotId));
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            DropConnection();
            logger.LogError(ex, "Contribution batch of {Count} on instance {InstanceId} failed; nothing was applied", batch.Count, instanceId);
            foreach (var item in batch)
                item.Done.TrySetResult(ContributionResult.Refused(instanceId, Reasons.Unavailable,
                    "The contribution could not be committed; nothing was applied. Retry with the same key."));
        }
    }

    sealed record InstanceRow(string State, string OwnerId, string Name, string Currency, string[] AllowedBrands, string[] AllowedSources,
        Guid TemplateId, DateTime? StartAt, DateTime? EndAt, string? ScheduleJson, DateTime Anchor, DateTime TotalsThrough)
    {
        /// <summary>The instance's latest ledger time, read after its lock was taken (<see cref="LatestRow"/>).</summary>
        public DateTime? LastAt { get; init; }
    }
    sealed record Existing(byte[] Hash, ContributionResult Result);
    sealed record OptIn(bool OptedIn, decimal? PreferredValue, string? PreferredCurrency);
    sealed record NewRow(Guid Id, WorkItem Item, Contribution C, EngineResult Applied, decimal PlayerValue, MultiplierSet Set,
        decimal PlayerMultiplier, decimal JackpotMultiplier, List<WinSummary> Wins);
    /// <summary>A win; <see cref="Withheld"/> when the brand has no wallet integration: the operator pays it, ThrillGate does not.</summary>
    sealed record WinRecord(Guid Id, PotWin Win, string BrandId, string PlayerId, string? SourceId, string? GameroundId, Guid? ContributionId,
        string PlayerCurrency, decimal PlayerWinAmount, MultiplierSet Set, string? MetadataJson, ActivityContext Parent, bool Withheld)
    {
        /// <summary>The pot's community part, when it has one: <see cref="PlayerWinAmount"/> is then the triggering player's portion.</summary>
        public CommunityAward? Community { get; init; }
    }

    /// <summary>The batch committed and answered; null when <paramref name="lookUpKeys"/> was false and a key turned out to be
    /// in the ledger already, or a contribution was refused (it might repeat one): nothing applied, run it again with the
    /// keys looked up.</summary>
    ContributionResult[]? Process(List<WorkItem> batch, bool lookUpKeys)
    {
        var results = new ContributionResult?[batch.Count];
        var contributions = batch.Select(i => i.Contribution).OfType<Contribution>().ToList();
        var brands = contributions.Select(c => c.BrandId).Distinct().ToArray();
        // The batch's one clock: schedule windows, raffle periods and the ledger's time all read it.
        var now = clock.GetUtcNow();

        var conn = Connection();
        using var tx = conn.BeginTransaction();

        // Round trip 1: lock the instance, read its pots, the keys already in the ledger, opt-ins, multipliers, brands.
        InstanceRow? instance = null;
        var pots = new List<PotState>();
        var existing = new Dictionary<(string, string, string), Existing>();
        var optIns = new Dictionary<(string, string), OptIn>();
        var currencyRows = new List<CurrencyEndpoints.Row>();
        var brandEnabled = new Dictionary<string, bool>(StringComparer.Ordinal);
        var walletBrands = new HashSet<string>(StringComparer.Ordinal);
        lineage ??= conn.Query<Guid>(new CommandDefinition("""
            with recursive chain(id) as (
                select @instanceId union select t.source_instance from pot_transfers t join chain on t.target_instance = chain.id)
            select id from chain
            """, new { instanceId }, tx)).ToArray();
        // A key a predecessor instance applied is not in this instance's unique key: such an instance always looks.
        lookUpKeys |= lineage.Length > 1;
        // Nothing of this attempt is applied; the caller runs the batch again with the keys looked up, and so do the next batches.
        ContributionResult[]? RunAgainWithLookups()
        {
            tx.Rollback();
            keyLookups = KeyLookupBatches;
            return null;
        }
        using (var read = new NpgsqlBatch(conn, tx))
        {
            // The instance row locked, with the multipliers and brand flags in force, in one statement.
            read.BatchCommands.Add(GenericPlans);
            read.BatchCommands.Add(Command(ReadInstance, instanceId, brands));
            read.BatchCommands.Add(Command("""
                select pot_id, value, reseed_fund, seed_boost, drops::text from pots where instance_id = $1 order by position
                """, instanceId));
            // The following lookups are planned for their values (see Connection).
            read.BatchCommands.Add(CustomPlans);
            read.BatchCommands.Add(Command(LatestRow, instanceId));
            // Lateral lookups: one unique-index probe per key whatever plan a prepared statement settles on (a join could
            // turn into a scan of the instance's whole ledger).
            if (lookUpKeys)
                read.BatchCommands.Add(Command("""
                    select c.brand_id, c.player_id, c.gameround_id, c.request_hash, c.id, c.value, c.player_value, c.player_currency,
                           c.base_currency, c.player_multiplier, c.jackpot_multiplier, c.wins::text, c.created_at, c.instance_id
                    from unnest($2::text[], $3::text[], $4::text[]) k(b, p, g)
                    cross join lateral (select * from contributions c
                        where c.instance_id = any($1) and c.brand_id = k.b and c.player_id = k.p and c.gameround_id = k.g limit 1) c
                    """, lineage, contributions.Select(c => c.BrandId).ToArray(), contributions.Select(c => c.PlayerId).ToArray(),
                    contributions.Select(c => c.GameroundId).ToArray()));
            // The batch's brands × players through the primary key (a pair the batch does not hold is ignored below): a
            // statement on one table, cheaper to plan than a lateral join over the pairs (pg_stat_statements: planning the
            // lateral form cost ten times its execution).
            read.BatchCommands.Add(Command("""
                select brand_id, player_id, opted_in, preferred_value, preferred_currency
                from opt_ins where instance_id = $1 and brand_id = any($2) and player_id = any($3)
                """, instanceId, brands, contributions.Select(c => c.PlayerId).Distinct().ToArray()));
            using var r = read.ExecuteReader();
            if (r.Read())
            {
                instance = new InstanceRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<string[]>(4),
                    r.GetFieldValue<string[]>(5), r.GetGuid(6), r.IsDBNull(7) ? null : r.GetDateTime(7), r.IsDBNull(8) ? null : r.GetDateTime(8),
                    r.IsDBNull(11) ? null : r.GetString(11), r.GetDateTime(12), r.GetDateTime(13));
                foreach (var c in JsonDocument.Parse(r.GetString(9)).RootElement.EnumerateArray())
                    currencyRows.Add(new CurrencyEndpoints.Row(c[0].GetString()!, c[1].GetString()!, c[2].GetString()!, c[3].GetDateTime()));
                if (!r.IsDBNull(10))
                    foreach (var b in JsonDocument.Parse(r.GetString(10)).RootElement.EnumerateArray())
                    {
                        brandEnabled[b[0].GetString()!] = b[1].GetBoolean();
                        if (b[2].GetBoolean()) walletBrands.Add(b[0].GetString()!);
                    }
            }
            r.NextResult();
            while (r.Read())
                pots.Add(PotDrops.Apply(new PotState(r.GetString(0), r.GetDecimal(1), r.GetDecimal(2)) { Boosts = r.GetDecimal(3) },
                    r.IsDBNull(4) ? null : r.GetString(4)));
            r.NextResult();
            if (r.Read() && !r.IsDBNull(0) && instance is not null) instance = instance with { LastAt = r.GetDateTime(0) };
            r.NextResult();
            while (lookUpKeys && r.Read())
            {
                var wins = r.IsDBNull(11) ? [] : JsonSerializer.Deserialize<List<WinSummary>>(r.GetString(11), Audit.Json)!;
                existing[(r.GetString(0), r.GetString(1), r.GetString(2))] = new Existing(r.GetFieldValue<byte[]>(3), new ContributionResult(
                    r.GetGuid(13), Outcomes.Duplicate, ContributionId: r.GetGuid(4), ContributionValue: r.GetDecimal(5),
                    PlayerContributionValue: r.GetDecimal(6), PlayerCurrency: r.GetString(7),
                    CurrencyMultipliers: new AppliedMultipliers(r.GetString(8), r.GetDecimal(9), r.GetDecimal(10)),
                    Wins: wins, Timestamp: Time.Ms(r.GetDateTime(12))));
            }
            if (lookUpKeys) r.NextResult();
            while (r.Read())
                optIns[(r.GetString(0), r.GetString(1))] = new OptIn(r.GetBoolean(2), r.IsDBNull(3) ? null : r.GetDecimal(3), r.IsDBNull(4) ? null : r.GetString(4));
        }

        if (lookUpKeys)
            keyLookups = existing.Count > 0 ? KeyLookupBatches : Math.Max(0, keyLookups - 1);

        if (instance is null)
            return Fill(results, batch, _ => ContributionResult.Refused(instanceId, Reasons.NotFound, $"No jackpot instance {instanceId}."));
        // Ledger times only grow per instance: a replica whose clock is behind writes just after the latest row, so the rows
        // after the contributor-totals mark are always the ones not folded yet (see FoldTotals).
        if (instance.LastAt is { } latest && now.UtcDateTime <= latest) now = new DateTimeOffset(latest, TimeSpan.Zero).AddTicks(10);
        var definition = Template(conn, tx, instance.TemplateId);
        var schedule = Schedule(instance.ScheduleJson);
        // Raffle periods that ended are drawn before anything later is applied, whatever the state now (a one-time raffle
        // resolves at its schedule's end, when the instance terminates).
        RaffleInstance? raffle = null;
        var raffleResolved = false;
        if (definition.Raffle is { } raffleDefinition)
        {
            raffle = new RaffleInstance(instanceId, instance.OwnerId, instance.Name, instance.Currency, raffleDefinition, schedule,
                Time.Ms(instance.Anchor), definition.Pots![0].SeedStrategy?.MinReseedValue ?? 0m);
            pots = [.. RaffleWriter.ResolveDue(conn, tx, raffle, pots, now, random, out raffleResolved)];
        }
        if (instance.State != InstanceEndpoints.Active)
        {
            var refused = Fill(results, batch, _ => ContributionResult.Refused(instanceId, Reasons.InstanceNotActive,
                $"Instance {instanceId} is {instance.State}; it accepts contributions only when Active.", instance.State));
            if (raffleResolved) tx.Commit();
            return refused;
        }
        if (schedule is not null && Schedules.Evaluate(schedule, now.ToUnixTimeMilliseconds()) is { Open: false } closed)
        {
            var refused = Fill(results, batch, _ => ContributionResult.Refused(instanceId, Reasons.OutsideSchedule,
                $"Instance {instanceId} is outside its schedule's windows" +
                (closed.NextOpenAt is { } next ? $"; it opens next at {Schedules.Iso(next)}." : " and will not open again."), Schedules.Closed)
                with { NextOpenTimestamp = closed.NextOpenAt });
            if (raffleResolved) tx.Commit();
            return refused;
        }

        var jackpotCurrency = instance.Currency;
        var defaults = currencyRows.Single(c => c.Scope == "");
        var sets = brands.ToDictionary(b => b, b => CurrencyEndpoints.Effective(defaults, currencyRows.FirstOrDefault(c => c.Scope == b)));
        var optInRequired = definition.ContributionRules?.OptInRequired == true;
        var community = CommunityResolver.Applies(definition)
            ? new CommunityResolver(instanceId, conn, tx, definition, jackpotCurrency, now, instance.TotalsThrough, random,
                b => sets.TryGetValue(b, out var known) ? known : sets[b] = CurrencyEndpoints.Effective(defaults,
                    CurrencyEndpoints.LoadAsync(conn, tx, b, CancellationToken.None).GetAwaiter().GetResult()),
                b => walletBrands.Contains(b) || conn.ExecuteScalar<bool>(new CommandDefinition(WalletDebits.WalletIntegrationSql, new { brandId = b }, tx)))
            : null;

        // MustDropByTime deadlines that passed before this batch are settled first (design.md §4).
        var winRecords = new List<WinRecord>();
        var deadlinePassed = pots.Any(p => p.TimeDrop?.DeadlineMs <= now.ToUnixTimeMilliseconds());
        if (deadlinePassed)
        {
            var expired = InstanceMath.ExpireDeadlines(definition, pots, now, random);
            pots = [.. expired.Pots];
            foreach (var win in expired.Wins) winRecords.Add(Award(FallbackWin(conn, tx, win, jackpotCurrency, defaults), community, jackpotCurrency));
        }

        var fresh = new List<NewRow>();
        var ticketCosts = new List<TicketCost>();
        var inBatch = new Dictionary<(string, string, string), (byte[] Hash, int Index)>();
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i].Contribution is not { } c)
            {
                results[i] = new ContributionResult(instanceId, Outcomes.Accepted);
                continue;
            }
            var key = (c.BrandId, c.PlayerId, c.GameroundId);
            if (existing.TryGetValue(key, out var first))
            {
                results[i] = first.Hash.AsSpan().SequenceEqual(c.Hash) ? first.Result with { JackpotCurrency = jackpotCurrency } : KeyConflict(c);
                continue;
            }
            if (inBatch.TryGetValue(key, out var earlier))
            {
                // Answered once the earlier one is: the same result, or a conflict.
                results[i] = earlier.Hash.AsSpan().SequenceEqual(c.Hash) ? null : KeyConflict(c);
                continue;
            }
            var refusal = Check(c, instance, optInRequired, optIns, brandEnabled, sets[c.BrandId], jackpotCurrency);
            if (refusal is not null)
            {
                // A refused contribution is never inserted, so the unique key cannot tell whether it repeats one the ledger
                // holds — which must get its first result (design.md §5), even if the player opted out or the brand was
                // disabled since. Without the lookup, the batch runs again with it.
                if (!lookUpKeys) return RunAgainWithLookups();
                results[i] = refusal;
                continue;
            }
            inBatch[key] = (c.Hash, i);

            var set = sets[c.BrandId];
            var optIn = optIns.GetValueOrDefault((c.BrandId, c.PlayerId));
            // A debited contribution is worth exactly what the wallet took from the player.
            var value = c.Prepaid is { } prepaid
                ? set.Convert(prepaid.Amount, c.Currency, jackpotCurrency)
                : ContributionValues.InJackpotCurrency(definition, optIn?.OptedIn == true, optIn?.PreferredValue, optIn?.PreferredCurrency, set, jackpotCurrency, c.Currency);
            var id = Version7Ids.New();
            var applied = InstanceMath.ApplyContribution(definition, pots, value, random, now, id.ToString());
            pots = [.. applied.Pots];
            community?.Add(c.BrandId, c.PlayerId, c.Currency, applied.Value, applied.Shares);
            var row = new NewRow(id, batch[i], c, applied, c.Prepaid?.Amount ?? set.Convert(applied.Value, jackpotCurrency, c.Currency), set,
                set.MultiplierOf(c.Currency), set.MultiplierOf(jackpotCurrency), []);
            foreach (var win in applied.Wins)
            {
                var record = Award(new WinRecord(Version7Ids.New(), win, c.BrandId, c.PlayerId, c.SourceId, c.GameroundId, id, c.Currency,
                    Money.RoundDown(set.Convert(win.WinAmount, jackpotCurrency, c.Currency), c.Currency), set, c.MetadataJson, batch[i].Parent,
                    Withheld: !walletBrands.Contains(c.BrandId)), community, jackpotCurrency);
                winRecords.Add(record);
                row.Wins.Add(new WinSummary(record.Id, win.PotId, win.WinAmount, record.PlayerWinAmount, win.Seed, win.SeedDeficit,
                    win.Trigger.ToString(), record.Withheld));
            }
            fresh.Add(row);
            if (raffle is not null)
                ticketCosts.Add(new TicketCost(c.BrandId, c.PlayerId, c.Currency, raffle.Raffle.TicketBasis == RaffleDefinition.BaseWager
                    ? set.Convert(c.BaseWager, c.Currency, jackpotCurrency)
                    : applied.Value));
            results[i] = new ContributionResult(instanceId, Outcomes.Accepted, ContributionId: id, JackpotCurrency: jackpotCurrency,
                ContributionValue: applied.Value, PlayerCurrency: c.Currency, PlayerContributionValue: row.PlayerValue,
                CurrencyMultipliers: new AppliedMultipliers(set.BaseCurrency, row.PlayerMultiplier, row.JackpotMultiplier),
                Timestamp: now.ToUnixTimeMilliseconds(), Wins: row.Wins);
        }
        for (var i = 0; i < batch.Count; i++)
            if (results[i] is null)
                results[i] = results[inBatch[(batch[i].Contribution!.BrandId, batch[i].Contribution!.PlayerId, batch[i].Contribution!.GameroundId)].Index]!
                    with { Outcome = Outcomes.Duplicate };

        if (raffle is not null) RaffleWriter.Accrue(conn, tx, raffle, pots[0].PotId, ticketCosts, now);
        if (fresh.Count == 0 && !deadlinePassed && !raffleResolved)
        {
            tx.Rollback();
            return results!;
        }

        // Round trip 2: the ledger rows, each pot once, the opt-in running totals once per player.
        var won = winRecords.Select(w => w.Win.PotId).ToHashSet();
        using (var write = new NpgsqlBatch(conn, tx))
        {
            write.BatchCommands.Add(GenericPlans);
            if (fresh.Count > 0)
                write.BatchCommands.Add(Command("""
                    insert into contributions (id, instance_id, brand_id, player_id, gameround_id, request_hash, source_id, player_country,
                        player_currency, base_wager, value, player_value, base_currency, player_multiplier, jackpot_multiplier, house_share,
                        pot_shares, metadata, wins, debit_transaction_id, free_bet_id, created_at)
                    select u.id, $1, u.b, u.p, u.g, u.h, u.s, u.c, u.cur, u.w, u.v, u.pv, u.bc, u.pm, u.jm, u.hs, u.ps::numeric[], u.md::jsonb,
                        u.wn::jsonb, u.dt, u.fb, $2
                    from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::text[], $9::text[], $10::text[], $11::numeric[],
                        $12::numeric[], $13::numeric[], $14::text[], $15::numeric[], $16::numeric[], $17::numeric[], $18::text[], $19::text[],
                        $20::text[], $21::text[], $22::uuid[]) as u(id, b, p, g, h, s, c, cur, w, v, pv, bc, pm, jm, hs, ps, md, wn, dt, fb)
                    """, instanceId, now.UtcDateTime, fresh.Select(r => r.Id).ToArray(), fresh.Select(r => r.C.BrandId).ToArray(),
                    fresh.Select(r => r.C.PlayerId).ToArray(), fresh.Select(r => r.C.GameroundId).ToArray(), fresh.Select(r => r.C.Hash).ToArray(),
                    fresh.Select(r => r.C.SourceId).ToArray(), fresh.Select(r => r.C.PlayerCountry).ToArray(), fresh.Select(r => r.C.Currency).ToArray(),
                    fresh.Select(r => r.C.BaseWager).ToArray(), fresh.Select(r => r.Applied.Value).ToArray(), fresh.Select(r => r.PlayerValue).ToArray(),
                    fresh.Select(r => r.Set.BaseCurrency).ToArray(), fresh.Select(r => r.PlayerMultiplier).ToArray(),
                    fresh.Select(r => r.JackpotMultiplier).ToArray(), fresh.Select(r => r.Applied.HouseShare).ToArray(),
                    fresh.Select(r => ArrayLiteral(r.Applied.Shares)).ToArray(), fresh.Select(r => r.C.MetadataJson).ToArray(),
                    fresh.Select(r => r.Wins.Count == 0 ? null : JsonSerializer.Serialize(r.Wins, Audit.Json)).ToArray(),
                    fresh.Select(r => r.C.Prepaid?.TransactionId).ToArray(), fresh.Select(r => r.C.Prepaid?.FreeBetId).ToArray()));
            write.BatchCommands.Add(Command("""
                update pots p set value = u.v, reseed_fund = u.f, seed_boost = u.b, drops = u.d::jsonb, version = p.version + 1,
                    updated_at = now(), last_win_at = case when u.w then now() else p.last_win_at end
                from unnest($2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::text[], $7::boolean[]) u(pot_id, v, f, b, d, w)
                where p.instance_id = $1 and p.pot_id = u.pot_id
                """, instanceId, pots.Select(p => p.PotId).ToArray(), pots.Select(p => p.Value).ToArray(),
                pots.Select(p => p.ReseedFund).ToArray(), pots.Select(p => p.Boosts).ToArray(), pots.Select(PotDrops.Serialize).ToArray(),
                pots.Select(p => won.Contains(p.PotId)).ToArray()));
            var totals = fresh.Where(r => optIns.ContainsKey((r.C.BrandId, r.C.PlayerId)))
                .GroupBy(r => (r.C.BrandId, r.C.PlayerId))
                .Select(g => (g.Key.BrandId, g.Key.PlayerId, Count: (long)g.Count(), Value: g.Sum(r => r.Applied.Value))).ToList();
            write.BatchCommands.Add(CustomPlans);
            if (totals.Count > 0)
                write.BatchCommands.Add(Command("""
                    update opt_ins o set contribution_count = o.contribution_count + u.n, contribution_value = o.contribution_value + u.v
                    from unnest($2::text[], $3::text[], $4::bigint[], $5::numeric[]) u(b, p, n, v)
                    where o.instance_id = $1 and o.brand_id = u.b and o.player_id = u.p
                    """, instanceId, totals.Select(t => t.BrandId).ToArray(), totals.Select(t => t.PlayerId).ToArray(),
                    totals.Select(t => t.Count).ToArray(), totals.Select(t => t.Value).ToArray()));
            try
            {
                write.ExecuteNonQuery();
            }
            catch (PostgresException e) when (!lookUpKeys && e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "contributions_key" })
            {
                // A repeat of a key already in the ledger (an integrator's retry).
                return RunAgainWithLookups();
            }
        }

        foreach (var record in winRecords) RecordWin(conn, tx, record, instance, now);
        tx.Commit();
        if (fresh.Count > 0) folder.Committed(instanceId, instance.TotalsThrough, now.UtcDateTime);
        return results!;
    }

    ContributionResult? Check(Contribution c, InstanceRow instance, bool optInRequired, Dictionary<(string, string), OptIn> optIns,
        Dictionary<string, bool> brandEnabled, MultiplierSet set, string jackpotCurrency)
    {
        if (!brandEnabled.TryGetValue(c.BrandId, out var enabled) || !enabled)
            return ContributionResult.Refused(instanceId, Reasons.BrandDisabled, $"Brand '{c.BrandId}' is not registered or is disabled.");
        if (!instance.AllowedBrands.Contains(c.BrandId))
            return ContributionResult.Refused(instanceId, Reasons.BrandNotAllowed, $"Instance {instanceId} does not allow brand '{c.BrandId}'.");
        if (c.SourceId is { } source && instance.AllowedSources.Length > 0 && !instance.AllowedSources.Contains(source))
            return ContributionResult.Refused(instanceId, Reasons.SourceNotAllowed, $"Instance {instanceId} does not allow source '{source}'.");
        var optIn = optIns.GetValueOrDefault((c.BrandId, c.PlayerId));
        if (optIn is { OptedIn: false } || optIn is null && optInRequired)
            return ContributionResult.Refused(instanceId, Reasons.NotOptedIn,
                $"Player '{c.PlayerId}' of '{c.BrandId}' is not opted in to instance {instanceId}" +
                (optIn is null ? ", which requires opt-in." : " (opted out)."));
        foreach (var currency in new[] { c.Currency, jackpotCurrency, optIn?.PreferredCurrency })
            if (currency is not null && !set.Multipliers.ContainsKey(currency) && currency != set.BaseCurrency)
                return ContributionResult.Refused(instanceId, Reasons.CurrencyNotSupported,
                    $"No exchange multiplier for {currency} is configured for brand '{c.BrandId}' (base {set.BaseCurrency}).");
        return null;
    }

    ContributionResult KeyConflict(Contribution c) => ContributionResult.Refused(instanceId, Reasons.KeyConflict,
        $"Gameround '{c.GameroundId}' of player '{c.PlayerId}' ({c.BrandId}) was already contributed to instance {instanceId} with other content.");

    static ContributionResult[] Fill(ContributionResult?[] results, List<WorkItem> batch, Func<int, ContributionResult> make)
    {
        for (var i = 0; i < batch.Count; i++) results[i] = batch[i].Contribution is null ? new ContributionResult(Guid.Empty, Outcomes.Accepted) : make(i);
        return results!;
    }

    /// <summary>The instance's schedule, parsed again only when its stored text changes (not once per batch).</summary>
    Schedule? Schedule(string? json)
    {
        if (json is null) return null;
        if (schedule is { } cached && cached.Json == json) return cached.Parsed;
        var parsed = JsonSerializer.Deserialize<Schedule>(json, Audit.Json)!;
        schedule = (json, parsed);
        return parsed;
    }

    TemplateDefinition Template(NpgsqlConnection conn, NpgsqlTransaction tx, Guid templateId)
    {
        // Published templates are immutable (the admin API refuses changes), so one read per writer is enough.
        if (template is { } cached && cached.Id == templateId) return cached.Definition;
        var json = conn.ExecuteScalar<string>(new CommandDefinition("select definition::text from templates where id = @templateId",
            new { templateId }, tx));
        var definition = JsonSerializer.Deserialize<TemplateDefinition>(json!, Audit.Json)!;
        template = (templateId, definition);
        return definition;
    }

    /// <summary>A MustDropByTime pot whose deadline passed is won by the last eligible contribution of its cycle.</summary>
    WinRecord FallbackWin(NpgsqlConnection conn, NpgsqlTransaction tx, PotWin win, string jackpotCurrency, CurrencyEndpoints.Row defaults)
    {
        var id = Guid.Parse(win.ContributionId!);
        var c = conn.QuerySingle<(string BrandId, string PlayerId, string? SourceId, string GameroundId, string Currency, string? Metadata)>(
            new CommandDefinition("""
                select brand_id, player_id, source_id, gameround_id, player_currency, metadata::text from contributions where id = @id
                """, new { id }, tx));
        var own = CurrencyEndpoints.LoadAsync(conn, tx, c.BrandId, CancellationToken.None).GetAwaiter().GetResult();
        var set = CurrencyEndpoints.Effective(defaults, own);
        var playerAmount = set.Multipliers.ContainsKey(c.Currency) || c.Currency == set.BaseCurrency
            ? Money.RoundDown(set.Convert(win.WinAmount, jackpotCurrency, c.Currency), c.Currency)
            : 0m;
        var integrated = conn.ExecuteScalar<bool>(WalletDebits.WalletIntegrationSql, new { brandId = c.BrandId }, tx);
        return new WinRecord(Version7Ids.New(), win, c.BrandId, c.PlayerId, c.SourceId, c.GameroundId, id, c.Currency, playerAmount, set,
            c.Metadata, default, Withheld: !integrated);
    }

    /// <summary>A win with its pot's community part chosen; the triggering player keeps what the community does not take.</summary>
    static WinRecord Award(WinRecord record, CommunityResolver? community, string jackpotCurrency)
    {
        if (community?.Resolve(record.Win) is not { } award) return record;
        var convertible = record.Set.Multipliers.ContainsKey(record.PlayerCurrency) || record.PlayerCurrency == record.Set.BaseCurrency;
        return record with
        {
            PlayerWinAmount = convertible ? Money.RoundDown(record.Set.Convert(award.Split.ToTrigger, jackpotCurrency, record.PlayerCurrency), record.PlayerCurrency) : 0m,
            Community = award,
        };
    }

    /// <summary>The win row, the JackpotWon event and the CreditWin command, in the batch's transaction, traced under the winning call.</summary>
    void RecordWin(NpgsqlConnection conn, NpgsqlTransaction tx, WinRecord w, InstanceRow instance, DateTimeOffset now)
    {
        using var activity = Source.StartActivity("jackpot win", ActivityKind.Internal, w.Parent);
        activity?.SetTag("thrillpots.instance_id", instanceId.ToString());
        activity?.SetTag("thrillpots.pot_id", w.Win.PotId);
        activity?.SetTag("thrillpots.win_id", w.Id.ToString());
        var reveals = w.Win.Reveals.Select(r => new ThrillSuite.Contracts.Pots.DropReveal(r.Kind.ToString(), r.Value, r.Salt, r.Commitment)).ToList();
        conn.Execute(new CommandDefinition("""
            insert into wins (id, instance_id, pot_id, contribution_id, brand_id, player_id, source_id, gameround_id, trigger, value_before,
                win_amount, remainder, seed, seed_deficit, from_reseed_fund, from_boosts, jackpot_currency, player_currency, player_win_amount,
                reveals, win_withheld, created_at)
            values (@Id, @instanceId, @PotId, @ContributionId, @BrandId, @PlayerId, @SourceId, @GameroundId, @trigger, @ValueBeforeWin,
                @WinAmount, @Remainder, @Seed, @SeedDeficit, @FromReseedFund, @FromBoosts, @jackpotCurrency, @PlayerCurrency, @PlayerWinAmount,
                cast(@reveals as jsonb), @Withheld, @at)
            """, new
        {
            w.Id, instanceId, w.Win.PotId, w.ContributionId, w.BrandId, w.PlayerId, w.SourceId, w.GameroundId, trigger = w.Win.Trigger.ToString(),
            w.Win.ValueBeforeWin, w.Win.WinAmount, w.Win.Remainder, w.Win.Seed, w.Win.SeedDeficit, w.Win.FromReseedFund, w.Win.FromBoosts,
            jackpotCurrency = instance.Currency, w.PlayerCurrency, w.PlayerWinAmount, reveals = JsonSerializer.Serialize(reveals, Audit.Json),
            at = now.UtcDateTime, w.Withheld,
        }, tx));
        JsonElement? metadata = w.MetadataJson is null ? null : JsonDocument.Parse(w.MetadataJson).RootElement.Clone();
        Outbox.EnqueueAsync(tx, new JackpotWon(w.Id, instance.OwnerId, w.BrandId, w.PlayerId, w.SourceId, instanceId, instance.Name,
            instance.Currency, now.ToUnixTimeMilliseconds(), w.Win.PotId, w.Community?.Split.ToTrigger ?? w.Win.WinAmount,
            new CurrencyMultipliers(w.BrandId, w.Set.BaseCurrency, w.Set.Multipliers), instance.AllowedSources, w.Win.Seed, w.Withheld,
            w.Win.SeedDeficit, CommunityWinners: w.Community?.Records, metadata, w.GameroundId, w.ContributionId, w.Win.Trigger.ToString(), w.PlayerCurrency,
            w.PlayerWinAmount, reveals)).GetAwaiter().GetResult();
        if (w.Community is { } award)
            CommunityResolver.Record(conn, tx, instanceId, w.Id, w.Win.PotId, instance.Currency, w.GameroundId, award);
        // Without wallet integration the operator pays its players itself: the win stays withheld, owed, for it to settle.
        if (w.Withheld) return;
        var (operatorId, _) = ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(w.BrandId);
        Outbox.SendAsync(tx, CreditWin.Queue, new CreditWin(w.Id, TransactionId(w.Id), instanceId, w.Win.PotId, operatorId, w.BrandId,
            w.PlayerId, instance.Currency, w.Community?.Split.ToTrigger ?? w.Win.WinAmount, w.PlayerCurrency, w.PlayerWinAmount, w.GameroundId, w.ContributionId,
            now.ToUnixTimeMilliseconds())).GetAwaiter().GetResult();
    }

    /// <summary>The wallet transaction id of a win's credit: a pure function of the win id (design.md §6).</summary>
    public static string TransactionId(Guid winId) => $"win-{winId:N}";

    /// <summary>
    /// The instance row locked ($1), with the multipliers in force and the flags of the batch's brands ($2, "operator:brand"):
    /// the brands through their name's index (brands_name), whatever the number of brands registered; and the instance's
    /// contributor-totals mark (moved only under this lock, TotalsFolder.MoveMark).
    /// </summary>
    internal const string ReadInstance = """
        select i.state, i.owner_id, i.name, i.currency, i.allowed_brands, i.allowed_sources, i.template_id, i.start_at, i.end_at,
            (select json_agg(json_build_array(scope, base_currency, multipliers::text, updated_at))
             from currency_tables where scope = '' or scope = any($2))::text,
            (select json_agg(json_build_array(b.operator_id || ':' || b.id, o.enabled and b.enabled, b.wallet_integration))
             from brands b join operators o on o.id = b.operator_id where b.operator_id || ':' || b.id = any($2))::text,
            i.schedule::text, coalesce(i.start_at, i.created_at), greatest(i.totals_through, '0001-01-01Z')
        from instances i where i.id = $1 for update of i
        """;

    /// <summary>
    /// The instance's latest ledger time (one probe of (instance_id, created_at)), in a statement of its own after
    /// <see cref="ReadInstance"/>: a statement's snapshot is taken when it starts, so a subquery of the locking statement
    /// would miss the rows of a batch another replica committed while this one waited for the lock. Planned per execution
    /// (after CustomPlans): the generic plan PostgreSQL makes while the ledger is empty (a new deployment's first batch)
    /// reads every row of the instance, sequentially or through the index, and the writer's connection kept it as the
    /// ledger grew — build/bench contributions at half its throughput in the runs whose first plan was made that early.
    /// </summary>
    internal const string LatestRow = "select created_at from contributions where instance_id = $1 order by created_at desc limit 1";

    // Planning the instance's read and the pots' update took as long as running them (pg_stat_statements under
    // build/bench contributions: ≈ 0.5 ms of PostgreSQL's CPU per batch). They touch only the instance's own rows — instance
    // and pots by primary key, ledger rows appended — so one plan serves every batch: generic plans for them, then back to
    // planning per execution for the ledger-key and opt-in statements (growing tables, see Connection) and whatever the
    // batch runs after them (wins, community payouts).
    static NpgsqlBatchCommand GenericPlans => new("set local plan_cache_mode = force_generic_plan");
    static NpgsqlBatchCommand CustomPlans => new("set local plan_cache_mode = force_custom_plan");

    static NpgsqlBatchCommand Command(string sql, params object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var p in parameters) command.Parameters.Add(new NpgsqlParameter { Value = p });
        return command;
    }

    static string ArrayLiteral(IReadOnlyList<PotShare> shares) =>
        "{" + string.Join(",", shares.Select(s => s.Share.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "}";
}

public sealed class WriterOptions
{
    /// <summary>Most contributions one transaction commits.</summary>
    public int MaxBatch { get; set; } = 2000;
    /// <summary>Contributions waiting per instance before new ones are refused with 503 (back-pressure).</summary>
    public int QueueLimit { get; set; } = 50_000;
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>How far behind an instance's latest ledger row its contributor totals are folded (<see cref="TotalsFolder"/>): rows a
    /// replica of an older version, or one whose clock is behind, could still add before the mark during a rolling upgrade
    /// are left out. This version's batches always write after the latest row.</summary>
    public TimeSpan TotalsLag { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How much more ledger, beyond the lag, is left unfolded before the next fold: lifetime ranks read the totals
    /// plus at most lag + interval of ledger. With 10 s, two interleaved pairs of build/bench contributions were 10–20%
    /// slower over HTTP even with the fold beside the writer (README, Performance), so a minute.</summary>
    public TimeSpan TotalsInterval { get; set; } = TimeSpan.FromMinutes(1);
}
