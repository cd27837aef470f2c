using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using NATS.Net;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Who owns which partition of a service right now, read from its lease bucket (<c>LEASES_{SERVICE}</c>, key
/// <c>lease.{p}</c>, value the owner's instance name), so a test can tell the partitions
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

    /// <summary>
    /// Whether <paramref name="owner"/> is the instance name of that process: its configured <c>Partitions__Instance</c>
    /// (ExtraReplica sets one), else the OpenTelemetry instance id Aspire gives each replica (what PartitionLeases uses),
    /// else the process-local <c>{host}-{pid}-{suffix}</c>.
    /// </summary>
    public static bool IsProcess(string owner, int processId) => InstanceOf(processId) is { } name
        ? owner == name
        : owner.Contains($"-{processId}-", StringComparison.Ordinal);

    private static string? InstanceOf(int processId)
    {
        string[] environment;
        try
        {
            environment = File.ReadAllText($"/proc/{processId}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        if (environment.FirstOrDefault(e => e.StartsWith("Partitions__Instance=", StringComparison.Ordinal)) is { } configured)
        {
            return configured["Partitions__Instance=".Length..];
        }
        var attributes = environment.FirstOrDefault(e => e.StartsWith("OTEL_RESOURCE_ATTRIBUTES=", StringComparison.Ordinal))?["OTEL_RESOURCE_ATTRIBUTES=".Length..] ?? "";
        return attributes.Split(',', StringSplitOptions.TrimEntries).FirstOrDefault(a => a.StartsWith("service.instance.id=", StringComparison.Ordinal)) is { } id
            ? new string([.. id["service.instance.id=".Length..].Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')])
            : null;
    }

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
