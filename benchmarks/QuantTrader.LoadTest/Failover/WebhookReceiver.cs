using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace QuantTrader.LoadTest.Failover;

/// <summary>
/// The alerts' webhook endpoint: answers every delivery 200 and counts them by the event id the alert service sends
/// in <c>X-QuantTrader-Event-Id</c>, so a firing delivered twice (by two replicas, or again after a hand-over) shows.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private const string EventIdHeader = "X-QuantTrader-Event-Id";
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, int> _deliveries = new();
    private readonly Task _loop;

    private WebhookReceiver(int port)
    {
        Url = $"http://127.0.0.1:{port}/hook";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>Deliveries per event id.</summary>
    public IReadOnlyDictionary<string, int> Deliveries => _deliveries;

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
            _deliveries.AddOrUpdate(eventId, 1, (_, n) => n + 1);
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
