using Aspire.Hosting.ApplicationModel;
using QuantTrader.AppHost.Infrastructure;

namespace QuantTrader.AppHost.Kubernetes;

/// <summary>
/// On Kubernetes this NATS container runs as a cluster of <c>--nats-nodes</c> servers (a StatefulSet <c>nats-0</c>…,
/// routes through a headless Service, JetStream's store on a volume per server), so losing one server or node loses
/// neither the bus nor a stream (streams get three replicas). <see cref="RoutePassword"/> is what the servers present
/// to each other on the route port; <see cref="ConfigFileName"/> is the config file that gains the cluster block.
/// </summary>
public sealed record NatsClusterAnnotation(ParameterResource RoutePassword, string ConfigFileName) : IResourceAnnotation
{
    public const string ClusterName = "quanttrader";
    public const int RoutePort = 6222;
    public const string RouteUser = "route";
    /// <summary>Where nats-server writes its pid: the lame-duck signal of the preStop hook finds the process there.</summary>
    public const string PidDirectory = "/var/run/nats";
}

public static class NatsClusterExtensions
{
    /// <summary>
    /// Publishing: NATS becomes a cluster on Kubernetes (<see cref="NatsClusterAnnotation"/>) with a generated route
    /// password in the Secret. A local run (process or container) keeps its single server.
    /// </summary>
    public static NatsBus ClusteredOnKubernetes(this NatsBus nats)
    {
        var server = nats.Server;
        if (server.ApplicationBuilder.ExecutionContext.IsPublishMode && server.Resource is ContainerResource)
        {
            var password = server.ApplicationBuilder.AddParameter("nats-route-password",
                new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
            server.WithAnnotation(new NatsClusterAnnotation(password.Resource, "nats.conf"));
        }
        return nats;
    }
}
