using Yarp.ReverseProxy.Configuration;

namespace QuantTrader.Gateway.Routing;

/// <summary>
/// Which service owns which public route (../shared/API.md). Destinations are Aspire service names, resolved by
/// service discovery, so the same table works locally and on Kubernetes.
/// </summary>
public static class RouteTable
{
    public static readonly IReadOnlyDictionary<string, string[]> Owners = new Dictionary<string, string[]>
    {
        ["accounts"] = ["/api/v1/accounts/{**rest}", "/api/v1/billing/{**rest}"],
        ["ingestor"] = ["/api/v1/markets", "/api/v1/imports/{**rest}"],
        ["persistence"] = ["/api/v1/markets/{exchange}/{symbol}/trades", "/api/v1/markets/{exchange}/{symbol}/klines"],
        ["kline"] = ["/api/v1/markets/{exchange}/{symbol}/indicators/{**rest}"],
        ["paper-engine"] = ["/api/v1/orders/{**rest}", "/api/v1/fills/{**rest}", "/api/v1/portfolio/{**rest}", "/api/v1/fees/{**rest}"],
        ["risk"] = ["/api/v1/risk/{**rest}"],
        ["alert"] = ["/api/v1/alerts/{**rest}", "/api/v1/notifications/{**rest}", "/api/v1/notification-channels/{**rest}"],
        ["strategy-runner"] = ["/api/v1/strategies/{**rest}", "/api/v1/backtests/{**rest}"],
        ["analytics"] = ["/api/v1/analytics/{**rest}"],
    };

    public static IReadOnlyList<RouteConfig> Routes() =>
    [
        .. Owners.SelectMany(owner => owner.Value.Select((path, i) => new RouteConfig
        {
            RouteId = $"{owner.Key}-{i}",
            ClusterId = owner.Key,
            Match = new RouteMatch { Path = path },
        })),
        // Each service's readiness, reachable through the one public door: GET /health/{service}.
        .. Owners.Keys.Select(service => new RouteConfig
        {
            RouteId = $"{service}-health",
            ClusterId = service,
            Match = new RouteMatch { Path = $"/health/{service}", Methods = ["GET"] },
            Transforms = [new Dictionary<string, string> { ["PathSet"] = "/health" }],
        }),
    ];

    public static IReadOnlyList<ClusterConfig> Clusters() =>
    [
        .. Owners.Keys.Select(service => new ClusterConfig
        {
            ClusterId = service,
            Destinations = new Dictionary<string, DestinationConfig>
            {
                [service] = new() { Address = $"http://{service}" },
            },
        }),
    ];
}
