using Microsoft.Extensions.Diagnostics.HealthChecks;
using QuantTrader.PaperEngine.Messaging;

namespace QuantTrader.PaperEngine.Engine;

internal sealed class EngineHealth(TradeFeed feed, OrderRequestHandlers handlers) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult((feed.Ready, handlers.Ready) switch
        {
            (true, true) => HealthCheckResult.Healthy("matching live trades; answering paper.submit and paper.cancel"),
            (false, _) => HealthCheckResult.Unhealthy("not consuming MARKET_RAW yet"),
            _ => HealthCheckResult.Unhealthy("not subscribed to paper.submit / paper.cancel yet"),
        });
}
