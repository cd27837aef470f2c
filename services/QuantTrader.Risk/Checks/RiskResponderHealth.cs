using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace QuantTrader.Risk.Checks;

internal sealed class RiskResponderHealth(RiskResponder responder) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(responder.Ready ? HealthCheckResult.Healthy("answering risk.check") : HealthCheckResult.Unhealthy("not subscribed to risk.check yet"));
}
