using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace QuantTrader.Alert.Runtime;

/// <summary>Healthy once the rules are loaded and the live consumers exist, so nothing published after start-up is missed.</summary>
public sealed class AlertEngineHealthCheck(AlertWorker worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(worker.Consuming
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("loading rules and starting the trade and kline consumers"));
}
