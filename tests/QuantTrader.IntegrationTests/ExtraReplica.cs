using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// A second replica of a running service: the same program with the same environment (NATS user, database, identity
/// key, options) as the replica Aspire started, on a port of its own — what <c>QuantTrader:Replicas:{service}=2</c> or a
/// second pod gives, but one a test can kill -9 or SIGTERM by itself. Its output goes to the resource-log folder as
/// <c>{service}-replica-{n}.log</c>.
/// </summary>
public sealed class ExtraReplica : IAsyncDisposable
{
    private const int SigTerm = 15;
    private static int _count;
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ExtraReplica(string service, Process process, StreamWriter log, Uri endpoint, IReadOnlyDictionary<string, string> environment)
    {
        Service = service;
        Environment = environment;
        _process = process;
        _log = log;
        Endpoint = endpoint;
    }

    public string Service { get; }

    /// <summary>The environment it runs with (the original's, with its own port and instance name).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public int ProcessId => _process.Id;

    /// <summary>Its own HTTP address (health, and the service's API without the gateway).</summary>
    public Uri Endpoint { get; }

    public bool HasExited => _process.HasExited;

    public static async Task<ExtraReplica> StartAsync(SystemFixture system, string service)
    {
        var original = await ResourceControl.ServiceProcessIdAsync(system, service);
        var commandLine = File.ReadAllText($"/proc/{original}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var environment = File.ReadAllText($"/proc/{original}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2)).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
        var port = FreePort();
        var start = new ProcessStartInfo(commandLine[0], commandLine.Skip(1))
        {
            WorkingDirectory = File.ResolveLinkTarget($"/proc/{original}/cwd", returnFinalTarget: false)?.FullName ?? System.Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        // Its own listener; everything else (ports of other services, credentials) as the original's.
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment.Remove("HTTP_PORTS");
        start.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        var n = Interlocked.Increment(ref _count);
        // A name of its own among the replicas (the copied environment carries the original's instance id, which
        // would make the two take each other's leases as their own).
        start.Environment["Partitions__Instance"] = $"{service}-replica-{n}";
        start.Environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={service}-replica-{n}";
        var logDirectory = System.Environment.GetEnvironmentVariable("QT_TEST_LOG_DIR") ?? Path.Combine(Path.GetTempPath(), "quanttrader-test-logs");
        Directory.CreateDirectory(logDirectory);
        var log = new StreamWriter(Path.Combine(logDirectory, $"{service}-replica-{n}.log"), append: true) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start a second {service}");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var replica = new ExtraReplica(service, process, log, new Uri($"http://127.0.0.1:{port}"),
            start.Environment.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!));
        await replica.WaitHealthyAsync();
        return replica;
    }

    /// <summary>SIGKILL: a crash, no drain, no release — its leases lapse.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as a rolling update does; waits until it has drained and exited.</summary>
    public async Task StopAsync(TimeSpan? patience = null)
    {
        _ = Kill(_process.Id, SigTerm);
        using var cts = new CancellationTokenSource(patience ?? TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await StopAsync(TimeSpan.FromSeconds(30));
            }
            catch (OperationCanceledException)
            {
                await KillAsync();
            }
        }
        _process.Dispose();
        await _log.DisposeAsync();
    }

    private async Task WaitHealthyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + SystemFixture.StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The second {Service} exited with {_process.ExitCode} while starting (see its log)");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(Endpoint, "/health"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"The second {Service} was not healthy within {SystemFixture.StartTimeout}");
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
#pragma warning disable SYSLIB1054 // two ints: nothing to marshal, and LibraryImport would need unsafe code here
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
