using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using ThrillPots.Admin;
using ThrillPots.Engine;
using ThrillPots.Jackpots;
using ThrillSuite.Grpc;
using ThrillSuite.ServiceDefaults.Hosting;
using Gate = ThrillSuite.Gate.V1;

namespace ThrillPots.Contributions;

/// <summary>
/// Contributions of wallet-integrated brands (spec §4.1, design.md §6): the player's token is authenticated, the
/// contribution's value in the player's currency is debited through ThrillGate with a transaction id derived from the
/// contribution (key and content, so a retry never debits twice and other content never reuses a debit), and only then is
/// the contribution handed to its writer, which applies exactly the amount debited. A refused contribution cancels its
/// debit. Each debit is first written down as pending; a debit whose contribution never settled (the process died, the
/// client gave up) is resolved by <see cref="PendingDebitSweeper"/>: kept if the ledger has the contribution, else cancelled.
/// </summary>
public sealed class WalletDebits(NpgsqlDataSource db, GrpcClients grpc, FreeBets freeBets)
{
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    /// <summary>Whether brand <c>@brandId</c> ("operator:brand") debits its players' wallets; false for an unknown brand. Through
    /// the brands_name index.</summary>
    public const string WalletIntegrationSql =
        "select coalesce((select wallet_integration from brands where operator_id || ':' || id = @brandId), false)";
    static readonly Google.Protobuf.Reflection.ServiceDescriptor Service =
        Gate.GateReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("Wallets");
    internal static readonly Google.Protobuf.Reflection.MethodDescriptor AuthenticateMethod = Service.FindMethodByName("AuthenticatePlayer");
    internal static readonly Google.Protobuf.Reflection.MethodDescriptor DebitMethod = Service.FindMethodByName("Debit");
    internal static readonly Google.Protobuf.Reflection.MethodDescriptor CancelMethod = Service.FindMethodByName("Cancel");
    readonly ConcurrentDictionary<string, (bool Integrated, long Expires)> brands = new(StringComparer.Ordinal);
    static readonly ConcurrentDictionary<Guid, Templates.TemplateDefinition> Templates = new();

    /// <summary>Drops the brand's cached flag: a change made through this replica applies to its next contribution (others
    /// see it within the cache's second).</summary>
    public void Forget(string brandId) => brands.TryRemove(brandId, out _);

    /// <summary>Whether the brand debits through its wallet (cached one second, like source resolution).</summary>
    public async Task<bool> IntegratedAsync(string brandId, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (brands.TryGetValue(brandId, out var hit) && hit.Expires > now) return hit.Integrated;
        await using var c = await db.OpenConnectionAsync(ct);
        var integrated = await c.ExecuteScalarAsync<bool>(new CommandDefinition(
            WalletIntegrationSql, new { brandId }, cancellationToken: ct));
        brands[brandId] = (integrated, now + (long)CacheFor.TotalMilliseconds);
        return integrated;
    }

    public async Task<ContributionResult> ContributeAsync(Guid instanceId, Contribution c, Func<Contribution, Task<ContributionResult>> apply,
        CancellationToken ct)
    {
        if (c.Token is null)
            return ContributionResult.Refused(instanceId, Reasons.TokenRequired, $"Brand '{c.BrandId}' debits contributions from the player's wallet: the player's session token is required.");
        var (operatorId, brand) = ThrillSuite.ServiceDefaults.Auth.Permissions.ParseOwner(c.BrandId);
        Gate.Player player;
        try
        {
            player = await Client.UnaryAsync<Gate.Player>(AuthenticateMethod, new Gate.AuthenticatePlayerRequest
            {
                OperatorId = operatorId, BrandId = brand!, PlayerToken = c.Token, SourceId = c.SourceId ?? "", Currency = c.Currency,
            }, Call(ct));
        }
        catch (RpcException ex)
        {
            return Refusal(instanceId, ex, Reasons.TokenInvalid);
        }
        if (player.Id != c.PlayerId)
            return ContributionResult.Refused(instanceId, Reasons.PlayerMismatch, $"The token belongs to player '{player.Id}', not '{c.PlayerId}'.");

        var (amount, refusal) = await QuoteAsync(instanceId, c, ct);
        if (refusal is not null) return refusal;
        var transactionId = TransactionId(instanceId, c);
        // The intent first: a debit or free-bet use taken for a contribution that then never commits (the process dies, the
        // client gives up) is given back by the sweeper.
        await using (var conn = await db.OpenConnectionAsync(ct))
            await conn.ExecuteAsync(new CommandDefinition("""
                insert into pending_debits (transaction_id, instance_id, operator_id, brand_id, player_id, gameround_id)
                values (@transactionId, @instanceId, @operatorId, @brand, @PlayerId, @GameroundId) on conflict do nothing
                """, new { transactionId, instanceId, operatorId, brand, c.PlayerId, c.GameroundId }, cancellationToken: ct));
        if (await FreeBetAsync(instanceId, c, operatorId, brand!, player.Id, transactionId, amount, apply, ct) is { } freeBetResult)
        {
            // Settled unless nobody knows yet: not committed for now, or ThrillGate not reached (a use may have been taken).
            if (freeBetResult.Outcome != Outcomes.Unavailable && freeBetResult.Reason != Reasons.WalletUnavailable) await ForgetAsync(transactionId);
            return freeBetResult;
        }
        try
        {
            await Client.UnaryAsync<Gate.TransactionReply>(DebitMethod, new Gate.DebitRequest
            {
                OperatorId = operatorId, BrandId = brand!, PlayerId = player.Id, Token = player.Token, TransactionId = transactionId,
                Amount = amount.ToString(CultureInfo.InvariantCulture), Currency = c.Currency, GameroundId = c.GameroundId, SourceId = c.SourceId ?? "",
            }, Call(ct));
        }
        catch (RpcException ex)
        {
            // ThrillGate cancelled what may have been taken; nothing is left to settle.
            await ForgetAsync(transactionId);
            return Refusal(instanceId, ex, Reasons.WalletRefused);
        }

        var result = await apply(c with { Prepaid = new Prepaid(amount, transactionId) });
        // Not applied for good: give the money back. Not applied for now (unavailable): the client resends with the same key,
        // which reuses this debit; the sweeper cancels it if nobody does.
        if (result.Outcome is Outcomes.Rejected or Outcomes.Conflict)
            await CancelAsync(operatorId, brand!, transactionId, player.Id, ct);
        if (result.Outcome != Outcomes.Unavailable) await ForgetAsync(transactionId);
        return result;
    }

    /// <summary>
    /// A free bet first (issue 9): when one of the player's bonuses applies, the contribution is worth what it gives and no
    /// debit happens. A refused contribution gives the use back; so does a duplicate whose original was not paid by this use
    /// (it was debited before the bonus existed). An unavailable one keeps it: the resend, with the same key, gets it again.
    /// Null when no bonus applies.
    /// </summary>
    async Task<ContributionResult?> FreeBetAsync(Guid instanceId, Contribution c, string operatorId, string brand, string playerId, string key,
        decimal amount, Func<Contribution, Task<ContributionResult>> apply, CancellationToken ct)
    {
        (decimal Amount, Guid BonusId)? use;
        try
        {
            use = await freeBets.ConsumeAsync(operatorId, brand, playerId, instanceId, c, key, amount, ct);
        }
        catch (RpcException ex)
        {
            return Refusal(instanceId, ex, Reasons.WalletRefused);
        }
        if (use is not { } u) return null;
        var result = await apply(c with { Prepaid = new Prepaid(u.Amount, null, u.BonusId) });
        var giveBack = result.Outcome is Outcomes.Rejected or Outcomes.Conflict;
        if (result.Outcome == Outcomes.Duplicate)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            giveBack = await conn.ExecuteScalarAsync<Guid?>(new CommandDefinition("""
                select free_bet_id from contributions where instance_id = @instanceId and brand_id = @BrandId and player_id = @PlayerId
                    and gameround_id = @GameroundId
                """, new { instanceId, c.BrandId, c.PlayerId, c.GameroundId }, cancellationToken: ct)) != u.BonusId;
        }
        if (giveBack) await freeBets.ReleaseAsync(key, CancellationToken.None);
        return result;
    }

    /// <summary>Gives back the free-bet use taken under <paramref name="key"/>, if any (a no-op otherwise).</summary>
    internal Task ReleaseFreeBetAsync(string key, CancellationToken ct) => freeBets.ReleaseAsync(key, ct);

    internal async Task CancelAsync(string operatorId, string brand, string transactionId, string? playerId, CancellationToken ct) =>
        await Client.UnaryAsync<Gate.CancelReply>(CancelMethod, new Gate.CancelRequest
        {
            OperatorId = operatorId, BrandId = brand, TransactionId = transactionId, PlayerId = playerId ?? "",
        }, Call(ct));

    async Task ForgetAsync(string transactionId)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("delete from pending_debits where transaction_id = @transactionId", new { transactionId });
    }

    /// <summary>
    /// What to debit: the contribution's value (as its writer will compute it: the player's preferred value, else the
    /// template's Fixed) in the player's currency, rounded to its minor unit, which is what the wallet can take.
    /// </summary>
    async Task<(decimal Amount, ContributionResult? Refusal)> QuoteAsync(Guid instanceId, Contribution c, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(string Currency, Guid TemplateId, bool? OptedIn, decimal? Preferred, string? PreferredCurrency, string Rates)>(
            new CommandDefinition("""
                select i.currency, i.template_id, o.opted_in, o.preferred_value, o.preferred_currency,
                    (select json_agg(json_build_array(scope, base_currency, multipliers::text, updated_at)) from currency_tables
                     where scope = '' or scope = @BrandId)::text
                from instances i left join opt_ins o on o.instance_id = i.id and o.brand_id = @BrandId and o.player_id = @PlayerId
                where i.id = @instanceId
                """, new { instanceId, c.BrandId, c.PlayerId }, cancellationToken: ct));
        if (row.Currency is null) return (0, ContributionResult.Refused(instanceId, Reasons.NotFound, $"No jackpot instance {instanceId}."));
        var definition = Templates.GetOrAdd(row.TemplateId, id => JsonSerializer.Deserialize<Templates.TemplateDefinition>(
            conn.ExecuteScalar<string>("select definition::text from templates where id = @id", new { id })!, Audit.Json)!);
        var rows = JsonDocument.Parse(row.Rates).RootElement.EnumerateArray()
            .Select(r => new CurrencyEndpoints.Row(r[0].GetString()!, r[1].GetString()!, r[2].GetString()!, r[3].GetDateTime())).ToList();
        var set = CurrencyEndpoints.Effective(rows.Single(r => r.Scope == ""), rows.FirstOrDefault(r => r.Scope == c.BrandId));
        foreach (var currency in new[] { c.Currency, row.Currency, row.PreferredCurrency })
            if (currency is not null && currency != set.BaseCurrency && !set.Multipliers.ContainsKey(currency))
                return (0, ContributionResult.Refused(instanceId, Reasons.CurrencyNotSupported,
                    $"No exchange multiplier for {currency} is configured for brand '{c.BrandId}' (base {set.BaseCurrency})."));
        var value = ContributionValues.InJackpotCurrency(definition, row.OptedIn == true, row.Preferred, row.PreferredCurrency, set, row.Currency, c.Currency);
        var amount = decimal.Round(set.Convert(value, row.Currency, c.Currency), Money.MinorUnitExponent(c.Currency), MidpointRounding.AwayFromZero);
        return amount > 0m
            ? (amount, null)
            : (0, ContributionResult.Refused(instanceId, Reasons.WalletRefused,
                $"The contribution's value, {value} {row.Currency}, is less than one minor unit of {c.Currency}: nothing can be debited."));
    }

    /// <summary>The debit's wallet transaction id: a pure function of the contribution's key and content (design.md §6).</summary>
    public static string TransactionId(Guid instanceId, Contribution c) => "contrib-" + Convert.ToHexStringLower(SHA256.HashData(
        Encoding.UTF8.GetBytes($"{instanceId:N}\n{c.BrandId}\n{c.PlayerId}\n{c.GameroundId}\n{Convert.ToHexStringLower(c.Hash)}")))[..40];

    static ContributionResult Refusal(Guid instanceId, RpcException ex, string refusedReason) => ex.StatusCode switch
    {
        StatusCode.Unauthenticated => ContributionResult.Refused(instanceId, Reasons.TokenInvalid, ex.Status.Detail),
        StatusCode.NotFound => ContributionResult.Refused(instanceId, Reasons.WalletNotConfigured, ex.Status.Detail),
        StatusCode.FailedPrecondition => ContributionResult.Refused(instanceId, refusedReason,
            $"{ex.Status.Detail} (wallet status {ex.Trailers.GetValue("wallet-status")}, code {ex.Trailers.GetValue("wallet-code")})"),
        _ => ContributionResult.Refused(instanceId, Reasons.WalletUnavailable, $"The wallet could not be reached: {ex.Status.Detail}"),
    };

    GrpcClient Client => grpc.Get("thrillgate");

    static CallOptions Call(CancellationToken ct) => CallOptions.WithTimeout(TimeSpan.FromSeconds(120), ct: ct);
}

/// <summary>
/// Settles debits whose contribution never did (see <see cref="WalletDebits"/>): after two minutes, a pending debit whose
/// contribution is in the ledger is forgotten, any other is cancelled through ThrillGate (which re-drives the cancel
/// until the wallet acknowledges it).
/// </summary>
public sealed class PendingDebitSweeper(NpgsqlDataSource db, WalletDebits debits, ILogger<PendingDebitSweeper> logger) : PollingService(logger)
{
    protected override int RoundSize => 100;
    protected override TimeSpan PollInterval => TimeSpan.FromSeconds(15);

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var stale = (await c.QueryAsync<(string TransactionId, Guid InstanceId, string OperatorId, string BrandId, string PlayerId, bool Applied)>(
            new CommandDefinition("""
                select p.transaction_id, p.instance_id, p.operator_id, p.brand_id, p.player_id,
                       exists (select 1 from contributions c where c.instance_id = p.instance_id and c.brand_id = p.operator_id || ':' || p.brand_id
                               and c.player_id = p.player_id and c.gameround_id = p.gameround_id
                               and (c.debit_transaction_id = p.transaction_id or c.free_bet_id is not null))
                from pending_debits p where p.created_at < now() - interval '2 minutes'
                order by p.created_at limit 100 for update skip locked
                """, transaction: tx, cancellationToken: ct))).ToList();
        foreach (var d in stale)
        {
            if (!d.Applied)
            {
                logger.LogWarning("Debit or free-bet use {TransactionId} never became a contribution; cancelling it", d.TransactionId);
                await debits.CancelAsync(d.OperatorId, d.BrandId, d.TransactionId, d.PlayerId, ct);
                await debits.ReleaseFreeBetAsync(d.TransactionId, ct);
            }
            await c.ExecuteAsync(new CommandDefinition("delete from pending_debits where transaction_id = @TransactionId", new { d.TransactionId }, tx,
                cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
        return stale.Count;
    }
}
