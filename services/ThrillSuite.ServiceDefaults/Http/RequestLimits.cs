using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ThrillSuite.ServiceDefaults.Http;

/// <summary>Bounds every HTTP request body (Service:MaxRequestBodyBytes): 413 problem, whether announced or streamed.</summary>
public static class RequestLimits
{
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app, long maxBytes) =>
        app.Use(async (context, next) =>
        {
            if (context.Request.ContentLength > maxBytes)
            {
                await Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
                    detail: $"Request bodies are limited to {maxBytes} bytes.").ExecuteAsync(context);
                return;
            }
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = maxBytes;
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
            {
                await Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
                    detail: $"Request bodies are limited to {maxBytes} bytes.").ExecuteAsync(context);
            }
        });
}
