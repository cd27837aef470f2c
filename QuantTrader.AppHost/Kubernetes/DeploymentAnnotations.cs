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
/// The service reads its connection string to <see cref="Database"/> from the environment variable
/// <see cref="Variable"/>. The Kubernetes publisher points it elsewhere when the database is not the model's own
/// PostgreSQL (<c>--database external|cnpg</c>), and lets the service reach that database.
/// </summary>
public sealed record DatabaseConnectionAnnotation(string Variable, PostgresDatabaseResource Database, bool OwnsSchema) : IResourceAnnotation;

/// <summary>
/// How long the service may take to stop after SIGTERM (finish in-flight work, hand its partitions over, flush):
/// the pod's <c>terminationGracePeriodSeconds</c>. The host's own shutdown timeout is set a few seconds below it, so
/// the process ends its drain itself before the kubelet's SIGKILL. Services without one get
/// <see cref="DeploymentAnnotationExtensions.DefaultDrainTime"/>.
/// </summary>
public sealed record DrainTimeAnnotation(TimeSpan DrainTime) : IResourceAnnotation;

public static class DeploymentAnnotationExtensions
{
    /// <summary>Kubernetes' own default is 30 s; ours leaves a draining consumer (a batch to store, acks to send) 40 s.</summary>
    public static readonly TimeSpan DefaultDrainTime = TimeSpan.FromSeconds(45);

    /// <summary>The service needs <paramref name="drainTime"/> to stop cleanly (<see cref="DrainTimeAnnotation"/>).</summary>
    public static IResourceBuilder<T> WithDrainTime<T>(this IResourceBuilder<T> builder, TimeSpan drainTime) where T : IResource
    {
        if (drainTime < TimeSpan.FromSeconds(10))
        {
            // The host's shutdown timeout is set 5 s below the grace period: less than 10 s leaves it no time to drain.
            throw new ArgumentOutOfRangeException(nameof(drainTime), drainTime, $"{builder.Resource.Name}: a drain time under 10 s leaves the host no time to stop.");
        }
        return builder.WithAnnotation(new DrainTimeAnnotation(drainTime), ResourceAnnotationMutationBehavior.Replace);
    }

    public static IResourceBuilder<T> WithExternalEgress<T>(this IResourceBuilder<T> builder, string why, params int[] ports) where T : IResource =>
        builder.WithAnnotation(new ExternalEgressAnnotation(why, ports));
}
