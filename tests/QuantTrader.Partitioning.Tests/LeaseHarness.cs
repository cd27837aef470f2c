using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Net;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Partitioning.Tests;

/// <summary>When a replica ran a partition's work: from its start to the end of its drain.</summary>
public sealed record Ownership(string Instance, int Partition, DateTimeOffset Start, DateTimeOffset? End, bool EndedHeld);

/// <summary>
/// Work that records when each replica ran each partition, and drains slowly (a checkpoint takes a while), so an
/// overlap between two owners would show.
/// </summary>
public sealed class Timeline
{
    private readonly List<Ownership> _entries = [];

    public TimeSpan Drain { get; init; } = TimeSpan.FromMilliseconds(300);

    public IPartitionWork WorkFor(string instance) => new RecordingWork(this, instance);

    public IReadOnlyList<Ownership> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>Partition → instance for the works running now.</summary>
    public IReadOnlyDictionary<int, string[]> Running() => Entries.Where(e => e.End is null)
        .GroupBy(e => e.Partition).ToDictionary(g => g.Key, g => g.Select(e => e.Instance).ToArray());

    /// <summary>Two runs of one partition that overlap in time (there must be none).</summary>
    public IReadOnlyList<(Ownership, Ownership)> Overlaps()
    {
        var entries = Entries;
        return [.. from a in entries
                   from b in entries
                   where a.Partition == b.Partition && a.Instance != b.Instance && a.Start < b.Start
                         && (a.End ?? DateTimeOffset.MaxValue) > b.Start
                   select (a, b)];
    }

    private sealed class RecordingWork(Timeline timeline, string instance) : IPartitionWork
    {
        public async Task RunAsync(PartitionLease lease)
        {
            var entry = new Ownership(instance, lease.Partition, DateTimeOffset.UtcNow, null, true);
            lock (timeline._entries)
            {
                timeline._entries.Add(entry);
            }
            try
            {
                await Task.Delay(Timeout.Infinite, lease.Stopping);
            }
            catch (OperationCanceledException)
            {
            }

            await Task.Delay(timeline.Drain);
            lock (timeline._entries)
            {
                timeline._entries[timeline._entries.IndexOf(entry)] = entry with { End = DateTimeOffset.UtcNow, EndedHeld = lease.IsHeld };
            }
        }
    }
}

/// <summary>One replica: its own NATS connection and its PartitionLeases, as a service would have them.</summary>
public sealed class Replica : IAsyncDisposable
{
    public static readonly PartitionLeaseOptions FastLeases = new()
    {
        LeaseTtl = TimeSpan.FromSeconds(3),
        RenewInterval = TimeSpan.FromMilliseconds(400),
    };

    private readonly CancellationTokenSource _stop = new();

    private Replica(string name, NatsConnection nats, PartitionLeases leases)
    {
        Name = name;
        Nats = nats;
        Leases = leases;
    }

    public string Name { get; }

    public NatsConnection Nats { get; }

    public PartitionLeases Leases { get; }

    public static async Task<Replica> StartAsync(string url, string name, Timeline timeline, string service = "kline", PartitionLeaseOptions? options = null, PartitionScheme? scheme = null)
    {
        var nats = new NatsConnection(new NatsOpts { Url = url, Name = name });
        await nats.ConnectAsync();
        var settings = options ?? FastLeases;
        settings = new PartitionLeaseOptions
        {
            LeaseTtl = settings.LeaseTtl,
            RenewInterval = settings.RenewInterval,
            SelfFenceFraction = settings.SelfFenceFraction,
            Instance = name,
        };
        var leases = new PartitionLeases(service, scheme ?? PartitionScheme.Split, timeline.WorkFor(name), nats.CreateJetStreamContext(),
            Options.Create(settings), TimeProvider.System, NullLogger<PartitionLeases>.Instance);
        var replica = new Replica(name, nats, leases);
        await leases.StartAsync(CancellationToken.None);
        return replica;
    }

    /// <summary>A graceful stop (SIGTERM): drain, checkpoint, release.</summary>
    public Task StopAsync() => Leases.StopAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Leases.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        }
        catch (Exception)
        {
            // Already stopped, or its connection cut on purpose.
        }
        Leases.Dispose();
        await Nats.DisposeAsync();
    }
}
