using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.ServiceDefaults.Partitioning;

public static class PartitioningExtensions
{
    /// <summary>
    /// Runs <typeparamref name="TWork"/> for the partitions this replica owns among the replicas of
    /// <paramref name="service"/> (its NATS user needs the rights on <c>LEASES_{SERVICE}</c>: NatsPermissions.Leases).
    /// </summary>
    public static IHostApplicationBuilder AddPartitionedWork<TWork>(this IHostApplicationBuilder builder, string service, PartitionScheme? scheme = null)
        where TWork : class, IPartitionWork
    {
        builder.Services.Configure<PartitionLeaseOptions>(builder.Configuration.GetSection(PartitionLeaseOptions.Section));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TWork>();
        builder.Services.AddSingleton(sp => new PartitionLeases(
            service,
            scheme ?? PartitionScheme.Split,
            sp.GetRequiredService<TWork>(),
            sp.GetRequiredService<INatsJSContext>(),
            sp.GetRequiredService<IOptions<PartitionLeaseOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PartitionLeases>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PartitionLeases>());
        builder.Services.AddHealthChecks().AddCheck<PartitionHealthCheck>("partitions");
        return builder;
    }
}

/// <summary>How a service's work is cut and kept.</summary>
/// <param name="Count">How many partitions (fixed: checkpoints, subjects and leases name them).</param>
/// <param name="Sticky">
/// Whoever holds a partition keeps it until it stops or dies, and the other replicas stand by: active/standby for work
/// that cannot be split yet (the paper engine), where a hand-over costs a full state reload and a new replica joining
/// must not take the work from a healthy owner.
/// </param>
public sealed record PartitionScheme(int Count, bool Sticky)
{
    /// <summary>
    /// The work checks <see cref="PartitionLease.Fence"/> in its own store on every write, so a later owner's first write
    /// locks the earlier one out. Then an owner that cannot renew (NATS away, a leader election longer than the TTL)
    /// keeps its partitions instead of stopping them, and takes a lapsed lease back if nobody else did: only another
    /// replica actually taking over ends its term, never a NATS outage alone.
    /// </summary>
    public bool FencedByStore { get; init; }

    /// <summary>The market/user split over the live replicas (<see cref="Partitions.Count"/>, rendezvous hashing).</summary>
    public static readonly PartitionScheme Split = new(Partitions.Count, Sticky: false);

    /// <summary>One partition, one active replica, the others on standby.</summary>
    public static readonly PartitionScheme ActiveStandby = new(1, Sticky: true);
}

/// <summary>Always healthy (a replica owning nothing is a standby), with what this replica owns in the report.</summary>
internal sealed class PartitionHealthCheck(PartitionLeases leases) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy(
            $"{leases.Service} replica {leases.Instance} owns partitions [{string.Join(',', leases.Owned)}]",
            new Dictionary<string, object> { ["instance"] = leases.Instance, ["owned"] = leases.Owned.ToArray() }));
}
