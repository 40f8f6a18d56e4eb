using ReferenceWallet.Wallet;

namespace ReferenceWallet.Simulation;

public static class FaultModes
{
    public const string HttpError = "http_error";
    public const string Delay = "delay";
    public const string DropAfterCommit = "drop_after_commit";
    public static readonly string[] All = [HttpError, Delay, DropAfterCommit];
}

public sealed record FaultRequest(string? Operation, string? Mode, int? HttpStatus, string? Code, int? DelayMs, int? Remaining);

public sealed record Fault(string Operation, string Mode, int HttpStatus, string Code, int DelayMs, int Remaining)
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
        return new Fault(operation, mode, status, code, delay, remaining);
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
        lock (gate) armed[fault.Operation] = fault;
    }

    public Fault? Take(string operation)
    {
        lock (gate)
        {
            if (!armed.TryGetValue(operation, out var fault)) return null;
            if (fault.Remaining <= 1) armed.Remove(operation);
            else armed[operation] = fault with { Remaining = fault.Remaining - 1 };
            return fault;
        }
    }

    public IReadOnlyList<Fault> List()
    {
        lock (gate) return [.. armed.Values.OrderBy(f => f.Operation, StringComparer.Ordinal)];
    }

    public void Clear()
    {
        lock (gate) armed.Clear();
    }
}
