using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using NATS.Net;
using QuantTrader.Contracts.Messaging;
using QuantTrader.LoadTest.Replicas;

namespace QuantTrader.LoadTest.Failover;

/// <summary>
/// Follows the partition leases of services (NATS KV bucket <c>LEASES_{SERVICE}</c>, key <c>lease.{p}</c>, value = the
/// owner's instance name) as the services write them, and times each hand-over: from the kill of an owner to the
/// moment another replica holds each partition the dead one held.
/// </summary>
public sealed class LeaseWatch : IAsyncDisposable
{
    private readonly NatsConnection _nats;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _watchers = [];
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Service, int Partition), string> _owners = [];
    private readonly List<(string Service, int Partition, string Owner, DateTimeOffset At)> _taken = [];
    private readonly HashSet<string> _seenBuckets = [];

    private LeaseWatch(NatsConnection nats) => _nats = nats;

    public static LeaseWatch Start(string natsUrl, IEnumerable<string> services)
    {
        var watch = new LeaseWatch(new NatsConnection(new NatsOpts { Url = natsUrl, Name = "load-harness-leases" }));
        foreach (var service in services)
        {
            watch._watchers.Add(Task.Run(() => watch.FollowAsync(service, watch._stop.Token)));
        }
        return watch;
    }

    /// <summary>What <paramref name="service"/>'s replicas hold now: partition → owner.</summary>
    public Dictionary<int, string> Owners(string service)
    {
        lock (_gate)
        {
            return _owners.Where(o => o.Key.Service == service).ToDictionary(o => o.Key.Partition, o => o.Value);
        }
    }

    /// <summary>The service's replicas write leases (its bucket exists): it is partitioned.</summary>
    public bool IsPartitioned(string service)
    {
        lock (_gate)
        {
            return _seenBuckets.Contains(service);
        }
    }

    /// <summary>
    /// Seconds from <paramref name="killedAt"/> until each of <paramref name="held"/> was taken by an owner other than
    /// <paramref name="victim"/>; null for a partition nobody took (yet).
    /// </summary>
    public IReadOnlyList<double?> HandOvers(string service, string victim, IEnumerable<int> held, DateTimeOffset killedAt)
    {
        lock (_gate)
        {
            return [.. held.Select(p => _taken
                .Where(t => t.Service == service && t.Partition == p && t.Owner != victim && t.At >= killedAt)
                .Select(t => (double?)(t.At - killedAt).TotalSeconds)
                .FirstOrDefault())];
        }
    }

    /// <summary>Both replicas of each partitioned service hold partitions (the second one has been given its share).</summary>
    public async Task WaitForSpreadAsync(ReplicatedServices replicas, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            var uneven = SystemUnderTest.StatefulServices
                .Where(s => s != "paper-engine" && IsPartitioned(s)) // active/standby: one replica holds its one partition
                .Where(s => replicas.Living(s).Any(r => !Owners(s).ContainsValue(r.Instance)))
                .ToList();
            if (uneven.Count == 0 && SystemUnderTest.StatefulServices.Where(IsPartitioned).All(s => Owners(s).Count == (s == "paper-engine" ? 1 : Partitions.Count)))
            {
                break;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
        foreach (var service in SystemUnderTest.StatefulServices)
        {
            var owners = Owners(service);
            Console.WriteLine(IsPartitioned(service)
                ? $"  {service}: " + string.Join(", ", replicas.Replicas[service].Select(r => $"{r.Instance} owns {owners.Count(o => o.Value == r.Instance)}"))
                : $"  {service}: no lease bucket — not partitioned, both replicas do all the work");
        }
    }

    private async Task FollowAsync(string service, CancellationToken ct)
    {
        var bucket = "LEASES_" + service.ToUpperInvariant().Replace('-', '_');
        var kv = _nats.CreateJetStreamContext().CreateKeyValueStoreContext();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var store = await kv.GetStoreAsync(bucket, ct);
                lock (_gate)
                {
                    _seenBuckets.Add(service);
                }
                await foreach (var entry in store.WatchAsync<string>("lease.*", cancellationToken: ct))
                {
                    if (!int.TryParse(entry.Key.AsSpan("lease.".Length), out var partition))
                    {
                        continue;
                    }
                    // The server's time of the write, not when it reached this watcher: a watcher that lost its node
                    // (the NATS kill) and watches again would otherwise time a hand-over by its own reconnect.
                    var now = entry.Created != default ? entry.Created : DateTimeOffset.UtcNow;
                    lock (_gate)
                    {
                        if (entry.Operation == NatsKVOperation.Put && entry.Value is { Length: > 0 } owner)
                        {
                            if (!_owners.TryGetValue((service, partition), out var before) || before != owner)
                            {
                                _taken.Add((service, partition, owner, now));
                            }
                            _owners[(service, partition)] = owner;
                        }
                        else
                        {
                            _owners.Remove((service, partition));
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NatsException or NatsKVException or TimeoutException or InvalidOperationException)
            {
                // The bucket does not exist yet (the service creates it when it starts), or the NATS node it was read
                // from died: watch again (the current values come first, then the changes).
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_watchers).ContinueWith(_ => { }, CancellationToken.None);
        await _nats.DisposeAsync();
        _stop.Dispose();
    }
}
