using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using NATS.Net;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Ingestor.Markets;

/// <summary>
/// Which replica ingests which partition, read from where every replica sees it: the lease bucket
/// (<c>LEASES_INGESTOR</c>, key <c>lease.{partition}</c>, value the owner's instance name). So any replica answers the
/// same about markets it does not own itself.
/// </summary>
public sealed class MarketOwners(INatsJSContext js, ILogger<MarketOwners> logger)
{
    private INatsKVStore? _store;

    /// <summary>Owner per partition; a partition without an owner (being handed over, or its owner's lease lapsing) is absent.</summary>
    public async Task<IReadOnlyDictionary<int, string>> CurrentAsync(CancellationToken ct)
    {
        var owners = new Dictionary<int, string>();
        try
        {
            _store ??= await js.CreateKeyValueStoreContext().GetStoreAsync(PartitionLeases.BucketFor(IngestionSetup.ServiceName), ct);
            await foreach (var key in _store.GetKeysAsync(["lease.*"], cancellationToken: ct))
            {
                if (!int.TryParse(key.AsSpan("lease.".Length), out var partition))
                {
                    continue;
                }

                var entry = await _store.TryGetEntryAsync<string>(key, cancellationToken: ct);
                if (entry.Success && entry.Value.Value is { Length: > 0 } owner)
                {
                    owners[partition] = owner;
                }
            }
        }
        catch (Exception ex) when (ex is NatsKVException or NATS.Client.Core.NatsException)
        {
            // The owners are information, not the list: the markets are still answered, without them.
            logger.LogWarning("Could not read the ingestor's partition owners: {Error}", ex.Message);
        }

        return owners;
    }
}
