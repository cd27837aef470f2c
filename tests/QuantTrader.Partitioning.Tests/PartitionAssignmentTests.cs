using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Partitioning.Tests;

public sealed class PartitionAssignmentTests
{
    private static readonly string[] Replicas = ["kline-a", "kline-b", "kline-c"];

    [Fact]
    public void Every_partition_has_exactly_one_desired_owner_among_the_members()
    {
        var shares = Replicas.Select(r => PartitionAssignment.DesiredFor(r, Replicas)).ToArray();
        Assert.Equal(Partitions.All, shares.SelectMany(s => s).Order());
        Assert.All(shares, s => Assert.InRange(s.Count, 2, 10));
    }

    [Fact]
    public void A_single_replica_owns_every_partition()
        => Assert.Equal(Partitions.Count, PartitionAssignment.DesiredFor("only", []).Count);

    [Fact]
    public void A_member_leaving_moves_only_its_own_partitions()
    {
        var before = Replicas.ToDictionary(r => r, r => PartitionAssignment.DesiredFor(r, Replicas));
        var remaining = Replicas[..2];
        foreach (var replica in remaining)
        {
            var after = PartitionAssignment.DesiredFor(replica, remaining);
            Assert.Superset(before[replica].ToHashSet(), after.ToHashSet());
            Assert.Subset(before[replica].Concat(before["kline-c"]).ToHashSet(), after.ToHashSet());
        }
    }
}
