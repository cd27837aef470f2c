using Microsoft.Extensions.Diagnostics.HealthChecks;
using QuantTrader.Alert.Partitioning;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Alert.Runtime;

/// <summary>
/// Healthy once every partition this replica owns has its rules loaded and its consumers open. A replica that owns
/// none is a healthy standby (it still serves the API; the owners evaluate).
/// </summary>
public sealed class AlertEngineHealthCheck(AlertStreams streams, PartitionLeases leases, AlertPartitionWork work) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!streams.Ready && leases.Owned.Count > 0)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("creating the streams"));
        }

        var starting = leases.Owned.Where(p => !work.IsEvaluating(p)).ToArray();
        return Task.FromResult(starting.Length == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"loading the rules of partitions [{string.Join(',', starting)}]"));
    }
}
