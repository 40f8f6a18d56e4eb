using ReferenceWallet.Wallet;

namespace ReferenceWallet.Simulation;

public static class FaultModes
{
    public const string HttpError = "http_error";
    public const string Delay = "delay";
    public const string DropAfterCommit = "drop_after_commit";
    public static readonly string[] All = [HttpError, Delay, DropAfterCommit];
}

/// <summary><see cref="PlayerId"/> narrows the fault to that player's transactions (a single one, or its item of a batch).</summary>
public sealed record FaultRequest(string? Operation, string? Mode, int? HttpStatus, string? Code, int? DelayMs, int? Remaining, string? PlayerId = null);

public sealed record Fault(string Operation, string Mode, int HttpStatus, string Code, int DelayMs, int Remaining, string? PlayerId = null)
{
    public static readonly string[] Operations = ["authenticate", "balance", "transaction", "cancel", "batch", "cancel_batch"];

    public static Fault From(FaultRequest r)
    {
        var operation = WalletJson.Required(r.Operation, "operation", 32);
        if (!Operations.Contains(operation)) throw WalletFailure.Property("operation", $"must be one of {string.Join(", ", Operations)}; got '{operation}'.");
        var mode = WalletJson.Required(r.Mode, "mode", 32);
        if (!FaultModes.All.Contains(mode)) throw WalletFailure.Property("mode", $"must be one of {string.Join(", ", FaultModes.All)}; got '{mode}'.");
        var status = r.HttpStatus ?? 500;
        if (status is < 400 or > 599) throw WalletFailure.Property("http_status", $"must be 400-599; got {status}.");
        var delay = r.DelayMs ?? 0;
        if (mode == FaultModes.Delay && delay is < 1 or > 120_000) throw WalletFailure.Property("delay_ms", $"must be 1-120000 for a delay; got {delay}.");
        var remaining = r.Remaining ?? 1;
        if (remaining is < 1 or > 1_000_000) throw WalletFailure.Property("remaining", $"must be 1-1000000; got {remaining}.");
        var code = WalletJson.Optional(r.Code, "code", 64) ?? (status >= 500 ? ErrorCodes.InternalError : "INJECTED_FAULT");
        var playerId = WalletJson.Optional(r.PlayerId, "player_id");
        if (playerId is not null && (mode != FaultModes.HttpError || operation is not ("transaction" or "batch")))
            throw WalletFailure.Property("player_id", "narrows only http_error faults of transaction or batch (one player's credit fails, the others pass).");
        return new Fault(operation, mode, status, code, delay, remaining, playerId);
    }
}

/// <summary>
/// Faults armed for the next N calls of an operation, so ThrillGate's retry, timeout and
/// "committed but the answer was lost" paths can be driven on purpose. Held in memory: a restart clears them.
/// </summary>
public sealed class FaultInjector
{
    readonly Lock gate = new();
    readonly Dictionary<string, Fault> armed = new(StringComparer.Ordinal);

    public void Arm(Fault fault)
    {
        lock (gate) armed[Key(fault.Operation, fault.PlayerId)] = fault;
    }

    /// <summary>The next fault of an operation as a whole (not one narrowed to a player).</summary>
    public Fault? Take(string operation) => TakeKey(Key(operation, null));

    /// <summary>The next fault narrowed to <paramref name="playerId"/>'s transactions in <paramref name="operation"/>.</summary>
    public Fault? TakeFor(string operation, string playerId) => TakeKey(Key(operation, playerId));

    /// <summary>A player's fault as a refusal of that player's transaction, when one is armed.</summary>
    public void ThrowFor(string operation, string playerId)
    {
        if (TakeFor(operation, playerId) is { } fault)
            throw new WalletFailure(fault.HttpStatus, fault.Code, $"Injected fault on {operation} for player '{playerId}'.");
    }

    static string Key(string operation, string? playerId) => playerId is null ? operation : operation + "\n" + playerId;

    Fault? TakeKey(string key)
    {
        lock (gate)
        {
            if (!armed.TryGetValue(key, out var fault)) return null;
            if (fault.Remaining <= 1) armed.Remove(key);
            else armed[key] = fault with { Remaining = fault.Remaining - 1 };
            return fault;
        }
    }

    public IReadOnlyList<Fault> List()
    {
        lock (gate) return [.. armed.Values.OrderBy(f => f.Operation, StringComparer.Ordinal).ThenBy(f => f.PlayerId, StringComparer.Ordinal)];
    }

    public void Clear()
    {
        lock (gate) armed.Clear();
    }
}
