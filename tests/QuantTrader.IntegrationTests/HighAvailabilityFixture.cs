namespace QuantTrader.IntegrationTests;

/// <summary>
/// The whole system with NATS as a three-node JetStream cluster (every stream on all three). A system of its own: its
/// tests kill parts of it, which the collections sharing <see cref="SystemFixture"/> must never see.
/// </summary>
public sealed class HighAvailabilityFixture : SystemFixture
{
    public const int NatsNodeCount = 3;

    /// <summary>Everything that differs from the common system; replicas of the stateful services will join these.</summary>
    protected override IEnumerable<string> AppHostArgs => [$"QuantTrader:Nats:Nodes={NatsNodeCount}"];

    /// <summary>The AppHost's names for the nodes: the first keeps <c>nats</c>, the others are numbered.</summary>
    public override IReadOnlyList<string> NatsNodes { get; } = ["nats", .. Enumerable.Range(1, NatsNodeCount - 1).Select(i => $"nats-{i}")];
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HighAvailabilityCollection : ICollectionFixture<HighAvailabilityFixture>
{
    public const string Name = "high availability";
}
