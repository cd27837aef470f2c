namespace QuantTrader.AppHost.Infrastructure;

public static class ServiceResourceExtensions
{
    /// <summary>
    /// A QuantTrader service: HTTP for its API and health, NATS (as its own user) awaited, and the key that
    /// verifies the gateway's identity tokens.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddQuantTraderService<TProject>(
        this IDistributedApplicationBuilder builder, string name,
        NatsBus nats, IResourceBuilder<ParameterResource> identitySigningKey)
        where TProject : IProjectMetadata, new()
        => builder.AddProject<TProject>(name, launchProfileName: null)
            // Not proxied by DCP: clients reach the service itself. After a service was killed and started again,
            // DCP's proxy in front of it sometimes kept accepting connections without ever forwarding them (the
            // restarted service answered on its own port while every call through the proxy timed out), and on the
            // hot paths the proxy is one more copy of every byte.
            .WithHttpEndpoint(name: "http", isProxied: false)
            .WithHttpHealthCheck("/health")
            .WithNatsUser(nats)
            .WithEnvironment("QuantTrader__Identity__SigningKey", identitySigningKey);

    /// <summary>The QuantTrader database, once its schema owner (persistence) has migrated it.</summary>
    public static IResourceBuilder<ProjectResource> WithStorage(
        this IResourceBuilder<ProjectResource> service,
        IResourceBuilder<IResourceWithConnectionString> database,
        IResourceBuilder<ProjectResource> schemaOwner)
        => service.WithReference(database, "quanttrader").WaitFor(schemaOwner);
}
