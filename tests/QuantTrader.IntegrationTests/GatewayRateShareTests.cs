using QuantTrader.Gateway.RateLimiting;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Each gateway replica counts requests on its own, so it enforces its share of a plan's limit: N replicas behind a
/// load balancer together allow the plan's rate, not N times it (the Kubernetes output tells each its replica count).
/// </summary>
public sealed class GatewayRateShareTests
{
    [Theory]
    [InlineData(120, 1, 120)]
    [InlineData(120, 2, 60)]
    [InlineData(121, 2, 61)] // rounded up: a replica never refuses the request that completes the plan's rate
    [InlineData(1200, 3, 400)]
    [InlineData(1, 3, 1)] // every replica admits at least one request a minute
    [InlineData(120, 0, 120)] // no replica count configured: one gateway
    public void A_replica_enforces_its_share_of_the_limit(int limit, int replicas, int share) =>
        Assert.Equal(share, PlanRateLimits.Share(limit, replicas));

    [Fact]
    public void All_replicas_together_never_allow_more_than_the_limit_plus_the_rounding()
    {
        foreach (var limit in new[] { 1, 7, 60, 120, 1200, 6000 })
        {
            foreach (var replicas in Enumerable.Range(1, 10))
            {
                var total = PlanRateLimits.Share(limit, replicas) * replicas;
                Assert.InRange(total, limit, Math.Max(limit, replicas) + replicas - 1);
            }
        }
    }
}
