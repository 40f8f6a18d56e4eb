namespace ThrillPots.Contributions;

/// <summary>
/// What every front door does with a validated request: check that the caller may act for the brand, resolve the target to
/// its instance, and wait for the instance's writer to commit. Returns one result per instance contributed to (v2's
/// linked instances join the main one here). <paramref name="mayActFor"/> is the caller's owner check (done before an
/// asynchronous request is accepted, so its worker passes everything).
/// </summary>
public sealed class ContributionService(Targets targets, ContributionEngine engine, WalletDebits wallets, Links.LinkedInstances links)
{
    public async Task<IReadOnlyList<ContributionResult>> ContributeAsync(ContributionRequest request, Func<string, bool> mayActFor, CancellationToken ct)
    {
        var c = request.Contribution;
        if (!mayActFor(c.BrandId))
            return [ContributionResult.Refused(null, Reasons.Forbidden, $"The caller may not contribute for brand '{c.BrandId}'.")];
        Guid instanceId;
        if (request.Kind == TargetKind.Instance)
            instanceId = Guid.Parse(request.TargetId);
        else
        {
            var resolution = await targets.ResolveAsync(c.BrandId, request.TargetId, ct);
            if (!resolution.Known)
                return [ContributionResult.Refused(null, Reasons.NotFound, $"Brand '{c.BrandId}' has no contribution source '{request.TargetId}'.")];
            if (resolution.Instance is not Guid resolved)
                return [ContributionResult.Refused(null, Reasons.NotFound,
                    $"Source '{request.TargetId}' of '{c.BrandId}' feeds no jackpot instance that allows the brand and the source.")];
            instanceId = resolved;
        }
        var integrated = await wallets.IntegratedAsync(c.BrandId, ct);
        var main = await OneAsync(instanceId, c, integrated, ct);
        // A source whose cached instance stopped (a model switch re-points sources at once) is resolved afresh, once.
        if (request.Kind == TargetKind.Source && main.Reason == Reasons.InstanceNotActive)
        {
            targets.Forget(c.BrandId, request.TargetId);
            if ((await targets.ResolveAsync(c.BrandId, request.TargetId, ct)).Instance is Guid current && current != instanceId)
                main = await OneAsync(instanceId = current, c, integrated, ct);
        }
        // v2 (spec §14.2): then every instance directly linked from the main one, each on its own (one failing does not
        // stop the others); nothing of them when the main contribution failed.
        if (!request.Propagate || !main.Succeeded) return [main];
        var linked = await links.FromAsync(instanceId, ct);
        if (linked.Length == 0) return [main];
        return [main, .. await Task.WhenAll(linked.Select(id => OneAsync(id, c, integrated, ct)))];
    }

    /// <summary>
    /// A wallet-integrated brand's contribution is paid for first (design.md §6), one debit per instance contributed to
    /// (each its own value and transaction id); the others are settled by the operator.
    /// </summary>
    Task<ContributionResult> OneAsync(Guid instanceId, Contribution c, bool integrated, CancellationToken ct) =>
        integrated ? wallets.ContributeAsync(instanceId, c, debited => engine.SubmitAsync(instanceId, debited), ct) : engine.SubmitAsync(instanceId, c);

    /// <summary>
    /// For a batch: contributes concurrently, except that requests with the same target and key (brand, player, game
    /// round) run one after the other in the order they are handed in, so the first of them is the one applied and the
    /// later ones are answered as its duplicates.
    /// </summary>
    public Func<ContributionRequest, Task<IReadOnlyList<ContributionResult>>> InOrderOfKeys(Func<string, bool> mayActFor, CancellationToken ct)
    {
        var last = new Dictionary<(TargetKind, string, string, string, string), Task>();
        return request =>
        {
            var c = request.Contribution;
            var key = (request.Kind, request.TargetId, c.BrandId, c.PlayerId, c.GameroundId);
            lock (last)
            {
                var task = AfterAsync(last.GetValueOrDefault(key), request);
                last[key] = task;
                return task;
            }
        };

        async Task<IReadOnlyList<ContributionResult>> AfterAsync(Task? before, ContributionRequest request)
        {
            if (before is not null) await before.ContinueWith(_ => { }, TaskScheduler.Default);
            return await ContributeAsync(request, mayActFor, ct);
        }
    }
}
