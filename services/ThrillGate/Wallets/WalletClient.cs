using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace ThrillGate.Wallets;

/// <summary>Why a wallet call did not succeed.</summary>
public enum WalletFailureKind
{
    /// <summary>The wallet answered with an error (<see cref="WalletCallException.Status"/>, <see cref="WalletCallException.Code"/>).</summary>
    Refused,
    /// <summary>No answer within the timeouts and retries, or the connection failed.</summary>
    Unreachable,
    /// <summary>The wallet's circuit is open after repeated failures: not even tried.</summary>
    CircuitOpen,
    /// <summary>The brand has no enabled wallet, or the wallet lacks the endpoint.</summary>
    NotConfigured,
}

public sealed class WalletCallException(WalletFailureKind kind, string message, int? status = null, string? code = null, ErrorRule? rule = null)
    : Exception(message)
{
    public WalletFailureKind Kind { get; } = kind;
    public int? Status { get; } = status;
    public string? Code { get; } = code;
    /// <summary>The error's <c>error_response_rules</c> entry (or the default: retry, cancel).</summary>
    public ErrorRule Rule { get; } = rule ?? new ErrorRule(true, true);
    public bool MustRetry => Kind != WalletFailureKind.Refused || Rule.MustRetry != false;
}

/// <summary>
/// Calls an operator's Standard Wallet API (spec §3): the body serialised once and signed with the wallet's secret in
/// <c>X-Server-Authorization</c> (HMAC of the raw bytes, algorithm and encoding per wallet, HMAC-SHA256 hex by default), then
/// a Polly pipeline per wallet: retries per <c>request_retry_limit</c> (errors whose rule says <c>must_retry: false</c> are not
/// retried), each attempt under its own timeout (<c>request_timeout</c>, then <c>request_timeout × request_retry_backoff ×
/// n</c> for retry n, as spec §5.2 proposes), optional sleeps of the same length (<c>retry_backoff_sleep</c>), and a circuit
/// breaker so that a dead wallet fails fast instead of holding every caller for its timeouts.
/// </summary>
public sealed class WalletClient(IHttpClientFactory httpFactory, ILogger<WalletClient> logger)
{
    public const string SignatureHeader = "X-Server-Authorization";
    static readonly JsonSerializerOptions Json = ThrillSuite.ServiceDefaults.Http.JsonBody.Options;
    static readonly ResiliencePropertyKey<int> Attempt = new("thrillgate.attempt");
    readonly ConcurrentDictionary<(string Id, int Version), ResiliencePipeline> pipelines = new();

    /// <summary>The answer's JSON body on success; a <see cref="WalletCallException"/> otherwise.</summary>
    public async Task<JsonElement> CallAsync(Wallet wallet, string operation, object? body, string? query, CancellationToken ct)
    {
        var endpoint = wallet.Definition.Endpoints.GetValueOrDefault(operation)
            ?? throw new WalletCallException(WalletFailureKind.NotConfigured, $"Wallet '{wallet.Definition.Id}' has no '{operation}' endpoint.");
        var bytes = body is null ? [] : JsonSerializer.SerializeToUtf8Bytes(body, Json);
        var signature = Sign(wallet, bytes);
        var uri = new Uri(wallet.Definition.BaseUri, wallet.Definition.ConnectionDetails.BasePath + endpoint.Path + query);
        var pipeline = pipelines.GetOrAdd((wallet.Definition.Id, wallet.Version), _ => Build(wallet.Definition));

        var context = ResilienceContextPool.Shared.Get(ct);
        try
        {
            context.Properties.Set(Attempt, 0);
            return await pipeline.ExecuteAsync(async (ctx, state) =>
            {
                using var request = new HttpRequestMessage(new HttpMethod(state.endpoint.Verb), state.uri);
                if (state.bytes.Length > 0 || state.endpoint.Verb != "GET")
                {
                    request.Content = new ByteArrayContent(state.bytes);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                }
                request.Headers.TryAddWithoutValidation(SignatureHeader, state.signature);
                HttpResponseMessage response;
                try
                {
                    response = await httpFactory.CreateClient("wallets").SendAsync(request, ctx.CancellationToken);
                }
                catch (HttpRequestException ex)
                {
                    throw new WalletCallException(WalletFailureKind.Unreachable, $"{state.operation}: {ex.Message}");
                }
                using (response)
                {
                    var text = await response.Content.ReadAsStringAsync(ctx.CancellationToken);
                    if (response.IsSuccessStatusCode)
                        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
                    var (code, message) = ErrorBody(text);
                    var status = (int)response.StatusCode;
                    throw new WalletCallException(WalletFailureKind.Refused, $"{state.operation}: the wallet answered {status} {code} {message}".TrimEnd(),
                        status, code, wallet.Definition.RuleFor(status, code));
                }
            }, context, (endpoint, uri, bytes, signature, operation));
        }
        catch (TimeoutRejectedException)
        {
            throw new WalletCallException(WalletFailureKind.Unreachable, $"{operation}: no answer within the wallet's timeouts.");
        }
        catch (BrokenCircuitException)
        {
            throw new WalletCallException(WalletFailureKind.CircuitOpen, $"{operation}: wallet '{wallet.Definition.Id}' is failing; its circuit is open.");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>The X-Server-Authorization value of a body: the wallet's HMAC algorithm and encoding over its raw bytes.</summary>
    public static string Sign(Wallet wallet, byte[] body)
    {
        var mac = wallet.Definition.Config.HmacAlgorithm switch
        {
            "HMACSHA512" => HMACSHA512.HashData(wallet.Secret, body),
            "HMACSHA384" => HMACSHA384.HashData(wallet.Secret, body),
            _ => HMACSHA256.HashData(wallet.Secret, body),
        };
        return wallet.Definition.Config.HmacEncoding == "base64" ? Convert.ToBase64String(mac) : Convert.ToHexStringLower(mac);
    }

    /// <summary>The timeout of attempt <paramref name="retry"/> (0 for the first call): request_timeout, then × backoff × n.</summary>
    public static TimeSpan AttemptTimeout(WalletConfig config, int retry) =>
        TimeSpan.FromSeconds(retry == 0 ? config.RequestTimeout : (double)(config.RequestTimeout * config.RequestRetryBackoff * retry));

    /// <summary>The longest one <see cref="CallAsync"/> can take with this configuration: every attempt's timeout and every sleep.</summary>
    public static TimeSpan MaxDuration(WalletConfig config) =>
        Enumerable.Range(0, config.RequestRetryLimit + 1)
            .Select(n => AttemptTimeout(config, n) + (config.RetryBackoffSleep && n > 0 ? AttemptTimeout(config, n) : TimeSpan.Zero))
            .Aggregate(TimeSpan.Zero, (a, b) => a + b);

    ResiliencePipeline Build(WalletDefinition wallet)
    {
        var config = wallet.Config;
        TimeSpan Timeout(int retry) => AttemptTimeout(config, retry);
        var retryable = new PredicateBuilder()
            .Handle<WalletCallException>(e => e.MustRetry && e.Kind != WalletFailureKind.NotConfigured)
            .Handle<TimeoutRejectedException>();
        var builder = new ResiliencePipelineBuilder();
        if (config.RequestRetryLimit > 0)
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = retryable,
                MaxRetryAttempts = config.RequestRetryLimit,
                BackoffType = DelayBackoffType.Constant,
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(config.RetryBackoffSleep ? Timeout(args.AttemptNumber + 1) : TimeSpan.Zero),
                OnRetry = args =>
                {
                    args.Context.Properties.Set(Attempt, args.AttemptNumber + 1);
                    logger.LogWarning("Wallet {WalletId}: attempt {Attempt} failed ({Error}); retrying", wallet.Id, args.AttemptNumber + 1,
                        args.Outcome.Exception?.Message);
                    return ValueTask.CompletedTask;
                },
            });
        // Only the wallet's health opens the circuit: timeouts, dropped connections and 5xx, not a refused bet.
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder()
                .Handle<WalletCallException>(e => e.Kind == WalletFailureKind.Unreachable || e.Status >= 500)
                .Handle<TimeoutRejectedException>(),
            FailureRatio = 0.5,
            MinimumThroughput = 10,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(10),
        });
        builder.AddTimeout(new TimeoutStrategyOptions
        {
            TimeoutGenerator = args => ValueTask.FromResult(Timeout(args.Context.Properties.GetValue(Attempt, 0))),
        });
        return builder.Build();
    }

    static (string? Code, string? Message) ErrorBody(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            return (root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null,
                root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null);
        }
        catch (JsonException)
        {
            return (null, text.Length > 200 ? text[..200] : text);
        }
    }
}
