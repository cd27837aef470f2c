using Aspire.Hosting.ApplicationModel;

namespace QuantTrader.AppHost.Kubernetes;

/// <summary>The non-root user a container image runs as (its own user, e.g. 70 for the PostgreSQL image); others get <see cref="KubernetesOptions.RunAsUser"/>.</summary>
public sealed record ContainerUserAnnotation(long UserId) : IResourceAnnotation;

/// <summary>A directory the container writes besides /tmp and its volumes: an emptyDir under a read-only root filesystem.</summary>
public sealed record WritableDirectoryAnnotation(string Path) : IResourceAnnotation;

/// <summary>
/// The workload connects to addresses outside the cluster (exchanges, Stripe, webhook receivers): its NetworkPolicy lets
/// it reach public addresses, never the private ranges the cluster lives in, on <see cref="Ports"/> (all when empty).
/// </summary>
public sealed record ExternalEgressAnnotation(string Why, IReadOnlyList<int> Ports) : IResourceAnnotation;

/// <summary>
/// A service's own PostgreSQL role (on the server resource): created at the cluster's first start with the password from
/// the Secret. The schema owner (persistence) owns the database and its tables; every other role may read and write rows
/// of the owner's tables, nothing more (no DDL, no other database, not a superuser).
/// </summary>
public sealed record DatabaseRoleAnnotation(string Role, ParameterResource Password, string Database, bool OwnsSchema) : IResourceAnnotation;

/// <summary>
/// The service holds state that exactly one process may own (its consumers' positions, in-memory books, its outputs'
/// order): two copies would process everything twice. Until the work is partitioned between replicas (issue 17) it
/// runs as one replica and is rolled out by Recreate, so an update never runs the old and the new pod side by side.
/// </summary>
public sealed record SingleWriterAnnotation(string Why) : IResourceAnnotation;

public static class DeploymentAnnotationExtensions
{
    public static IResourceBuilder<T> AsSingleWriter<T>(this IResourceBuilder<T> builder, string why) where T : IResource =>
        builder.WithAnnotation(new SingleWriterAnnotation(why));

    public static IResourceBuilder<T> WithExternalEgress<T>(this IResourceBuilder<T> builder, string why, params int[] ports) where T : IResource =>
        builder.WithAnnotation(new ExternalEgressAnnotation(why, ports));
}
