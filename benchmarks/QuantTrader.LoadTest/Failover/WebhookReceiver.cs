using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace QuantTrader.LoadTest.Failover;

/// <summary>
/// The alerts' webhook endpoint, as docs/notifications.md asks a receiver to be: answers every delivery 200 and acts
/// once per <c>Idempotency-Key</c>. Delivery is at least once (a request in flight when its sender dies is sent again,
/// with the same key), so what must never happen is one firing (<c>X-QuantTrader-Event-Id</c>) arriving under two keys —
/// that would take effect twice. Repeats on the wire are counted apart.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private const string EventIdHeader = "X-QuantTrader-Event-Id";
    private const string KeyHeader = "Idempotency-Key";
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, int>> _effects = new();
    private readonly Task _loop;

    private WebhookReceiver(int port)
    {
        Url = $"http://127.0.0.1:{port}/hook";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>Event id → the idempotency keys it arrived under (more than one = it took effect more than once).</summary>
    public IReadOnlyDictionary<string, int> EffectsPerEvent => _effects.ToDictionary(e => e.Key, e => e.Value.Count);

    /// <summary>Requests that repeated a key already seen (sent again after a crash; the receiver drops them).</summary>
    public long RepeatsOnTheWire => _effects.Values.Sum(keys => keys.Values.Sum(n => (long)n - 1));

    public static WebhookReceiver Start()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new WebhookReceiver(port);
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            var eventId = context.Request.Headers[EventIdHeader] ?? "(none)";
            var key = context.Request.Headers[KeyHeader] ?? "(none)";
            _effects.GetOrAdd(eventId, _ => new()).AddOrUpdate(key, 1, (_, n) => n + 1);
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.ContinueWith(_ => { }, CancellationToken.None);
    }
}
