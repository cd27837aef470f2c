using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace QuantTrader.Partitioning.Tests;

/// <summary>A real nats-server (the machine's, 2.9) with JetStream in a temporary folder, killed and removed on dispose.</summary>
public sealed class NatsServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private NatsServerProcess(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Url = $"nats://127.0.0.1:{port}";
    }

    public string Url { get; }

    /// <param name="config">Extra nats.conf text (mappings, ...).</param>
    public static async Task<NatsServerProcess> StartAsync(string config = "")
    {
        var directory = Directory.CreateTempSubdirectory("qt-nats-").FullName;
        var port = FreePort();
        var configFile = Path.Combine(directory, "nats.conf");
        await File.WriteAllTextAsync(configFile, $"listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: \"{directory}/js\" }}\n{config}\n");
        var process = Process.Start(new ProcessStartInfo("nats-server", ["-c", configFile])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("nats-server did not start (apt-get install nats-server)");
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new NatsServerProcess(process, directory, port);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        await server.DisposeAsync();
        throw new InvalidOperationException("nats-server did not listen within 5 s");
    }

    /// <summary>
    /// Freezes the server (SIGSTOP) for <paramref name="duration"/>, then lets it go on (SIGCONT): to its clients, as a
    /// cluster without a leader — requests time out, nothing is refused, and what aged out meanwhile expires on resume.
    /// </summary>
    public async Task PauseAsync(TimeSpan duration)
    {
        await SignalAsync("STOP");
        try
        {
            await Task.Delay(duration);
        }
        finally
        {
            await SignalAsync("CONT");
        }
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
