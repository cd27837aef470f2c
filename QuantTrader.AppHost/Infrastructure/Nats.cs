using Aspire.Hosting.ApplicationModel;
using QuantTrader.AppHost.Kubernetes;

namespace QuantTrader.AppHost.Infrastructure;

/// <summary>nats-server as a local process: JetStream with a file store under the data folder.</summary>
public sealed class NatsServerResource(string name, string workingDirectory, ParameterResource operatorPassword)
    : ExecutableResource(name, "nats-server", workingDirectory), IResourceWithConnectionString
{
    public EndpointReference Client => new(this, "tcp");

    /// <summary>The operator's credentials (every right): for the nats CLI and the tests, never given to a service.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"nats://{NatsPermissions.Operator}:{operatorPassword}@{Client.Property(EndpointProperty.Host)}:{Client.Property(EndpointProperty.Port)}");
}

/// <summary>The official NATS image, for machines with a container runtime.</summary>
public sealed class NatsContainerResource(string name, ParameterResource operatorPassword) : ContainerResource(name), IResourceWithConnectionString
{
    public EndpointReference Client => new(this, "tcp");

    /// <inheritdoc cref="NatsServerResource.ConnectionStringExpression"/>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"nats://{NatsPermissions.Operator}:{operatorPassword}@{Client.Property(EndpointProperty.Host)}:{Client.Property(EndpointProperty.Port)}");
}

/// <summary>The NATS server and its users' passwords: each service connects as its own user (<see cref="NatsPermissions"/>).</summary>
public sealed class NatsBus(IResourceBuilder<IResourceWithConnectionString> server, EndpointReference client, IReadOnlyDictionary<string, ParameterResource> passwords)
{
    public IResourceBuilder<IResourceWithConnectionString> Server => server;

    /// <summary><c>nats://user:password@host:port</c> for the service's own NATS user.</summary>
    public ReferenceExpression ConnectionStringFor(string service)
    {
        var user = NatsPermissions.For(service);
        return ReferenceExpression.Create(
            $"nats://{user.Name}:{passwords[user.Name]}@{client.Property(EndpointProperty.Host)}:{client.Property(EndpointProperty.Port)}");
    }
}

public static class NatsResourceExtensions
{
    private const string ContainerListen = "port: 4222\nhttp_port: 8222\n";

    /// <summary>
    /// NATS with JetStream and one user per service. Healthy when the monitoring endpoint's <c>/healthz</c> answers,
    /// which nats-server only does once JetStream has recovered its streams.
    /// </summary>
    public static NatsBus AddJetStream(this IDistributedApplicationBuilder builder, string name, bool useContainers, string dataDirectory)
    {
        var passwords = new[] { NatsPermissions.Operator }.Concat(NatsPermissions.Services.Select(u => u.Name))
            .ToDictionary(user => user, user => builder.AddGeneratedSecret($"nats-password-{user}", dataDirectory, Path.Combine("nats-users", $"{user}.password")).Resource);

        if (useContainers)
        {
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
            return new NatsBus(container, container.Resource.Client, passwords);
        }

        var storeDirectory = Path.Combine(dataDirectory, "nats");
        Directory.CreateDirectory(storeDirectory);
        // The users with their passwords, written into the data folder owner-only at every start (the passwords stay
        // in their own files; this one follows NatsPermissions when a service's rights change).
        var configFile = Path.Combine(dataDirectory, "nats-users", "nats.conf");
        var nats = builder.AddResource(new NatsServerResource(name, storeDirectory, passwords[NatsPermissions.Operator]))
            // Direct, not through DCP's proxy: every trade crosses this connection several times, and a proxy that
            // stops forwarding after a restart would cut every service off (see ServiceResourceExtensions).
            .WithEndpoint(name: "tcp", scheme: "nats", isProxied: false)
            .WithHttpEndpoint(name: "monitor", isProxied: false);
        if (builder.ExecutionContext.IsRunMode)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(configFile)!);
            SecretFiles.Write(configFile, NatsPermissions.Config(user => NatsPermissions.Quote(
                builder.Configuration[$"Parameters:nats-password-{user}"] ?? throw new InvalidOperationException($"No password for NATS user {user}."))));
        }
        var resource = nats.Resource;
        nats.WithArgs(context =>
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
            })
            .WithHttpHealthCheck("/healthz", endpointName: "monitor");
        return new NatsBus(nats, resource.Client, passwords);
    }

    /// <summary>The service connects as its own NATS user (<c>ConnectionStrings:nats</c> with its credentials) once NATS is healthy.</summary>
    public static IResourceBuilder<ProjectResource> WithNatsUser(this IResourceBuilder<ProjectResource> service, NatsBus nats) =>
        service.WithEnvironment("ConnectionStrings__nats", nats.ConnectionStringFor(service.Resource.Name)).WaitFor(nats.Server);

    private static string PasswordVariable(string user) =>
        user == NatsPermissions.Operator ? "NATS_PASSWORD_OPERATOR" : NatsPermissions.For(user).PasswordVariable;
}
