namespace QuantTrader.AppHost.Infrastructure;

public static class ServiceResourceExtensions
{
    /// <summary>
    /// A QuantTrader service: HTTP for its API and health, NATS referenced and awaited, and the key that
    /// verifies the gateway's identity tokens.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddQuantTraderService<TProject>(
        this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<IResourceWithConnectionString> nats, IResourceBuilder<ParameterResource> identitySigningKey)
        where TProject : IProjectMetadata, new()
        => builder.AddProject<TProject>(name, launchProfileName: null)
            .WithHttpEndpoint(name: "http")
            .WithHttpHealthCheck("/health")
            .WithReference(nats).WaitFor(nats)
            .WithEnvironment("QuantTrader__Identity__SigningKey", identitySigningKey);

    /// <summary>The QuantTrader database, once its schema owner (persistence) has migrated it.</summary>
    public static IResourceBuilder<ProjectResource> WithStorage(
        this IResourceBuilder<ProjectResource> service,
        IResourceBuilder<IResourceWithConnectionString> database,
        IResourceBuilder<ProjectResource> schemaOwner)
        => service.WithReference(database, "quanttrader").WaitFor(schemaOwner);
}
