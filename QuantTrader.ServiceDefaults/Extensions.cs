using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using QuantTrader.ServiceDefaults.Messaging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every QuantTrader process shares: telemetry, health, service discovery and resilience.
/// Web services call <see cref="AddServiceDefaults{TBuilder}"/>; workers without HTTP call
/// <see cref="AddBasicServiceDefaults{TBuilder}"/>.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddBasicServiceDefaults();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        builder.Services.AddProblemDetails();
        // Unreadable input (bad numbers, broken or mistyped JSON) is a 400 naming the field, not a 500.
        QuantTrader.ServiceDefaults.Problems.BadRequestProblems.AddBadRequestProblems(builder.Services);
        // One JSON shape for every API: camelCase, snake_case enums, UTC times with Z.
        builder.Services.ConfigureHttpJsonOptions(o => QuantTrader.Contracts.Messaging.ContractsJsonContext.Configure(o.SerializerOptions));
        return builder;
    }

    /// <summary>Telemetry and health checks, without the HTTP client defaults.</summary>
    public static TBuilder AddBasicServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        // HostOptions:ShutdownTimeout (HostOptions__ShutdownTimeout=00:00:40): how long the host lets its services drain
        // after SIGTERM. .NET reads only shutdownTimeoutSeconds by itself; the Kubernetes output sets this a few seconds
        // below the pod's termination grace period, so a drain ends before the kubelet's SIGKILL.
        builder.Services.Configure<HostOptions>(builder.Configuration.GetSection("HostOptions"));
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        // Npgsql logs every command and COPY at Information: thousands of lines a second on the batch saver that
        // bury what a service has to say. Its commands are still traced (OpenTelemetry); a configured
        // "Logging:LogLevel:Npgsql" still overrides this.
        if (builder.Configuration["Logging:LogLevel:Npgsql"] is null)
        {
            builder.Logging.AddFilter("Npgsql", LogLevel.Warning);
        }

        // Market data flows at tens of thousands of messages a second: sample traces by ratio, and follow
        // the parent's decision so a sampled trade stays sampled from connector to stored row.
        var ratio = builder.Configuration.GetValue("QuantTrader:Tracing:SampleRatio", 1.0);

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(QuantTraderTelemetry.MeterName)
                .AddMeter("NATS.Net"))
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)))
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(QuantTraderTelemetry.ActivitySourceName)
                // Not "NATS.Net": with a listener on it the client starts a send and a receive activity for every
                // message (a third of the alert service's CPU at 5,000 trades/s, docs/benchmarks.md), duplicating
                // the publish/process spans NatsTracing already makes and carries across in the headers.
                .AddAspNetCoreInstrumentation(o =>
                    o.Filter = ctx => !ctx.Request.Path.StartsWithSegments(HealthEndpointPath)
                                      && !ctx.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    /// <summary>
    /// <c>/health</c>: every check must pass (readiness). <c>/alive</c>: only the live-tagged checks (liveness).
    /// Mapped in every environment: Kubernetes probes and the AppHost both depend on them.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains("live"),
        });
        return app;
    }
}
