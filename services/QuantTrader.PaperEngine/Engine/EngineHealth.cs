using Microsoft.Extensions.Diagnostics.HealthChecks;
using QuantTrader.PaperEngine.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.PaperEngine.Engine;

internal sealed class EngineHealth(ActiveEngine engine, PartitionLeases leases, TradeFeed feed, OrderRequestHandlers handlers) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult((engine.IsActive, engine.Owns, leases.HasRun, feed.Ready, handlers.Ready) switch
        {
            (true, _, _, true, true) => HealthCheckResult.Healthy("active: matching live trades; answering paper.submit and paper.cancel"),
            (true, _, _, false, _) => HealthCheckResult.Unhealthy("active, not consuming MARKET_RAW yet"),
            (true, _, _, _, false) => HealthCheckResult.Unhealthy("active, not subscribed to paper.submit / paper.cancel yet"),
            (false, true, _, _, _) => HealthCheckResult.Unhealthy("taking over: loading the engine's state"),
            (false, false, true, _, _) => HealthCheckResult.Healthy("standby: another replica runs the engine; HTTP is forwarded to it"),
            _ => HealthCheckResult.Unhealthy("not yet known whether active or standby"),
        });
}
