using Aspire.Hosting.ApplicationModel;
using QuantTrader.AppHost.Kubernetes;

namespace QuantTrader.AppHost.Infrastructure;

/// <summary>nats-server as a local process: JetStream with a file store under the data folder; one node of a cluster when there are several.</summary>
public sealed class NatsServerResource(string name, string workingDirectory, ParameterResource operatorPassword)
    : ExecutableResource(name, "nats-server", workingDirectory), IResourceWithConnectionString
{
    private readonly List<NatsServerResource> _cluster = [];

    public EndpointReference Client => new(this, "tcp");

    /// <summary>Every node of the cluster, in order, this one included; only this one when NATS runs alone.</summary>
    public IReadOnlyList<NatsServerResource> Cluster => _cluster.Count == 0 ? [this] : _cluster;

    internal void JoinCluster(IReadOnlyList<NatsServerResource> nodes) => _cluster.AddRange(nodes);

    /// <summary>
    /// The operator's credentials (every right): for the nats CLI and the tests, never given to a service. Lists every
    /// node of the cluster, so a client that loses its node reconnects to another.
    /// </summary>
    public ReferenceExpression ConnectionStringExpression =>
        NatsUrls.For(NatsPermissions.Operator, operatorPassword, Cluster.Select(node => node.Client));
}

/// <summary>The official NATS image, for machines with a container runtime.</summary>
public sealed class NatsContainerResource(string name, ParameterResource operatorPassword) : ContainerResource(name), IResourceWithConnectionString
{
    public EndpointReference Client => new(this, "tcp");

    /// <inheritdoc cref="NatsServerResource.ConnectionStringExpression"/>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"nats://{NatsPermissions.Operator}:{operatorPassword}@{Client.Property(EndpointProperty.Host)}:{Client.Property(EndpointProperty.Port)}");
}

/// <summary>The NATS server (or cluster) and its users' passwords: each service connects as its own user (<see cref="NatsPermissions"/>).</summary>
public sealed class NatsBus(IReadOnlyList<IResourceBuilder<IResourceWithConnectionString>> nodes, IReadOnlyList<EndpointReference> clients,
    IReadOnlyDictionary<string, ParameterResource> passwords, int streamReplicas)
{
    /// <summary>The first node, <c>nats</c>: its connection string is the operator's (every node listed).</summary>
    public IResourceBuilder<IResourceWithConnectionString> Server => nodes[0];

    /// <summary>Every node; a service waits for all of them.</summary>
    public IReadOnlyList<IResourceBuilder<IResourceWithConnectionString>> Nodes => nodes;

    /// <summary>How many copies of each stream JetStream keeps: min(3, nodes).</summary>
    public int StreamReplicas => streamReplicas;

    /// <summary><c>nats://user:password@host:port</c> for the service's own NATS user, one URL per node, comma-separated.</summary>
    public ReferenceExpression ConnectionStringFor(string service)
    {
        var user = NatsPermissions.For(service);
        return NatsUrls.For(user.Name, passwords[user.Name], clients);
    }
}

internal static class NatsUrls
{
    /// <summary>
    /// One <c>nats://user:password@host:port</c> per node, comma-separated: the seed list NATS clients take
    /// (NATS.Net's <c>NatsOpts.Url</c>, the nats CLI's <c>--server</c>). Every URL carries the credentials, so each one
    /// works on its own; NATS.Net takes them from the first.
    /// </summary>
    public static ReferenceExpression For(string user, ParameterResource password, IEnumerable<EndpointReference> clients)
    {
        var builder = new ReferenceExpressionBuilder();
        var first = true;
        foreach (var client in clients)
        {
            if (!first)
            {
                builder.AppendLiteral(",");
            }
            first = false;
            builder.Append($"nats://{user}:{password}@{client.Property(EndpointProperty.Host)}:{client.Property(EndpointProperty.Port)}");
        }
        return builder.Build();
    }
}

public static class NatsResourceExtensions
{
    private const string ContainerListen = "port: 4222\nhttp_port: 8222\n";

    /// <summary>
    /// NATS with JetStream and one user per service. Healthy when the monitoring endpoint's <c>/healthz</c> answers,
    /// which nats-server only does once JetStream has recovered its streams (in a cluster: once it has a meta leader
    /// and its streams are current).
    /// </summary>
    /// <param name="nodes">1: one nats-server. More: a JetStream cluster of that many local processes, the first named
    /// <paramref name="name"/>, the others <c>{name}-1</c>, <c>{name}-2</c>, …; streams are kept on min(3, nodes) of them.</param>
    public static NatsBus AddJetStream(this IDistributedApplicationBuilder builder, string name, bool useContainers, string dataDirectory, int nodes = 1)
    {
        var passwords = new[] { NatsPermissions.Operator }.Concat(NatsPermissions.Services.Select(u => u.Name))
            .ToDictionary(user => user, user => builder.AddGeneratedSecret($"nats-password-{user}", dataDirectory, Path.Combine("nats-users", $"{user}.password")).Resource);

        if (useContainers)
        {
            if (nodes > 1 && builder.ExecutionContext.IsRunMode)
            {
                throw new InvalidOperationException("QuantTrader:Nats:Nodes > 1 runs local nats-server processes; with QuantTrader:UseContainers=true NATS is one container.");
            }
            // The configuration is a file (a ConfigMap on Kubernetes) without a secret in it: nats-server reads each
            // password from its environment ($NATS_PASSWORD_*), which comes from the secret parameters (a Secret).
            var config = NatsPermissions.Config(user => "$" + PasswordVariable(user), ContainerListen, "/data");
            var container = builder.AddResource(new NatsContainerResource(name, passwords[NatsPermissions.Operator]))
                .WithImage("nats", "2.10-alpine")
                .WithImageRegistry("docker.io")
                .WithEndpoint(targetPort: 4222, name: "tcp", scheme: "nats")
                .WithHttpEndpoint(targetPort: 8222, name: "monitor")
                .WithConfigFile("/etc/nats", "nats.conf", config)
                .WithArgs("-c", "/etc/nats/nats.conf")
                .WithVolume("quanttrader-nats", "/data")
                .WithHttpProbe(ProbeType.Readiness, "/healthz", endpointName: "monitor")
                .WithHttpProbe(ProbeType.Liveness, "/healthz?js-enabled-only=true", endpointName: "monitor");
            foreach (var (user, password) in passwords)
            {
                container.WithEnvironment(PasswordVariable(user), password);
            }
            return new NatsBus([container], [container.Resource.Client], passwords, streamReplicas: 1);
        }

        // The routes between nodes are protected by a password of their own: a stray local nats-server that routes to
        // a node's cluster port cannot join (and receive every message, or vote in JetStream's elections).
        var clusterPassword = nodes > 1
            ? builder.AddGeneratedSecret("nats-cluster-password", dataDirectory, Path.Combine("nats-users", "cluster.password")).Resource
            : null;
        // The users with their passwords, written into the data folder owner-only at every start (the passwords stay
        // in their own files; this one follows NatsPermissions when a service's rights change).
        var configFile = Path.Combine(dataDirectory, "nats-users", "nats.conf");
        if (builder.ExecutionContext.IsRunMode)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(configFile)!);
            var config = NatsPermissions.Config(user => NatsPermissions.Quote(
                builder.Configuration[$"Parameters:nats-password-{user}"] ?? throw new InvalidOperationException($"No password for NATS user {user}.")));
            if (clusterPassword is not null)
            {
                var routePassword = builder.Configuration[$"Parameters:{clusterPassword.Name}"]
                    ?? throw new InvalidOperationException("No password for the NATS cluster routes.");
                // It goes into the route URLs as it is (the environment cannot escape it): a chosen one must be URL-safe.
                if (!routePassword.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~'))
                {
                    throw new InvalidOperationException("Parameters:nats-cluster-password may only hold letters, digits and - . _ ~ (it is part of the route URLs).");
                }
                config += ClusterConfig(nodes, routePassword);
            }
            SecretFiles.Write(configFile, config);
        }

        var servers = new List<IResourceBuilder<NatsServerResource>>();
        for (var index = 0; index < nodes; index++)
        {
            var nodeName = index == 0 ? name : $"{name}-{index}";
            // One node keeps the store where it always was; each node of a cluster has its own.
            var storeDirectory = nodes == 1 ? Path.Combine(dataDirectory, "nats") : Path.Combine(dataDirectory, "nats", nodeName);
            Directory.CreateDirectory(storeDirectory);
            var server = builder.AddResource(new NatsServerResource(nodeName, storeDirectory, passwords[NatsPermissions.Operator]))
                // Direct, not through DCP's proxy: every trade crosses this connection several times, and a proxy that
                // stops forwarding after a restart would cut every service off (see ServiceResourceExtensions).
                .WithEndpoint(name: "tcp", scheme: "nats", isProxied: false)
                .WithHttpEndpoint(name: "monitor", isProxied: false);
            var resource = server.Resource;
            server.WithArgs(context =>
                {
                    // The file holds the users; the listeners and the store are flags, which take precedence over it.
                    context.Args.Add("-c");
                    context.Args.Add(configFile);
                    context.Args.Add("-js");
                    context.Args.Add("-a");
                    context.Args.Add("127.0.0.1");
                    context.Args.Add("-p");
                    context.Args.Add(resource.Client.Property(EndpointProperty.TargetPort));
                    context.Args.Add("-m");
                    context.Args.Add(new EndpointReference(resource, "monitor").Property(EndpointProperty.TargetPort));
                    context.Args.Add("-sd");
                    context.Args.Add(storeDirectory);
                    if (nodes > 1)
                    {
                        // JetStream's name for the node (stream placement, leaders, /jsz): the resource's name.
                        context.Args.Add("-n");
                        context.Args.Add(nodeName);
                    }
                })
                .WithHttpHealthCheck("/healthz", endpointName: "monitor");
            servers.Add(server);
        }

        if (clusterPassword is not null)
        {
            var cluster = servers.Select(s => s.Resource).ToList();
            foreach (var server in servers)
            {
                server.Resource.JoinCluster(cluster);
                // Not a flag: nats-server's --cluster flag replaces the cluster's authorization with the URL's user,
                // and a password in the arguments is readable by every user of the machine (ps). The config file
                // reads the listener and the routes from these variables, which only the owner can read.
                server.WithEndpoint(name: "cluster", scheme: "nats-route", isProxied: false)
                    .WithEnvironment(ClusterListenVariable, ReferenceExpression.Create(
                        $"127.0.0.1:{new EndpointReference(server.Resource, "cluster").Property(EndpointProperty.TargetPort)}"));
                var others = cluster.Where(node => node != server.Resource).ToList();
                for (var route = 0; route < others.Count; route++)
                {
                    server.WithEnvironment(RouteVariable(route), ReferenceExpression.Create(
                        $"nats://{ClusterUser}:{clusterPassword}@127.0.0.1:{new EndpointReference(others[route], "cluster").Property(EndpointProperty.TargetPort)}"));
                }
            }
        }

        return new NatsBus([.. servers], [.. servers.Select(s => s.Resource.Client)], passwords, streamReplicas: Math.Min(3, nodes));
    }

    /// <summary>The service connects as its own NATS user (<c>ConnectionStrings:nats</c> with its credentials) once every NATS node is healthy.</summary>
    public static IResourceBuilder<ProjectResource> WithNatsUser(this IResourceBuilder<ProjectResource> service, NatsBus nats)
    {
        service.WithEnvironment("ConnectionStrings__nats", nats.ConnectionStringFor(service.Resource.Name));
        foreach (var node in nats.Nodes)
        {
            service.WaitFor(node);
        }
        if (nats.StreamReplicas > 1)
        {
            // ServiceDefaults' StreamSetup creates every stream (and bucket) with this many replicas.
            service.WithEnvironment("Nats__StreamReplicas", nats.StreamReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return service;
    }

    private const string ClusterUser = "route";
    private const string ClusterListenVariable = "QT_NATS_CLUSTER_LISTEN";

    private static string RouteVariable(int index) => $"QT_NATS_ROUTE_{index + 1}";

    /// <summary>
    /// The cluster block every node shares: the routes' password, and the listener and routes (to every other node) from
    /// each node's environment, since their ports are only known when the nodes start.
    /// </summary>
    private static string ClusterConfig(int nodes, string password) =>
        "cluster {\n" +
        "  name: \"quanttrader\"\n" +
        "  listen: $" + ClusterListenVariable + "\n" +
        "  authorization { user: " + NatsPermissions.Quote(ClusterUser) + ", password: " + NatsPermissions.Quote(password) + " }\n" +
        "  routes: [" + string.Join(", ", Enumerable.Range(0, nodes - 1).Select(i => "$" + RouteVariable(i))) + "]\n" +
        "}\n";

    private static string PasswordVariable(string user) =>
        user == NatsPermissions.Operator ? "NATS_PASSWORD_OPERATOR" : NatsPermissions.For(user).PasswordVariable;
}
