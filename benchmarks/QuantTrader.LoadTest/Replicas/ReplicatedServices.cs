namespace QuantTrader.LoadTest.Replicas;

/// <summary>
/// The stateful services of a running system at two replicas each: Aspire's process plus one the harness starts beside
/// it (<see cref="ServiceReplica"/>).
/// <para>
/// Why not the AppHost's <c>QuantTrader:Replicas:{service}=2</c> (Aspire <c>WithReplicas</c>)? The harness must kill
/// exactly one chosen replica of each service — the one holding the partitions, the active paper engine — and know
/// which lease owner name is which process; replicas it starts itself have names it gives them and process ids it
/// holds. They also let the scaling mode measure one and two replicas on the same running system (same database, same
/// warmed-up processes) by starting the second replicas between the two measurements.
/// </para>
/// </summary>
public sealed class ReplicatedServices : IAsyncDisposable
{
    private readonly Dictionary<string, List<ServiceReplica>> _replicas = [];

    public IReadOnlyDictionary<string, List<ServiceReplica>> Replicas => _replicas;

    /// <summary>Finds Aspire's replica of each of <paramref name="services"/> and starts one more of each.</summary>
    public static async Task<ReplicatedServices> StartAsync(SystemUnderTest system, IEnumerable<string> services, CancellationToken ct)
    {
        var set = new ReplicatedServices();
        // Outside the data folder, which goes with the system: the logs are what explains a failed run.
        var logs = Path.Combine(Path.GetTempPath(), "quanttrader-load-replica-logs");
        try
        {
            foreach (var service in services)
            {
                var original = ServiceReplica.Original(service, await system.ProcessIdAsync(service, ct));
                set._replicas[service] = [original];
            }
            // One after another: each start is a JIT-heavy process launch on a small machine.
            foreach (var (service, replicas) in set._replicas)
            {
                replicas.Add(await ServiceReplica.StartBesideAsync(replicas[0], 1, logs, ct));
            }
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    public IEnumerable<ServiceReplica> Living(string service) => _replicas[service].Where(r => !r.Killed);

    /// <summary>Stops the replicas the harness started (SIGTERM: they drain and hand their partitions back).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas.Values.SelectMany(r => r).Where(r => !r.IsOriginal))
        {
            await replica.DisposeAsync();
        }
    }
}
