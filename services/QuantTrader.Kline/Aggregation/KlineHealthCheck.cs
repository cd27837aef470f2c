using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace QuantTrader.Kline.Aggregation;

/// <summary>Healthy once the start-up replay of MARKET_RAW has caught up: before that the open klines are not rebuilt yet.</summary>
public sealed class KlineHealthCheck(KlineWorker worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(worker.CaughtUp
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("replaying MARKET_RAW to rebuild the open klines"));
}
