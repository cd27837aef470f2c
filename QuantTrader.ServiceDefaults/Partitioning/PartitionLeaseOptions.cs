namespace QuantTrader.ServiceDefaults.Partitioning;

/// <summary>Configuration section <c>Partitions</c>: how long a lease outlives its owner, and how often it is renewed.</summary>
public sealed class PartitionLeaseOptions
{
    public const string Section = "Partitions";

    /// <summary>
    /// A lease not renewed for this long lapses (the KV bucket's max age) and another replica may claim the partition:
    /// the longest a dead owner's partitions wait. It must outlast a NATS leader election (a few seconds), or owners
    /// would drop their partitions every time a NATS node dies.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often an owner renews its leases and its membership, and looks for partitions to claim or hand over.</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// An owner stops a partition by itself once this much of the TTL has passed without a successful renewal, before
    /// the lease can lapse and another replica take it over: two owners never run at once even if this one is cut off.
    /// </summary>
    public double SelfFenceFraction { get; set; } = 0.7;

    /// <summary>This replica's name in leases and logs; default: host name, process id and a random suffix.</summary>
    public string? Instance { get; set; }
}
