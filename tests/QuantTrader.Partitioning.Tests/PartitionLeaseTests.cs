using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using NATS.Net;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Partitioning.Tests;

/// <summary>Partition ownership over a real nats-server's KV: one owner per partition at any moment, moved within seconds.</summary>
public sealed class PartitionLeaseTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Three_replicas_split_the_partitions_with_one_owner_each()
    {
        await using var server = await NatsServerProcess.StartAsync();
        var timeline = new Timeline();
        await using var a = await Replica.StartAsync(server.Url, "replica-a", timeline);
        await using var b = await Replica.StartAsync(server.Url, "replica-b", timeline);
        await using var c = await Replica.StartAsync(server.Url, "replica-c", timeline);

        await SettledAsync(timeline, ["replica-a", "replica-b", "replica-c"]);

        Assert.Empty(timeline.Overlaps());
        foreach (var replica in new[] { a, b, c })
        {
            Assert.Equal(PartitionAssignment.DesiredFor(replica.Name, ["replica-a", "replica-b", "replica-c"]).Order(), replica.Leases.Owned);
        }
    }

    [Fact]
    public async Task A_replica_that_stops_hands_its_partitions_over_after_draining_them()
    {
        await using var server = await NatsServerProcess.StartAsync();
        var timeline = new Timeline { Drain = TimeSpan.FromSeconds(1) };
        await using var a = await Replica.StartAsync(server.Url, "replica-a", timeline);
        await using var b = await Replica.StartAsync(server.Url, "replica-b", timeline);
        await SettledAsync(timeline, ["replica-a", "replica-b"]);
        var stoppedAt = DateTimeOffset.UtcNow;

        await b.StopAsync();

        var moved = await SettledAsync(timeline, ["replica-a"]);
        Assert.Empty(timeline.Overlaps());
        Assert.All(timeline.Entries.Where(e => e.Instance == "replica-b"), e => Assert.True(e.EndedHeld, "b drained while still holding its leases"));
        // Released, not lapsed: the survivor takes over well inside one lease time to live after the drain.
        Assert.True(moved - stoppedAt < Replica.FastLeases.LeaseTtl + TimeSpan.FromSeconds(1), $"hand-over took {moved - stoppedAt}");
    }

    [Fact]
    public async Task A_new_replica_takes_its_share_from_a_running_one_without_two_owners_at_once()
    {
        await using var server = await NatsServerProcess.StartAsync();
        var timeline = new Timeline();
        await using var a = await Replica.StartAsync(server.Url, "replica-a", timeline);
        await SettledAsync(timeline, ["replica-a"]);

        await using var b = await Replica.StartAsync(server.Url, "replica-b", timeline);

        await SettledAsync(timeline, ["replica-a", "replica-b"]);
        Assert.Empty(timeline.Overlaps());
        Assert.NotEmpty(b.Leases.Owned);
    }

    [Fact]
    public async Task A_replica_cut_off_from_nats_stops_its_partitions_before_another_takes_them()
    {
        await using var server = await NatsServerProcess.StartAsync();
        var timeline = new Timeline();
        await using var a = await Replica.StartAsync(server.Url, "replica-a", timeline);
        await using var b = await Replica.StartAsync(server.Url, "replica-b", timeline);
        await SettledAsync(timeline, ["replica-a", "replica-b"]);
        var cutAt = DateTimeOffset.UtcNow;

        // As good as dead to the others: no renewal, no release, no goodbye.
        await b.Nats.DisposeAsync();

        var movedAt = await SettledAsync(timeline, ["replica-a"]);
        Assert.Empty(timeline.Overlaps());
        Assert.All(timeline.Entries.Where(e => e.Instance == "replica-b"), e => Assert.False(e.EndedHeld));
        Assert.True(movedAt - cutAt < Replica.FastLeases.LeaseTtl + TimeSpan.FromSeconds(3), $"take-over took {movedAt - cutAt}");
    }

    [Fact]
    public async Task A_replica_whose_nats_calls_hang_stops_its_partitions_before_the_leases_can_lapse()
    {
        await using var server = await NatsServerProcess.StartAsync();
        var timeline = new Timeline();
        await using var a = await Replica.StartAsync(server.Url, "replica-a", timeline);
        await SettledAsync(timeline, ["replica-a"]);
        var frozenAt = DateTimeOffset.UtcNow;

        // The server answers nothing (calls hang rather than fail) for longer than a lease lives.
        await server.PauseAsync(Replica.FastLeases.LeaseTtl * 2);

        var runs = timeline.Entries;
        Assert.Equal(Partitions.Count, runs.Count);
        Assert.All(runs, run => Assert.True(run.End - frozenAt < Replica.FastLeases.LeaseTtl + timeline.Drain,
            $"partition {run.Partition} ran until {run.End - frozenAt} after the freeze; its lease lapsed at most {Replica.FastLeases.LeaseTtl} after it"));
    }

    [Fact]
    public async Task A_replica_restarted_after_a_crash_takes_its_own_leases_back_without_waiting_for_them_to_lapse()
    {
        await using var server = await NatsServerProcess.StartAsync();
        var timeline = new Timeline { Drain = TimeSpan.Zero };
        var crashed = await Replica.StartAsync(server.Url, "replica-a", timeline, options: SlowLeases);
        await SettledAsync(timeline, ["replica-a"]);
        // A crash: no release reaches NATS, the leases stay under replica-a's name.
        await crashed.Nats.DisposeAsync();
        await crashed.StopAsync();
        var restartedAt = DateTimeOffset.UtcNow;

        await using var restarted = await Replica.StartAsync(server.Url, "replica-a", timeline, options: SlowLeases);

        await Eventually.TrueAsync(() => restarted.Leases.Owned.Count == Partitions.Count);
        Assert.True(DateTimeOffset.UtcNow - restartedAt < SlowLeases.LeaseTtl / 2, "taken back well before the leases could lapse");
        await crashed.DisposeAsync();
    }

    /// <summary>
    /// The self-fence stops a cut-off owner at 70 % of the TTL; with 3 s leases that leaves 0.9 s, less the drain, for
    /// its timer to be late, and a full test run on 2 cores made it later (an overlap of 1 s). The margin grows with the
    /// TTL, as it does in production (15 s).
    /// </summary>
    private static readonly PartitionLeaseOptions SteadyLeases = new() { LeaseTtl = TimeSpan.FromSeconds(10), RenewInterval = TimeSpan.FromMilliseconds(400) };

    private static readonly PartitionLeaseOptions SlowLeases = new() { LeaseTtl = TimeSpan.FromSeconds(30), RenewInterval = TimeSpan.FromMilliseconds(400) };

    [Fact]
    public async Task An_active_standby_pair_keeps_one_active_replica_and_the_standby_takes_over_when_it_dies()
    {
        await using var server = await NatsServerProcess.StartAsync();
        var timeline = new Timeline();
        await using var a = await Replica.StartAsync(server.Url, "replica-a", timeline, "paper-engine", options: SteadyLeases, scheme: PartitionScheme.ActiveStandby);
        await Eventually.TrueAsync(() => a.Leases.Owned.Count == 1);
        await using var b = await Replica.StartAsync(server.Url, "replica-b", timeline, "paper-engine", options: SteadyLeases, scheme: PartitionScheme.ActiveStandby);

        // A replica joining never takes the work from a healthy owner.
        await Task.Delay(SteadyLeases.RenewInterval * 5);
        Assert.Equal([0], a.Leases.Owned);
        Assert.Empty(b.Leases.Owned);

        await a.Nats.DisposeAsync();

        await Eventually.TrueAsync(() => b.Leases.Owned.Count == 1);
        Assert.Empty(timeline.Overlaps());
        Assert.Equal(2, timeline.Entries.Count);
    }

    [Fact]
    public async Task A_store_fenced_owner_keeps_its_work_through_a_nats_outage_longer_than_the_lease_and_takes_the_lapsed_lease_back()
    {
        await using var server = await NatsServerProcess.StartAsync();
        var timeline = new Timeline();
        var fenced = PartitionScheme.ActiveStandby with { FencedByStore = true };
        await using var a = await Replica.StartAsync(server.Url, "replica-a", timeline, "paper-engine", scheme: fenced);
        await Eventually.TrueAsync(() => a.Leases.Owned.Count == 1);

        // No renewal gets through for twice the lease's lifetime: the lease lapses on the server.
        await server.PauseAsync(Replica.FastLeases.LeaseTtl * 2);

        await Eventually.TrueAsync(async () =>
        {
            await using var probe = new NatsConnection(new NatsOpts { Url = server.Url });
            var store = await probe.CreateKeyValueStoreContext().GetStoreAsync("LEASES_PAPER_ENGINE");
            var lease = await store.TryGetEntryAsync<string>("lease.0");
            return lease.Success && lease.Value.Value == "replica-a";
        });
        Assert.Equal([0], a.Leases.Owned);
        var run = Assert.Single(timeline.Entries);
        Assert.Null(run.End);
    }

    /// <summary>Waits until the running works are exactly the desired split of <paramref name="members"/>; returns when.</summary>
    private static async Task<DateTimeOffset> SettledAsync(Timeline timeline, string[] members)
    {
        var deadline = DateTimeOffset.UtcNow + Settle;
        while (true)
        {
            var running = timeline.Running();
            var settled = Partitions.All.All(p => running.TryGetValue(p, out var owners) && owners.Length == 1
                && owners[0] == PartitionAssignment.OwnerOf(p, members));
            if (settled)
            {
                return DateTimeOffset.UtcNow;
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"Not settled on [{string.Join(',', members)}] within {Settle}: " +
                    string.Join("; ", running.OrderBy(r => r.Key).Select(r => $"{r.Key}={string.Join('+', r.Value)}")));
            }
            await Task.Delay(100);
        }
    }
}
