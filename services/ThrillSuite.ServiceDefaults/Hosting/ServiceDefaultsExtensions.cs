using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using ThrillSuite.Data.Migrations;
using ThrillSuite.Data.Outbox;
using ThrillSuite.Grpc;
using ThrillSuite.Grpc.Diagnostics;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Diagnostics;
using ThrillSuite.ServiceDefaults.Http;
using ThrillSuite.ServiceDefaults.Settings;

namespace ThrillSuite.ServiceDefaults.Hosting;

public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// The platform wiring every service shares: validated settings, Kestrel's HTTP and HTTP/2-only gRPC
    /// ports, its PostgreSQL database, RabbitMQ with the outbox relay, OpenTelemetry, health, OpenAPI,
    /// problem details and the shutdown grace period.
    /// </summary>
    public static WebApplicationBuilder AddServiceDefaults(
        this WebApplicationBuilder builder, ServiceShape shape, Action<IBusRegistrationConfigurator>? messaging = null)
    {
        var reader = new SettingsReader(builder.Configuration);
        var settings = reader.Read(shape, builder.Environment.ApplicationName);
        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(new StartupErrors(reader.Errors));
        services.AddSingleton(new MigrationSet(MigrationRunner.Load(System.Reflection.Assembly.GetEntryAssembly()!)));

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (reader.Errors.Count > 0) return;
            kestrel.AddServerHeader = false;
            // Plaintext: HTTP/1.1 here (WebSockets, REST); h2c only on the gRPC port.
            kestrel.Listen(settings.BindAddress, settings.HttpPort, l => l.Protocols = HttpProtocols.Http1);
            if (settings.GrpcPort is { } grpcPort)
                kestrel.Listen(settings.BindAddress, grpcPort, l => l.Protocols = HttpProtocols.Http2);
        });
        services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownGrace);

        services.AddSingleton(_ => NpgsqlDataSource.Create(settings.DatabaseConnectionString));
        ThrillSuite.Data.TextArrayHandler.Register();
        services.AddProblemDetails();
        // The ThrillTech surface is snake_case JSON throughout.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        services.AddOpenApi();
        services.AddHttpContextAccessor();
        services.AddSingleton<GrpcClients>();
        if (shape.Grpc) services.AddGrpcServer();
        if (shape.Grpc && settings.DiagnosticsEnabled) services.AddGrpcService<DiagnosticsService>(DiagnosticsService.Descriptor);

        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<ShutdownHealthCheck>("accepting-work", tags: ["ready"]);

        if (settings.Auth is { } auth)
        {
            services.AddJwksTokenValidation(auth);
            services.AddOptions<ThrillSuite.ServiceDefaults.Admin.AdminOptions>().BindConfiguration("Admin");
        }
        if (shape.Messaging) AddMessaging(builder, settings, messaging);
        builder.AddTelemetry(settings);
        return builder;
    }

    static void AddMessaging(WebApplicationBuilder builder, ServiceSettings settings, Action<IBusRegistrationConfigurator>? configure)
    {
        var services = builder.Services;
        services.AddMassTransit(bus =>
        {
            // Queues are named per service so two services consuming one event each get every copy.
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(settings.Name, includeNamespace: false));
            if (settings.DiagnosticsEnabled) bus.AddConsumer<DiagnosticProbeReceiver>();
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                if (settings.RabbitMq is { } uri) rabbit.Host(uri, h => h.PublisherConfirmation = true);
                rabbit.UseMessageRetry(r => r.Exponential(8, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500)));
                rabbit.ConfigureEndpoints(context);
            });
        });
        services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false; // readiness reports the broker; start-up does not hang on it
            o.StopTimeout = settings.ShutdownGrace;
            o.ConsumerStopTimeout = settings.ShutdownGrace;
        });
        services.AddOptions<OutboxRelayOptions>().BindConfiguration("Outbox");
        services.AddHostedService<OutboxRelay>();
    }

    /// <summary>Health, OpenAPI, gRPC on its own port, problem details for every error, diagnostics.</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<ServiceSettings>();
        app.UseHttpServerSpans();
        if (settings.GrpcPort is { } grpcPort)
            app.UseGrpcServer(grpcPort);
        // The edge (nginx, an Ingress) is the only proxy; loopback proxies are trusted by default.
        app.UseForwardedHeaders(new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestBodyLimit(settings.MaxRequestBodyBytes);

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteHealth });
        app.MapOpenApi();
        if (settings.DiagnosticsEnabled) app.MapDiagnosticProbes();
        return app;
    }

    /// <summary>
    /// Runs the service: reports configuration errors and exits 2; applies migrations; with the verb
    /// <c>migrate</c> exits after them (the Kubernetes migration job), otherwise serves until SIGTERM.
    /// </summary>
    public static async Task<int> RunServiceAsync(this WebApplication app, string[] args)
    {
        var errors = app.Services.GetRequiredService<StartupErrors>().Errors.Concat(ServiceOptionErrors(app.Services)).ToList();
        if (errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"{app.Environment.ApplicationName} cannot start; fix these settings:");
            foreach (var error in errors) await Console.Error.WriteLineAsync("  - " + error);
            return 2;
        }
        var settings = app.Services.GetRequiredService<ServiceSettings>();
        Telemetry.Start(app.Services);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ThrillSuite.Startup");
        var migrations = app.Services.GetRequiredService<MigrationSet>().Migrations;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
        {
            var applied = await MigrationRunner.MigrateAsync(settings.DatabaseConnectionString, migrations, logger, timeout.Token);
            logger.LogInformation("Database {Database} is at the latest of {Total} migrations ({Applied} applied now)",
                settings.DatabaseName, migrations.Count, applied);
        }
        if (args.Contains("migrate")) return 0;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            foreach (var task in app.Services.GetServices<IStartupTask>()) await task.RunAsync(timeout.Token);
        }
        catch (StartupSettingException ex)
        {
            await Console.Error.WriteLineAsync($"{app.Environment.ApplicationName} cannot start; fix these settings:");
            await Console.Error.WriteLineAsync("  - " + ex.Message);
            return 2;
        }
        await app.RunAsync();
        return 0;
    }

    /// <summary>A service's own options registered with ValidateOnStart, reported in the same list as the platform's.</summary>
    static IEnumerable<string> ServiceOptionErrors(IServiceProvider services)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return [];
        }
        catch (OptionsValidationException ex)
        {
            return ex.Failures;
        }
        catch (AggregateException ex)
        {
            return ex.InnerExceptions.OfType<OptionsValidationException>().SelectMany(e => e.Failures);
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // The binder names the key and the value (never a secret: secrets are strings and always bind).
            return [ex.Message];
        }
    }

    static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }
}

internal sealed record StartupErrors(IReadOnlyList<string> Errors);
internal sealed record MigrationSet(IReadOnlyList<Migration> Migrations);

internal sealed class DatabaseHealthCheck(NpgsqlDataSource db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var command = db.CreateCommand("select 1");
            await command.ExecuteScalarAsync(ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable: " + ex.Message);
        }
    }
}

/// <summary>Turns readiness off as soon as SIGTERM arrives, so no new work is routed here while in-flight work finishes.</summary>
internal sealed class ShutdownHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("Shutting down.")
            : HealthCheckResult.Healthy());
}
