using System.Collections.Concurrent;
using QuantTrader.Gateway.RateLimiting;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// Open stream connections per user (the plan's <c>StreamConnections</c>) and per client address before they
/// authenticate. Counted by each gateway replica on its own, with no state shared between replicas: a replica allows
/// its share of a plan's limit for the <c>QuantTrader:Replicas</c> gateways (<see cref="PlanRateLimits.Share"/>, as the
/// request rate), so N replicas together never allow more than the plan.
/// </summary>
public sealed class ConnectionLimits(IConfiguration configuration)
{
    private readonly ConcurrentDictionary<string, int> _open = new();
    private readonly int _replicas = configuration.GetValue("QuantTrader:Replicas", 1);

    public int ShareOf(int limit) => PlanRateLimits.Share(limit, _replicas);

    /// <summary>A place among <paramref name="key"/>'s open connections, or null when all of this replica's share are taken.</summary>
    public Place? TryOpen(string key, int limit)
    {
        var share = ShareOf(limit);
        while (true)
        {
            var open = _open.GetOrAdd(key, 0);
            if (open >= share)
            {
                return null;
            }
            if (_open.TryUpdate(key, open + 1, open))
            {
                return new Place(this, key);
            }
        }
    }

    public int Open(string key) => _open.TryGetValue(key, out var open) ? open : 0;

    private void Close(string key)
    {
        while (_open.TryGetValue(key, out var open))
        {
            if (open <= 1 ? _open.TryRemove(new KeyValuePair<string, int>(key, open)) : _open.TryUpdate(key, open - 1, open))
            {
                return;
            }
        }
    }

    /// <summary>One open connection; disposing it (once) frees the place.</summary>
    public sealed class Place(ConnectionLimits limits, string key) : IDisposable
    {
        private int _closed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                limits.Close(key);
            }
        }
    }
}
