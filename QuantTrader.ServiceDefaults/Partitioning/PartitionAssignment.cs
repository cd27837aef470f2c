using QuantTrader.Contracts.Messaging;

namespace QuantTrader.ServiceDefaults.Partitioning;

/// <summary>
/// Which live replica should own which partition: rendezvous (highest random weight) hashing. Every replica computes
/// the same answer from the same member list without talking to the others, and a member joining or leaving moves
/// only the partitions it gains or had (about Count / members), never reshuffles the rest. This only says who should
/// claim a partition; the lease (a compare-and-set in NATS KV, <see cref="PartitionLeases"/>) is what makes the
/// owner the only one.
/// </summary>
public static class PartitionAssignment
{
    public static IReadOnlySet<int> DesiredFor(string member, IEnumerable<string> members, int count = Partitions.Count)
    {
        var all = members.Append(member).Distinct(StringComparer.Ordinal).ToArray();
        var mine = new HashSet<int>();
        for (var partition = 0; partition < count; partition++)
        {
            if (OwnerOf(partition, all) == member)
            {
                mine.Add(partition);
            }
        }
        return mine;
    }

    public static string OwnerOf(int partition, IReadOnlyList<string> members)
    {
        string? best = null;
        ulong bestWeight = 0;
        foreach (var member in members)
        {
            var weight = Weight(member, partition);
            // Ties (practically never) go to the smaller name, so every replica still agrees.
            if (best is null || weight > bestWeight || (weight == bestWeight && string.CompareOrdinal(member, best) < 0))
            {
                (best, bestWeight) = (member, weight);
            }
        }
        return best ?? throw new ArgumentException("No members to assign to.", nameof(members));
    }

    private static ulong Weight(string member, int partition)
    {
        // FNV-1a 64 of the name, then the partition mixed in through SplitMix64's finalizer: names that differ in one
        // character (replica-1, replica-2) still get independent weights.
        var hash = 14695981039346656037UL;
        foreach (var c in member)
        {
            hash = unchecked((hash ^ c) * 1099511628211UL);
        }
        var z = unchecked(hash + (ulong)(partition + 1) * 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
