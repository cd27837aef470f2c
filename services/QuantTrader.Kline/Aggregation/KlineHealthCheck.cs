using Microsoft.Extensions.Diagnostics.HealthChecks;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Kline.Aggregation;

/// <summary>
/// Healthy once every partition this replica owns has replayed its trades up to where it stood when the replica took it:
/// before that its open klines are not rebuilt and the clock is not applied. A replica that owns nothing is a standby,
/// and healthy.
/// </summary>
public sealed class KlineHealthCheck(PartitionLeases leases, KlineReplays replays) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var owned = leases.Owned.ToArray();
        var replaying = owned.Where(p => !replays.CaughtUp(p)).ToArray();
        var data = new Dictionary<string, object> { ["owned"] = owned, ["replaying"] = replaying };
        return Task.FromResult(replaying.Length == 0
            ? HealthCheckResult.Healthy(owned.Length == 0 ? "standby: owns no partition" : $"aggregating partitions [{string.Join(',', owned)}]", data)
            : HealthCheckResult.Unhealthy($"replaying partitions [{string.Join(',', replaying)}] to rebuild their open klines", data: data));
    }
}
