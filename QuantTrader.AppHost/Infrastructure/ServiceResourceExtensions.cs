using QuantTrader.AppHost.Kubernetes;

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
    {
        var replicas = builder.ConfiguredReplicas(name);
        return builder.AddProject<TProject>(name, launchProfileName: null)
            // Not proxied by DCP: clients reach the service itself. After a service was killed and started again,
            // DCP's proxy in front of it sometimes kept accepting connections without ever forwarding them (the
            // restarted service answered on its own port while every call through the proxy timed out), and on the
            // hot paths the proxy is one more copy of every byte. Several replicas need the proxy: it is their one
            // address, and Aspire refuses replicas behind a proxy-less endpoint.
            .WithHttpEndpoint(name: "http", isProxied: replicas > 1)
            .WithHttpHealthCheck("/health")
            .WithNatsUser(nats)
            .WithEnvironment("QuantTrader__Identity__SigningKey", identitySigningKey)
            .WithConfiguredReplicas(replicas);
    }

    /// <summary>
    /// <c>QuantTrader:Replicas:{service}</c> from the AppHost's configuration (appsettings, <c>QuantTrader__Replicas__kline=2</c>,
    /// or <c>--QuantTrader:Replicas:kline=2</c> on the command line, also for the Kubernetes publisher); null when unset (one
    /// replica locally, the publisher's <c>--replicas</c> on Kubernetes).
    /// </summary>
    public static int? ConfiguredReplicas(this IDistributedApplicationBuilder builder, string service)
    {
        var key = $"QuantTrader:Replicas:{service}";
        if (builder.Configuration[key] is not { Length: > 0 } text)
        {
            return null;
        }
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var replicas) && replicas >= 1
            ? replicas
            : throw new ArgumentException($"{key} must be a positive whole number, not '{text}'.");
    }

    /// <summary>
    /// Every <c>QuantTrader:Replicas:{name}</c> names a project of the model: a misspelt service would otherwise be
    /// deployed with the default count without a word. Call once every project is added.
    /// </summary>
    public static void CheckConfiguredReplicas(this IDistributedApplicationBuilder builder)
    {
        var projects = builder.Resources.OfType<ProjectResource>().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = builder.Configuration.GetSection("QuantTrader:Replicas").GetChildren().Select(c => c.Key)
            .Where(name => !projects.Contains(name)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"QuantTrader:Replicas names no such service: {string.Join(", ", unknown)} (the services: {string.Join(", ", projects.Order(StringComparer.Ordinal))}).");
        }
    }

    /// <summary>
    /// Runs <paramref name="replicas"/> copies (Aspire's <c>WithReplicas</c>; the Kubernetes publisher reads the same
    /// annotation). Every service that holds state splits its work between replicas by partition leases (docs/scaling.md).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithConfiguredReplicas(this IResourceBuilder<ProjectResource> service, int? replicas)
    {
        if (replicas is not { } count)
        {
            return service;
        }
        service.WithReplicas(count);
        if (service.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            // A replica that counts on its own (the gateway's rate limits) enforces its share; the Kubernetes publisher
            // sets the same variable from the Deployment's replica count.
            service.WithEnvironment("QuantTrader__Replicas", count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return service;
    }

    /// <summary>The QuantTrader database, once its schema owner (persistence) has migrated it.</summary>
    public static IResourceBuilder<ProjectResource> WithStorage(
        this IResourceBuilder<ProjectResource> service,
        IResourceBuilder<IResourceWithConnectionString> database,
        IResourceBuilder<ProjectResource> schemaOwner)
        => service.WithDatabase(database, ownsSchema: false).WaitFor(schemaOwner);

    /// <summary>
    /// <c>ConnectionStrings:quanttrader</c>. A deployment (publish mode) gives each service its own role
    /// (<see cref="DatabaseRoleAnnotation"/>: the schema owner owns the database, the others read and write rows) with
    /// a generated password; a local run connects as the cluster's own user.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDatabase(
        this IResourceBuilder<ProjectResource> service, IResourceBuilder<IResourceWithConnectionString> database, bool ownsSchema)
    {
        if (!service.ApplicationBuilder.ExecutionContext.IsPublishMode || database.Resource is not PostgresDatabaseResource { Parent: var server } db)
        {
            return service.WithReference(database, "quanttrader");
        }
        var role = "qt_" + service.Resource.Name.Replace('-', '_');
        var password = service.ApplicationBuilder.AddParameter($"db-password-{service.Resource.Name}",
            new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        server.Annotations.Add(new DatabaseRoleAnnotation(role, password.Resource, db.DatabaseName, ownsSchema));
        service.WithAnnotation(new DatabaseConnectionAnnotation("ConnectionStrings__quanttrader", db, ownsSchema));
        var endpoint = server.PrimaryEndpoint;
        return service.WithEnvironment("ConnectionStrings__quanttrader", ReferenceExpression.Create(
            $"Host={endpoint.Property(EndpointProperty.Host)};Port={endpoint.Property(EndpointProperty.Port)};Username={role};Password={password.Resource};Database={db.DatabaseName}"));
    }
}
