using Aspire.Hosting.ApplicationModel;
using QuantTrader.AppHost.Kubernetes;

namespace QuantTrader.AppHost.Infrastructure;

/// <summary>nats-server as a local process: JetStream with a file store under the data folder.</summary>
public sealed class NatsServerResource(string name, string workingDirectory)
    : ExecutableResource(name, "nats-server", workingDirectory), IResourceWithConnectionString
{
    public EndpointReference Client => new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"nats://{Client.Property(EndpointProperty.Host)}:{Client.Property(EndpointProperty.Port)}");
}

/// <summary>The official NATS image, for machines with a container runtime.</summary>
public sealed class NatsContainerResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    public EndpointReference Client => new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"nats://{Client.Property(EndpointProperty.Host)}:{Client.Property(EndpointProperty.Port)}");
}

public static class NatsResourceExtensions
{
    private const string NatsConfig = """
        port: 4222
        http_port: 8222
        jetstream {
          store_dir: /data
        }
        """;

    /// <summary>
    /// NATS with JetStream. Healthy when the monitoring endpoint's <c>/healthz</c> answers, which nats-server
    /// only does once JetStream has recovered its streams.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddJetStream(
        this IDistributedApplicationBuilder builder, string name, bool useContainers, string dataDirectory)
    {
        if (useContainers)
        {
            // The configuration is a file (a ConfigMap on Kubernetes); JetStream keeps its store on the volume.
            return builder.AddResource(new NatsContainerResource(name))
                .WithImage("nats", "2.10-alpine")
                .WithImageRegistry("docker.io")
                .WithEndpoint(targetPort: 4222, name: "tcp", scheme: "nats")
                .WithHttpEndpoint(targetPort: 8222, name: "monitor")
                .WithConfigFile("/etc/nats", "nats.conf", NatsConfig)
                .WithArgs("-c", "/etc/nats/nats.conf")
                .WithVolume("quanttrader-nats", "/data")
                .WithHttpProbe(ProbeType.Readiness, "/healthz", endpointName: "monitor")
                .WithHttpProbe(ProbeType.Liveness, "/healthz?js-enabled-only=true", endpointName: "monitor");
        }

        var storeDirectory = Path.Combine(dataDirectory, "nats");
        Directory.CreateDirectory(storeDirectory);
        var nats = builder.AddResource(new NatsServerResource(name, storeDirectory))
            // Direct, not through DCP's proxy: every trade crosses this connection several times, and a proxy that
            // stops forwarding after a restart would cut every service off (see ServiceResourceExtensions).
            .WithEndpoint(name: "tcp", scheme: "nats", isProxied: false)
            .WithHttpEndpoint(name: "monitor", isProxied: false);
        var resource = nats.Resource;
        return nats
            .WithArgs(context =>
            {
                context.Args.Add("-js");
                context.Args.Add("-a");
                context.Args.Add("127.0.0.1");
                context.Args.Add("-p");
                context.Args.Add(resource.Client.Property(EndpointProperty.TargetPort));
                context.Args.Add("-m");
                context.Args.Add(new EndpointReference(resource, "monitor").Property(EndpointProperty.TargetPort));
                context.Args.Add("-sd");
                context.Args.Add(storeDirectory);
            })
            .WithHttpHealthCheck("/healthz", endpointName: "monitor");
    }
}
