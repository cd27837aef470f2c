using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using NATS.Net;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Who owns which partition of a service right now, read from its lease bucket (<c>LEASES_{SERVICE}</c>, key
/// <c>lease.{p}</c>, value the owner's instance name <c>{host}-{pid}-{suffix}</c>), so a test can tell the partitions
/// of one replica process from another's.
/// </summary>
public sealed class PartitionOwners : IAsyncDisposable
{
    private readonly NatsConnection _nats;
    private readonly string _bucket;

    private PartitionOwners(NatsConnection nats, string bucket)
    {
        _nats = nats;
        _bucket = bucket;
    }

    public static async Task<PartitionOwners> ConnectAsync(SystemFixture system, string service)
    {
        var nats = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        await nats.ConnectAsync();
        return new PartitionOwners(nats, "LEASES_" + service.ToUpperInvariant().Replace('-', '_'));
    }

    /// <summary>Partition → owner instance name, for the partitions that have an owner now.</summary>
    public async Task<Dictionary<int, string>> ReadAsync()
    {
        var store = await _nats.CreateKeyValueStoreContext().GetStoreAsync(_bucket);
        var owners = new Dictionary<int, string>();
        await foreach (var key in store.GetKeysAsync(["lease.*"]))
        {
            try
            {
                var entry = await store.GetEntryAsync<string>(key);
                if (entry.Value is { } owner)
                {
                    owners[int.Parse(key["lease.".Length..])] = owner;
                }
            }
            catch (NatsKVKeyNotFoundException)
            {
                // Released between listing and reading.
            }
            catch (NatsKVKeyDeletedException)
            {
            }
        }
        return owners;
    }

    public static bool IsProcess(string owner, int processId) => owner.Contains($"-{processId}-", StringComparison.Ordinal);

    /// <summary>
    /// Waits until the replica process owns some partitions and other processes the rest, every partition has an owner,
    /// and nothing moved for longer than a lease round (hand-overs to a new replica happen one round after another);
    /// returns the process's partitions.
    /// </summary>
    public async Task<IReadOnlySet<int>> WaitForSplitAsync(int processId, TimeSpan timeout)
    {
        var owned = await Eventually.ReturnsAsync(async () =>
        {
            var before = await ReadAsync();
            var mine = before.Where(o => IsProcess(o.Value, processId)).Select(o => o.Key).ToHashSet();
            if (before.Count < QuantTrader.Contracts.Messaging.Partitions.Count || mine.Count == 0 || mine.Count == before.Count)
            {
                return null;
            }
            await Task.Delay(TimeSpan.FromSeconds(3));
            var after = await ReadAsync();
            return after.Count == before.Count && after.All(o => before.TryGetValue(o.Key, out var owner) && owner == o.Value) ? mine : null;
        }, timeout, $"partitions shared between process {processId} and another replica");
        return owned;
    }

    /// <summary>Waits until every partition has an owner and none of them is <paramref name="processId"/>.</summary>
    public async Task WaitUntilNoneOwnedByAsync(int processId, TimeSpan timeout) =>
        await Eventually.SucceedsAsync(async () =>
        {
            var owners = await ReadAsync();
            Assert.Equal(QuantTrader.Contracts.Messaging.Partitions.Count, owners.Count);
            Assert.DoesNotContain(owners.Values, owner => IsProcess(owner, processId));
        }, timeout, TimeSpan.FromMilliseconds(500));

    public ValueTask DisposeAsync() => _nats.DisposeAsync();
}
