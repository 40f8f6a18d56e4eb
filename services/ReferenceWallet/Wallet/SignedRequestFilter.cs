using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using ReferenceWallet.Simulation;

namespace ReferenceWallet.Wallet;

/// <summary>The name of an operation as fault injection knows it; put on each wallet endpoint.</summary>
public sealed record WalletOperation(string Name);

/// <summary>
/// In front of every wallet endpoint: reads the body once, checks its HMAC (§3.1), applies any injected fault,
/// and turns refusals and unexpected errors into the wallet's {code, message} body.
/// </summary>
public sealed class SignedRequestFilter(IOptions<WalletOptions> options, FaultInjector faults, ILogger<SignedRequestFilter> logger) : IEndpointFilter
{
    public const string Header = "X-Server-Authorization";
    readonly byte[] key = Encoding.UTF8.GetBytes(options.Value.Secret);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            var body = await RequestBody.ReadAsync(http, options.Value.MaxBodyBytes);
            if (!IsSigned(http.Request.Headers[Header].ToString(), body.Span))
                return new WalletFailure(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidSignature,
                    $"{Header} must be the lowercase hex HMAC-SHA256 of the request body.").ToResult();

            var operation = http.GetEndpoint()?.Metadata.GetMetadata<WalletOperation>()?.Name;
            var fault = operation is null ? null : faults.Take(operation);
            if (fault is not null) logger.LogWarning("Injecting fault {Mode} into {Operation}", fault.Mode, operation);
            switch (fault?.Mode)
            {
                case FaultModes.HttpError:
                    return Results.Json(new WalletError(fault.Code, $"Injected fault on {operation}."), statusCode: fault.HttpStatus);
                case FaultModes.Delay:
                    // Not cancelled with the request: like a slow wallet, it finishes the work after the caller gave up.
                    await Task.Delay(fault.DelayMs, CancellationToken.None);
                    break;
            }

            var result = await next(context);
            if (fault?.Mode == FaultModes.DropAfterCommit)
            {
                // Committed, but the caller never learns it: the connection is reset instead of answered.
                http.Abort();
                return Results.Empty;
            }
            return result;
        }
        catch (WalletFailure failure)
        {
            return failure.ToResult();
        }
        catch (Exception ex) when (!http.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(ex, "Wallet request {Method} {Path} failed", http.Request.Method, http.Request.Path);
            return Results.Json(new WalletError(ErrorCodes.InternalError, "The wallet failed to process the request."), statusCode: 500);
        }
    }

    bool IsSigned(string header, ReadOnlySpan<byte> body)
    {
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, body, expected);
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var hex = header.AsSpan().Trim();
        return hex.Length == 2 * HMACSHA256.HashSizeInBytes
            && Convert.FromHexString(hex, given, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == given.Length
            && CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
