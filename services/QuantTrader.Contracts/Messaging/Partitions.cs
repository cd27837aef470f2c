namespace QuantTrader.Contracts.Messaging;

/// <summary>
/// The fixed split of work between the replicas of a service (docs/scaling.md): markets by exchange and symbol, users
/// by id, each into one of <see cref="Count"/> partitions. The count never changes with the number of replicas — a
/// checkpoint, a subject and a lease name a partition, so changing it would orphan all three — and it bounds how far a
/// service can scale out: more replicas than partitions leaves the extra ones idle (standbys).
/// </summary>
public static class Partitions
{
    public const int Count = 16;

    /// <summary>
    /// A market's partition: FNV-1a (32 bit) of the exchange followed by the symbol, modulo <see cref="Count"/> — the
    /// function nats-server's <c>{{partition(16,1,2)}}</c> subject mapping applies to the same two tokens, so the
    /// split could move into the server's configuration without moving a single market.
    /// </summary>
    public static int OfMarket(string exchange, string symbol) =>
        (int)(Fnv1a(symbol, Fnv1a(exchange, OffsetBasis)) % Count);

    /// <summary>A user's partition (their orders, balances, strategies and statistics): FNV-1a of the id's 32 hex digits.</summary>
    public static int OfUser(Guid userId) => (int)(Fnv1a(userId.ToString("N"), OffsetBasis) % Count);

    public static IEnumerable<int> All => Enumerable.Range(0, Count);

    private const uint OffsetBasis = 2166136261;
    private const uint Prime = 16777619;

    private static uint Fnv1a(string text, uint hash)
    {
        // Exchanges, symbols and hex ids are ASCII: a char is the byte nats-server hashes.
        foreach (var c in text)
        {
            hash = unchecked((hash ^ (byte)c) * Prime);
        }
        return hash;
    }
}
