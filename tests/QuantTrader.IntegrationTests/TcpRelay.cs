using System.Net;
using System.Net.Sockets;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// A local port that refuses connections (nothing listens) until <see cref="Open"/>, after which it relays every
/// connection to a real server: "the database is unreachable, then it is back", without stopping the shared one.
/// </summary>
public sealed class TcpRelay(string targetHost, int targetPort) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private CancellationTokenSource? _open;
    private TcpListener? _listener;

    /// <summary>A free port, released again so that connecting to it is refused.</summary>
    public int Port { get; } = FreePort();

    public void Open()
    {
        _open = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _ = AcceptAsync(_listener, _open.Token);
    }

    /// <summary>Unreachable again, as a server that went down: refuses new connections and cuts the relayed ones.</summary>
    public void Close()
    {
        _open?.Cancel();
        _listener?.Stop();
        _listener = null;
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(ct);
                _ = RelayAsync(client, ct);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client, CancellationToken ct)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(targetHost, targetPort, ct);
                var down = client.GetStream();
                var up = upstream.GetStream();
                await Task.WhenAny(down.CopyToAsync(up, ct), up.CopyToAsync(down, ct));
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener?.Stop();
        _stop.Dispose();
    }
}
