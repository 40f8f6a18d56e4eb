using System.Diagnostics;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ThrillSuite.ServiceDefaults.Settings;

namespace ThrillSuite.ServiceDefaults.Hosting;

/// <summary>
/// Traces, metrics and logs over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads the
/// standard OTEL_* variables itself). ASP.NET Core, HttpClient, Npgsql and MassTransit emit their own
/// activities and meters; naming their sources is all it takes.
/// </summary>
public static class Telemetry
{
    public static readonly string[] ActivitySources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "MassTransit", "ThrillSuite.*"];
    public static readonly string[] Meters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "Npgsql", "MassTransit", "ThrillSuite.*"];

    public static bool IsEnabled(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static void AddTelemetry(this WebApplicationBuilder builder, ServiceSettings settings)
    {
        if (!IsEnabled(builder.Configuration)) return;
        if (Interlocked.Exchange(ref messagingConventionsAdded, 1) == 0) ActivitySource.AddActivityListener(MessagingConventions);
        var version = Assembly.GetEntryAssembly()?.GetName().Version?.ToString() ?? "0.0.0";
        var resource = ResourceBuilder.CreateDefault().AddService(settings.Name, serviceNamespace: "thrillsuite", serviceVersion: version);

        builder.Services.AddSingleton(_ => Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(ActivitySources)
            .AddOtlpExporter()
            .Build());
        builder.Services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Meters)
            .AddOtlpExporter()
            .Build());
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.SetResourceBuilder(resource);
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
            o.AddOtlpExporter();
        });
    }

    /// <summary>
    /// HTTP server spans by the semantic conventions: without the ASP.NET Core instrumentation package (not held here) the
    /// hosting activity has no attributes and is named after itself. Set when the response is done: "{method} {route}",
    /// http.request.method, url.scheme, url.path, http.route, server.address/port, http.response.status_code. A gRPC call keeps
    /// the name and rpc.* attributes the gRPC server gave it.
    /// </summary>
    public static IApplicationBuilder UseHttpServerSpans(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var activity = Activity.Current;
        if (activity?.OperationName != "Microsoft.AspNetCore.Hosting.HttpRequestIn")
        {
            await next(context);
            return;
        }
        try
        {
            await next(context);
        }
        finally
        {
            var request = context.Request;
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is { } raw ? "/" + raw.TrimStart('/') : null;
            activity.SetTag("http.request.method", request.Method);
            activity.SetTag("url.scheme", request.Scheme);
            activity.SetTag("url.path", request.Path.Value);
            activity.SetTag("http.route", route);
            activity.SetTag("server.address", request.Host.Host);
            activity.SetTag("server.port", request.Host.Port);
            activity.SetTag("http.response.status_code", context.Response.StatusCode);
            if (activity.GetTagItem("rpc.system") is null) activity.DisplayName = route is null ? request.Method : $"{request.Method} {route}";
            if (context.Response.StatusCode >= 500) activity.SetStatus(ActivityStatusCode.Error);
        }
    });

    /// <summary>
    /// MassTransit 8 names its consumer spans "{queue} receive" and "{queue} process" but gives them no messaging.system, and the
    /// process span no destination; they are added as each starts (its send spans already carry them). Samples nothing itself.
    /// </summary>
    static int messagingConventionsAdded;
    static readonly ActivityListener MessagingConventions = new()
    {
        ShouldListenTo = source => source.Name == "MassTransit",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
        ActivityStarted = activity =>
        {
            if (activity.Kind != ActivityKind.Consumer) return;
            var name = activity.DisplayName;
            var space = name.LastIndexOf(' ');
            if (space <= 0) return;
            var operation = name[(space + 1)..];
            if (operation is not ("receive" or "process")) return;
            activity.SetTag("messaging.system", "rabbitmq");
            activity.SetTag("messaging.operation.type", operation);
            if (operation == "process") activity.SetTag("messaging.destination.name", name[..space]);
        },
    };

    /// <summary>Creates the providers before the first request so its activity is recorded.</summary>
    internal static void Start(IServiceProvider services)
    {
        services.GetService<TracerProvider>();
        services.GetService<MeterProvider>();
    }
}
