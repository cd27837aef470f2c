using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using NATS.Net;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.ServiceDefaults.Partitioning;

/// <summary>
/// Gives each partition of a service exactly one owner among its replicas, and runs <see cref="IPartitionWork"/> for
/// the partitions this replica owns (docs/scaling.md).
/// <list type="bullet">
/// <item>Ownership is a lease in the service's NATS KV bucket (<c>LEASES_{SERVICE}</c>, key <c>lease.{partition}</c>):
/// taken with create (succeeds only when no one holds it) and renewed with a compare-and-set on its revision, so two
/// replicas can never both hold it. The bucket's max age is the lease's time to live: a dead owner's leases lapse.</item>
/// <item>Who should own what is rendezvous hashing (unless the scheme is sticky: see <see cref="PartitionScheme"/>) over the live members (<c>member.{instance}</c> keys, renewed like
/// the leases, <see cref="PartitionAssignment"/>). A partition whose desired owner is another replica is handed over:
/// its work is stopped, drains and checkpoints, and only then is the lease deleted, so the next owner starts from that
/// checkpoint and never alongside this one.</item>
/// <item>A replica that cannot renew stops its partitions by itself before the lease can lapse
/// (<see cref="PartitionLeaseOptions.SelfFenceFraction"/>).</item>
/// <item>On shutdown (SIGTERM) it claims nothing more, drains every partition and releases the leases and its
/// membership, so a rolling update hands partitions over instead of waiting for them to lapse.</item>
/// </list>
/// </summary>
public sealed class PartitionLeases(
    string service,
    PartitionScheme scheme,
    IPartitionWork work,
    INatsJSContext js,
    IOptions<PartitionLeaseOptions> options,
    TimeProvider time,
    ILogger<PartitionLeases> logger) : BackgroundService
{
    private static readonly Counter<long> Handovers = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.partitions.acquired", description: "Partition leases taken by this replica");

    private readonly PartitionLeaseOptions _options = options.Value;
    private readonly Dictionary<int, Held> _held = [];
    private readonly object _sync = new();

    public string Service => service;

    public string Instance { get; } = InstanceName(options.Value);

    /// <summary>
    /// A name that survives a restart of the same replica, so that a replica restarted after a crash takes its own
    /// leases back at once instead of waiting for them to lapse (<see cref="RoundAsync"/>): the configured name, the
    /// OpenTelemetry instance id Aspire gives each replica, or the pod name on Kubernetes; else a name of this process.
    /// Two live processes must never share one.
    /// </summary>
    private static string InstanceName(PartitionLeaseOptions options)
    {
        if (options.Instance is { Length: > 0 } configured)
        {
            return configured;
        }

        var attributes = Environment.GetEnvironmentVariable("OTEL_RESOURCE_ATTRIBUTES") ?? "";
        foreach (var attribute in attributes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (attribute.StartsWith("service.instance.id=", StringComparison.Ordinal) && attribute.Length > "service.instance.id=".Length)
            {
                return Sanitize(attribute["service.instance.id=".Length..]);
            }
        }

        return Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST") is not null
            ? Sanitize(Environment.MachineName)
            : $"{Sanitize(Environment.MachineName)}-{Environment.ProcessId}-{Random.Shared.Next(0x10000):x4}";
    }

    /// <summary>KV keys allow letters, digits, '-', '_', '=' and '/': anything else becomes '-'.</summary>
    private static string Sanitize(string name) =>
        new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);

    public static string BucketFor(string service) => "LEASES_" + service.ToUpperInvariant().Replace('-', '_');

    /// <summary>The partitions this replica owns now (and is not handing over).</summary>
    public IReadOnlyCollection<int> Owned
    {
        get
        {
            lock (_sync)
            {
                return [.. _held.Where(h => !h.Value.Releasing && h.Value.Lease.IsHeld).Select(h => h.Key).Order()];
            }
        }
    }

    /// <summary>At least one round has run: <see cref="Owned"/> reflects the leases (before, a replica cannot tell standby from starting).</summary>
    public bool HasRun { get; private set; }

    public bool Owns(int partition)
    {
        lock (_sync)
        {
            return _held.TryGetValue(partition, out var held) && !held.Releasing && held.Lease.IsHeld;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        QuantTraderTelemetry.Meter.CreateObservableGauge("quanttrader.partitions.owned", () => new Measurement<int>(Owned.Count,
            new KeyValuePair<string, object?>("service", service), new KeyValuePair<string, object?>("instance", Instance)),
            description: "Partitions this replica owns");
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var fencing = FenceUntilStoppedAsync(watchdog.Token);
        INatsKVStore? store = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                store ??= await OpenStoreAsync(stoppingToken);
                await BoundedRoundAsync(store, claim: true, stoppingToken);
                HasRun = true;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // NATS away, a leader election or a call that hung: the self-fence stops partitions whose leases may lapse.
                logger.LogWarning("Partition leases of {Service}: round failed ({Error}); retrying", service, ex.Message);
            }

            try
            {
                await Task.Delay(_options.RenewInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await DrainAsync(store);
        await watchdog.CancelAsync();
        await fencing;
    }

    /// <summary>
    /// A round that cannot hang: a KV call that never answers (seen after a reconnect under load) is cancelled after
    /// <see cref="RoundTimeout"/>, so the loop goes on renewing — and the self-fence, which runs on its own timer
    /// (<see cref="FenceUntilStoppedAsync"/>), never depends on a round returning.
    /// </summary>
    private async Task BoundedRoundAsync(INatsKVStore store, bool claim, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(RoundTimeout);
        try
        {
            await RoundAsync(store, claim, bounded.Token);
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new TimeoutException($"a lease round took longer than {RoundTimeout.TotalSeconds:0.#} s");
        }
    }

    /// <summary>Half the lease's lifetime: a round slower than that could not keep a lease anyway.</summary>
    private TimeSpan RoundTimeout => _options.LeaseTtl / 2;

    /// <summary>The self-fence, every half renew interval, whatever the rounds are doing.</summary>
    private async Task FenceUntilStoppedAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            FenceExpired();
            try
            {
                await Task.Delay(_options.RenewInterval / 2, time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<INatsKVStore> OpenStoreAsync(CancellationToken ct)
    {
        var kv = js.CreateKeyValueStoreContext();
        return await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(BucketFor(service))
        {
            Description = $"Partition leases of {service} (docs/scaling.md)",
            History = 1,
            MaxAge = _options.LeaseTtl,
            // As replicated as the streams (R3 on a cluster): a lease must survive the loss of a NATS node.
            NumberOfReplicas = StreamSetup.Replicas,
            Storage = NatsKVStorageType.File,
        }, ct);
    }

    /// <summary>One pass: heartbeat, renew or hand over what is held, claim what this replica should own.</summary>
    private async Task RoundAsync(INatsKVStore store, bool claim, CancellationToken ct)
    {
        if (claim)
        {
            await store.PutAsync(MemberKey(Instance), Instance, cancellationToken: ct);
        }

        var members = new List<string>();
        await foreach (var key in store.GetKeysAsync(["member.*"], cancellationToken: ct))
        {
            members.Add(key["member.".Length..]);
        }
        IReadOnlySet<int> desired = !claim ? new HashSet<int>()
            // Sticky: whoever holds a partition keeps it; every replica stands by to take any that is free.
            : scheme.Sticky ? Enumerable.Range(0, scheme.Count).ToHashSet()
            : PartitionAssignment.DesiredFor(Instance, members, scheme.Count);

        // All at once: each is a round trip to a replicated stream, and sixteen in a row under load outlast a lease.
        await Task.WhenAll(Snapshot().Select(h => KeepAsync(store, h.Key, h.Value, desired, ct)));

        if (!claim)
        {
            return;
        }

        foreach (var partition in desired.Order())
        {
            lock (_sync)
            {
                if (_held.ContainsKey(partition))
                {
                    continue;
                }
            }

            var created = await store.TryCreateAsync(LeaseKey(partition), Instance, cancellationToken: ct);
            if (created.Success)
            {
                Start(partition, created.Value);
                continue;
            }

            // Held under this replica's own name: by its previous run, which crashed (a live process never shares the
            // name). Taken back with a compare-and-set on that revision, so a later owner's take-over still wins.
            var holder = await store.TryGetEntryAsync<string>(LeaseKey(partition), cancellationToken: ct);
            if (holder.Success && holder.Value.Value == Instance)
            {
                var resumed = await store.TryUpdateAsync(LeaseKey(partition), Instance, holder.Value.Revision, cancellationToken: ct);
                if (resumed.Success)
                {
                    logger.LogInformation("Partition {Partition} of {Service}: {Instance} takes back the lease of its previous run", partition, service, Instance);
                    Start(partition, resumed.Value);
                }
            }
        }
    }

    /// <summary>One held partition in a round: release it once drained, else renew it, and start its hand-over if another replica should own it.</summary>
    private async Task KeepAsync(INatsKVStore store, int partition, Held held, IReadOnlySet<int> desired, CancellationToken ct)
    {
        if (held.Work.IsCompleted && (held.Releasing || !held.Lease.IsHeld))
        {
            // Drained (or lost): give the lease back if it is still ours, so the next owner need not wait for it to lapse.
            if (held.Lease.IsHeld)
            {
                var deleted = await store.TryDeleteAsync(LeaseKey(partition), new NatsKVDeleteOpts { Revision = held.Revision }, ct);
                logger.LogInformation("Partition {Partition} of {Service} released by {Instance}{Note}", partition, service, Instance,
                    deleted.Success ? "" : " (lease already gone)");
            }
            Remove(partition);
            return;
        }

        if (!held.Lease.IsHeld)
        {
            return;
        }

        // The lease lives from the server's write, which may come any time during the call: count from its start.
        var sent = time.GetUtcNow();
        var renewed = await store.TryUpdateAsync(LeaseKey(partition), Instance, held.Revision, cancellationToken: ct);
        if (renewed.Success)
        {
            held.Revision = renewed.Value;
            held.RenewedAt = sent;
        }
        else if (scheme.FencedByStore && await store.TryCreateAsync(LeaseKey(partition), Instance, cancellationToken: ct) is { Success: true } retaken)
        {
            // It lapsed while this replica could not renew, and nobody took it: the work never stopped, and its
            // fence in the store still names this owner, so it goes on under the new revision.
            logger.LogWarning("Partition {Partition} of {Service}: lease lapsed while {Instance} could not renew; taken back (nobody else had), the work goes on",
                partition, service, Instance);
            held.Revision = retaken.Value;
            held.RenewedAt = sent;
        }
        else
        {
            logger.LogWarning("Partition {Partition} of {Service}: lease lost by {Instance} ({Error}); stopping its work", partition, service, Instance, renewed.Error.Message);
            held.Lease.Lose();
            return;
        }

        if (!held.Releasing && !desired.Contains(partition) && !scheme.Sticky)
        {
            logger.LogInformation("Partition {Partition} of {Service}: handing over from {Instance} (draining)", partition, service, Instance);
            held.Releasing = true;
            held.Lease.Stop();
        }
    }

    private void Start(int partition, ulong revision)
    {
        var lease = new PartitionLease(partition, revision);
        var held = new Held(lease) { Revision = revision, RenewedAt = time.GetUtcNow() };
        held.Work = Task.Run(() => RunWorkAsync(lease));
        lock (_sync)
        {
            _held[partition] = held;
        }
        Handovers.Add(1, new KeyValuePair<string, object?>("service", service));
        logger.LogInformation("Partition {Partition} of {Service} taken by {Instance} (fence {Fence})", partition, service, Instance, revision);
    }

    private async Task RunWorkAsync(PartitionLease lease)
    {
        while (!lease.Stopping.IsCancellationRequested)
        {
            try
            {
                await work.RunAsync(lease);
                if (!lease.Stopping.IsCancellationRequested)
                {
                    logger.LogWarning("Partition {Partition} of {Service}: work ended on its own; restarting it from its checkpoint", lease.Partition, service);
                }
            }
            catch (Exception ex) when (!lease.Stopping.IsCancellationRequested)
            {
                logger.LogError(ex, "Partition {Partition} of {Service} failed; restarting it from its checkpoint in 2 s", lease.Partition, service);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Partition {Partition} of {Service} failed while stopping", lease.Partition, service);
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), time, lease.Stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Stops the partitions whose last renewal is so old that the lease may lapse before the next one.</summary>
    private void FenceExpired()
    {
        var limit = _options.LeaseTtl * _options.SelfFenceFraction;
        var now = time.GetUtcNow();
        foreach (var (partition, held) in Snapshot())
        {
            if (held.Lease.IsHeld && now - held.RenewedAt > limit && !scheme.FencedByStore)
            {
                logger.LogWarning("Partition {Partition} of {Service}: not renewed for {Age}; {Instance} stops it before the lease can lapse",
                    partition, service, now - held.RenewedAt, Instance);
                held.Lease.Lose();
            }
        }
    }

    /// <summary>Shutdown: stop every partition, keep the leases alive while they drain, then release them and the membership.</summary>
    private async Task DrainAsync(INatsKVStore? store)
    {
        var held = Snapshot();
        logger.LogInformation("{Service} replica {Instance} stopping: draining {Count} partitions", service, Instance, held.Count);
        foreach (var (_, h) in held)
        {
            h.Releasing = true;
            h.Lease.Stop();
        }

        // The host's shutdown timeout bounds this; renewing while draining keeps a slow drain from lapsing into a second owner.
        while (held.Any(h => !h.Value.Work.IsCompleted))
        {
            await Task.WhenAny(Task.WhenAll(held.Select(h => h.Value.Work)), Task.Delay(_options.RenewInterval, time));
            if (store is not null && held.Any(h => !h.Value.Work.IsCompleted))
            {
                try
                {
                    await BoundedRoundAsync(store, claim: false, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    logger.LogWarning("Renewing leases while draining failed: {Error}", ex.Message);
                }
            }
        }

        if (store is null)
        {
            return;
        }

        try
        {
            await BoundedRoundAsync(store, claim: false, CancellationToken.None);
            using var bounded = new CancellationTokenSource(RoundTimeout);
            await store.TryDeleteAsync(MemberKey(Instance), cancellationToken: bounded.Token);
            logger.LogInformation("{Service} replica {Instance} released its partitions", service, Instance);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Releasing the leases of {Instance} failed ({Error}); they lapse in {Ttl}", Instance, ex.Message, _options.LeaseTtl);
        }
    }

    private List<KeyValuePair<int, Held>> Snapshot()
    {
        lock (_sync)
        {
            return [.. _held];
        }
    }

    private void Remove(int partition)
    {
        lock (_sync)
        {
            _held.Remove(partition);
        }
    }

    private static string LeaseKey(int partition) => $"lease.{partition}";

    private static string MemberKey(string instance) => $"member.{instance}";

    private sealed class Held(PartitionLease lease)
    {
        public PartitionLease Lease { get; } = lease;

        public Task Work { get; set; } = Task.CompletedTask;

        public ulong Revision { get; set; }

        private long _renewedAtTicks;

        /// <summary>When the last successful renewal was sent; read by the self-fence's own timer, hence atomic.</summary>
        public DateTimeOffset RenewedAt
        {
            get => new(Interlocked.Read(ref _renewedAtTicks), TimeSpan.Zero);
            set => Interlocked.Exchange(ref _renewedAtTicks, value.UtcTicks);
        }

        public bool Releasing { get; set; }
    }
}
