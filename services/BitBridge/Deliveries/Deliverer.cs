using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using BitBridge.Dispatchers;
using BitBridge.Templates;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using ThrillSuite.ServiceDefaults.Hosting;

namespace BitBridge.Deliveries;

public sealed class DeliveryOptions
{
    /// <summary>Attempts before a delivery is dead (a permanent failure is dead at once).</summary>
    public int MaxAttempts { get; set; } = 10;
    /// <summary>Wait after the first failure; doubled after each (±20 % jitter), up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>One attempt's limit; a delivery is leased for this plus a margin, which is also how long a crash delays it.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Deliveries in flight at once, and per dispatcher.</summary>
    public int Concurrency { get; set; } = 64;
    public int ConcurrencyPerDispatcher { get; set; } = 8;
    /// <summary>Per dispatcher: this many failed attempts in a row (within <see cref="BreakerSampling"/>) open its circuit for <see cref="BreakDuration"/>.</summary>
    public int BreakerFailures { get; set; } = 5;
    public TimeSpan BreakerSampling { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Sends pending deliveries from the database. Each round takes the due ones (leasing them: next_attempt_at moves past the
/// attempt's timeout, so a crash only delays them), leaving out dispatchers that are paused (circuit open, Telegram's
/// retry_after), at their concurrency limit or their rate; sends each without waiting for the others, and records the
/// outcome: sent; dead (permanent, or out of attempts); or pending again after an exponential backoff with jitter. One slow or
/// broken dispatcher therefore never holds up another's deliveries. A crash between sending and recording sends once more
/// (same delivery id) when the lease runs out: the only duplicate window.
/// </summary>
public sealed class Deliverer(NpgsqlDataSource db, DispatcherStore dispatchers, IServiceProvider services, IOptions<DeliveryOptions> options,
    ILogger<Deliverer> logger) : PollingService(logger)
{
    static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(5);
    readonly DeliveryOptions o = options.Value;
    readonly ConcurrentDictionary<string, Gate> gates = new();
    int inFlight;

    protected override int RoundSize => 1;
    protected override TimeSpan PollInterval => o.PollInterval;

    // bitbridge.dispatch.failures: failed attempts, "retry" (pending again) or "dead" (given up). Both series are reported from
    // the start (at 0), so a rate over them exists before the first failure.
    static readonly Meter Meter = new("ThrillSuite.BitBridge");
    static long retries, deaths;

    static Deliverer() =>
        Meter.CreateObservableCounter("bitbridge.dispatch.failures", () => new[]
        {
            new Measurement<long>(Interlocked.Read(ref retries), new KeyValuePair<string, object?>("outcome", "retry")),
            new Measurement<long>(Interlocked.Read(ref deaths), new KeyValuePair<string, object?>("outcome", "dead")),
        }, "{attempt}", "Failed deliveries to dispatchers: retried later, or dead");

    sealed record Due(Guid Id, Guid EventId, string DispatcherId, int Attempts, string EventType, string? OperatorId, string? BrandId, string Payload);

    /// <summary>A dispatcher's in-flight count, pause, pacing and circuit breaker (rebuilt when its definition changes).</summary>
    sealed class Gate
    {
        public int InFlight;
        public DateTime PausedUntil;
        public DateTime NextSlot;
        public int Version = -1;
        public ResiliencePipeline Pipeline = ResiliencePipeline.Empty;
    }

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var free = o.Concurrency - Volatile.Read(ref inFlight);
        if (free <= 0) return 0;
        var now = DateTime.UtcNow;
        var slots = gates.Where(g => Free(g.Value, now) < o.ConcurrencyPerDispatcher)
            .ToDictionary(g => g.Key, g => Free(g.Value, now));
        var blocked = slots.Where(s => s.Value == 0).Select(s => s.Key).ToHashSet();
        // Per dispatcher at most what it may take now, earliest due first.
        Guid[] Choose(IEnumerable<(Guid Id, string DispatcherId)> rows) => [.. rows.Where(d => !blocked.Contains(d.DispatcherId))
            .GroupBy(d => d.DispatcherId).SelectMany(g => g.Take(slots.GetValueOrDefault(g.Key, o.ConcurrencyPerDispatcher))).Take(free)
            .Select(d => d.Id)];
        List<Due> due;
        await using (var c = await db.OpenConnectionAsync(ct))
        {
            // Candidates first, then the lease, which re-checks that each is still due: of two replicas choosing one delivery,
            // only one leases it. The candidates come from a window of the earliest due deliveries; when that window is full of
            // dispatchers that may take nothing now (paused, or at their limit, with a backlog), from each other dispatcher's
            // earliest due ones instead, so the backlog is neither read on every round nor in anyone's way.
            var scan = free * 8;
            var window = (await c.QueryAsync<(Guid Id, string DispatcherId)>(new CommandDefinition(EarliestDue, new { scan },
                cancellationToken: ct))).ToList();
            var candidates = Choose(window);
            if (candidates.Length < free && window.Count == scan && blocked.Count > 0)
                candidates = Choose(await c.QueryAsync<(Guid Id, string DispatcherId)>(new CommandDefinition(EarliestDuePerDispatcher,
                    new { blocked = blocked.ToArray(), perDispatcher = o.ConcurrencyPerDispatcher, free }, cancellationToken: ct)));
            if (candidates.Length == 0) return 0;
            due = (await c.QueryAsync<Due>(new CommandDefinition("""
                update deliveries d set next_attempt_at = now() + @lease
                from events e
                where d.id = any(@candidates) and d.status = 'pending' and d.next_attempt_at <= now() and e.id = d.event_id
                returning d.id as Id, d.event_id as EventId, d.dispatcher_id as DispatcherId, d.attempts as Attempts, e.event_type as EventType,
                          e.operator_id as OperatorId, e.brand_id as BrandId, e.payload::text as Payload
                """, new { candidates, lease = o.AttemptTimeout + LeaseMargin }, cancellationToken: ct))).ToList();
        }
        foreach (var d in due)
        {
            var gate = gates.GetOrAdd(d.DispatcherId, _ => new Gate());
            Interlocked.Increment(ref gate.InFlight);
            Interlocked.Increment(ref inFlight);
            _ = Task.Run(async () =>
            {
                try { await DeliverAsync(d, gate, ct); }
                catch (Exception ex) when (!ct.IsCancellationRequested) { logger.LogError(ex, "Delivery {DeliveryId} could not be recorded; it is retried when its lease ends", d.Id); }
                finally
                {
                    Interlocked.Decrement(ref gate.InFlight);
                    Interlocked.Decrement(ref inFlight);
                    Wake();
                }
            }, CancellationToken.None);
        }
        return due.Count;
    }

    /// <summary>The earliest due deliveries (@scan of them, through deliveries_due), whoever they are for.</summary>
    internal const string EarliestDue = """
        select id, dispatcher_id from deliveries where status = 'pending' and next_attempt_at <= now() order by next_attempt_at limit @scan
        """;

    /// <summary>
    /// The earliest due deliveries of each dispatcher with pending ones, leaving out @blocked: the dispatchers found by
    /// stepping through deliveries_pending_dispatcher (one probe per dispatcher, however many deliveries each has queued),
    /// each one's due deliveries through the same index.
    /// </summary>
    internal const string EarliestDuePerDispatcher = """
        with recursive pending(dispatcher_id) as (
            (select dispatcher_id from deliveries where status = 'pending' order by dispatcher_id limit 1)
            union all
            select (select d.dispatcher_id from deliveries d where d.status = 'pending' and d.dispatcher_id > p.dispatcher_id
                    order by d.dispatcher_id limit 1)
            from pending p where p.dispatcher_id is not null)
        select due.id, due.dispatcher_id
        from pending p
        cross join lateral (select id, dispatcher_id, next_attempt_at from deliveries
                            where status = 'pending' and dispatcher_id = p.dispatcher_id and next_attempt_at <= now()
                            order by next_attempt_at limit @perDispatcher) due
        where p.dispatcher_id <> all(@blocked)
        order by due.next_attempt_at
        limit @free
        """;

    /// <summary>How many more deliveries a dispatcher may take now: none while paused (circuit open, retry_after) or paced.</summary>
    int Free(Gate g, DateTime now) =>
        g.PausedUntil > now ? 0
        : g.NextSlot > now + TimeSpan.FromSeconds(1) ? 0
        : Math.Max(0, o.ConcurrencyPerDispatcher - Volatile.Read(ref g.InFlight));

    async Task DeliverAsync(Due d, Gate gate, CancellationToken ct)
    {
        var dispatcher = await dispatchers.GetAsync(d.DispatcherId, ct);
        if (dispatcher is null || !dispatcher.Definition.Enabled)
        {
            await DeadAsync(d, dispatcher is null ? "The dispatcher was deleted." : "The dispatcher is disabled.", attempted: false);
            return;
        }
        Outgoing message;
        try
        {
            message = await ComposeAsync(d, dispatcher, ct);
        }
        catch (Exception ex) when (ex is TemplateRenderException or DeliveryFailure)
        {
            await DeadAsync(d, ex.Message, attempted: false);
            return;
        }
        var pipeline = PipelineFor(gate, dispatcher);
        await PaceAsync(gate, dispatcher.Definition.Config.MaxPerSecond, ct);
        try
        {
            var sender = Sender(dispatcher.Definition.DispatcherType);
            await pipeline.ExecuteAsync(async token => await sender.SendAsync(dispatcher, message, token), ct);
            await SentAsync(d);
        }
        catch (BrokenCircuitException ex)
        {
            await PostponeAsync(d, ex.RetryAfter ?? o.BreakDuration, $"Not attempted: the dispatcher's circuit is open ({ex.Message}).");
        }
        catch (DeliveryFailure ex) when (ex.RetryAfter is { } wait && !ex.Permanent)
        {
            gate.PausedUntil = DateTime.UtcNow + wait;
            await PostponeAsync(d, wait, ex.Message);
        }
        catch (DeliveryFailure ex) when (ex.Permanent)
        {
            await DeadAsync(d, ex.Message, attempted: true);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            await FailedAsync(d, ex is Polly.Timeout.TimeoutRejectedException ? $"No answer within {o.AttemptTimeout.TotalSeconds:0.#} s." : ex.Message);
        }
    }

    ISender Sender(string type) => type switch
    {
        DispatcherDefinition.Smtp => services.GetRequiredService<SmtpSender>(),
        DispatcherDefinition.Telegram => services.GetRequiredService<TelegramSender>(),
        DispatcherDefinition.Webhook => services.GetRequiredService<WebhookSender>(),
        _ => services.GetRequiredService<AmqpSender>(),
    };

    /// <summary>
    /// The message: the chosen template rendered over the event envelope (<c>delivery_id, event_id, event_type, operator_id,
    /// brand_id, data</c>); without a template, Webhook and Amqp send the envelope itself, Smtp and Telegram have nothing to send.
    /// </summary>
    async Task<Outgoing> ComposeAsync(Due d, Dispatcher dispatcher, CancellationToken ct)
    {
        var envelope = new JsonObject
        {
            ["delivery_id"] = d.Id.ToString(), ["event_id"] = d.EventId.ToString(), ["event_type"] = d.EventType,
            ["operator_id"] = d.OperatorId, ["brand_id"] = d.BrandId, ["data"] = JsonNode.Parse(d.Payload),
        };
        var envelopeJson = envelope.ToJsonString();
        var root = JsonDocument.Parse(envelopeJson).RootElement;
        var type = dispatcher.Definition.DispatcherType;
        TemplateDoc? template;
        await using (var c = await db.OpenConnectionAsync(ct))
            template = await TemplateEndpoints.ChooseAsync(c, type, d.EventType, d.OperatorId, d.BrandId, ct);
        if (template is null && type is DispatcherDefinition.Smtp or DispatcherDefinition.Telegram)
            throw new DeliveryFailure($"No enabled {type} template for {d.EventType} in the event's scope ({d.OperatorId ?? "-"}:{d.BrandId ?? "-"}).", permanent: true);
        var body = template is null ? envelopeJson : TemplateRenderer.Render(template.Id, template.Body, root);
        var subject = template?.Subject is { } s ? TemplateRenderer.Render(template.Id, s, root) : null;
        var to = dispatcher.Definition.Config.To is { } recipients ? TemplateRenderer.Render($"{dispatcher.Definition.Id} config.to", recipients, root) : null;
        return new Outgoing(d.Id, d.EventId, d.EventType, to, subject, body, template is null || IsJson(body));
    }

    static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The dispatcher's attempt timeout and circuit breaker, kept across deliveries until its definition changes.</summary>
    ResiliencePipeline PipelineFor(Gate gate, Dispatcher dispatcher)
    {
        lock (gate)
        {
            if (gate.Version == dispatcher.Version) return gate.Pipeline;
            gate.Pipeline = new ResiliencePipelineBuilder()
                .AddCircuitBreaker(new CircuitBreakerStrategyOptions
                {
                    FailureRatio = 1.0, MinimumThroughput = o.BreakerFailures, SamplingDuration = o.BreakerSampling, BreakDuration = o.BreakDuration,
                    // Polly opens and half-opens lazily, on a call; the pause keeps the dispatcher's deliveries in the table meanwhile.
                    OnOpened = args =>
                    {
                        gate.PausedUntil = DateTime.UtcNow + args.BreakDuration;
                        logger.LogWarning("Dispatcher {Dispatcher}'s circuit is open for {Duration}", dispatcher.Definition.Id, args.BreakDuration);
                        return default;
                    },
                    // A refusal the peer meant (permanent, or a requested pause) says nothing about its health.
                    ShouldHandle = new PredicateBuilder().Handle<DeliveryFailure>(f => !f.Permanent && f.RetryAfter is null)
                        .Handle<Polly.Timeout.TimeoutRejectedException>(),
                })
                .AddTimeout(o.AttemptTimeout)
                .Build();
            gate.Version = dispatcher.Version;
            return gate.Pipeline;
        }
    }

    /// <summary>max_per_second: each send takes the dispatcher's next slot, waiting for it (rounds take no more than about a second's worth).</summary>
    static async Task PaceAsync(Gate gate, double? perSecond, CancellationToken ct)
    {
        if (perSecond is not { } rate) return;
        DateTime slot;
        lock (gate)
        {
            var now = DateTime.UtcNow;
            slot = gate.NextSlot > now ? gate.NextSlot : now;
            gate.NextSlot = slot + TimeSpan.FromSeconds(1 / rate);
        }
        var wait = slot - DateTime.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
    }

    // Outcomes change only a delivery still pending: a replay or another replica's work is never undone.
    Task SentAsync(Due d) => Record(d, "status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = null", new { d.Id });

    Task DeadAsync(Due d, string error, bool attempted)
    {
        Interlocked.Increment(ref deaths);
        logger.LogWarning("Delivery {DeliveryId} of {EventType} {EventId} to {Dispatcher} is dead: {Error}", d.Id, d.EventType, d.EventId, d.DispatcherId, error);
        return Record(d, $"status = 'dead', attempts = attempts + {(attempted ? 1 : 0)}, last_error = @error", new { d.Id, error });
    }

    Task FailedAsync(Due d, string error)
    {
        if (d.Attempts + 1 >= o.MaxAttempts) return DeadAsync(d, $"{error} (attempt {d.Attempts + 1} of {o.MaxAttempts})", attempted: true);
        var backoff = TimeSpan.FromMilliseconds(Math.Min(o.MaxRetryDelay.TotalMilliseconds, o.FirstRetryDelay.TotalMilliseconds * Math.Pow(2, d.Attempts))
            * (0.8 + Random.Shared.NextDouble() * 0.4));
        Interlocked.Increment(ref retries);
        logger.LogInformation("Delivery {DeliveryId} to {Dispatcher} failed ({Error}); retrying in {Backoff}", d.Id, d.DispatcherId, error, backoff);
        return Record(d, "attempts = attempts + 1, next_attempt_at = now() + @backoff, last_error = @error", new { d.Id, backoff, error });
    }

    Task PostponeAsync(Due d, TimeSpan wait, string error) =>
        Record(d, "next_attempt_at = now() + @wait, last_error = @error", new { d.Id, wait, error });

    async Task Record(Due d, string set, object args)
    {
        await using var c = await db.OpenConnectionAsync();
        await c.ExecuteAsync($"update deliveries set {set} where id = @Id and status = 'pending'", args);
    }
}
