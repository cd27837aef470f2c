using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;

namespace QuantTrader.ServiceDefaults.Partitioning;

public static class PartitioningExtensions
{
    /// <summary>
    /// Runs <typeparamref name="TWork"/> for the partitions this replica owns among the replicas of
    /// <paramref name="service"/> (its NATS user needs the rights on <c>LEASES_{SERVICE}</c>: NatsPermissions.Leases).
    /// </summary>
    public static IHostApplicationBuilder AddPartitionedWork<TWork>(this IHostApplicationBuilder builder, string service)
        where TWork : class, IPartitionWork
    {
        builder.Services.Configure<PartitionLeaseOptions>(builder.Configuration.GetSection(PartitionLeaseOptions.Section));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TWork>();
        builder.Services.AddSingleton(sp => new PartitionLeases(
            service,
            sp.GetRequiredService<TWork>(),
            sp.GetRequiredService<INatsJSContext>(),
            sp.GetRequiredService<IConfiguration>(),
            sp.GetRequiredService<IOptions<PartitionLeaseOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PartitionLeases>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PartitionLeases>());
        builder.Services.AddHealthChecks().AddCheck<PartitionHealthCheck>("partitions");
        return builder;
    }
}

/// <summary>Always healthy (a replica owning nothing is a standby), with what this replica owns in the report.</summary>
internal sealed class PartitionHealthCheck(PartitionLeases leases) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy(
            $"{leases.Service} replica {leases.Instance} owns partitions [{string.Join(',', leases.Owned)}]",
            new Dictionary<string, object> { ["instance"] = leases.Instance, ["owned"] = leases.Owned.ToArray() }));
}
