using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace QuantTrader.LoadTest.Replicas;

/// <summary>
/// One running process of a QuantTrader service: the one Aspire started (<see cref="IsOriginal"/>), or a second one
/// the harness started beside it with the same program and environment (what <c>QuantTrader:Replicas:{service}=2</c>
/// or a second pod gives), on a port and under an instance name of its own. Either can be killed with SIGKILL, as a
/// crash: no drain, no release, its leases lapse.
/// </summary>
public sealed class ServiceReplica : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly Process? _process;
    private readonly StreamWriter? _log;

    private ServiceReplica(string service, string instance, int processId, Process? process, StreamWriter? log)
    {
        Service = service;
        Instance = instance;
        ProcessId = processId;
        _process = process;
        _log = log;
    }

    public string Service { get; }

    /// <summary>The name it takes leases under (the value of its <c>lease.{p}</c> keys).</summary>
    public string Instance { get; }

    public int ProcessId { get; }

    public bool IsOriginal => _process is null;

    public bool Killed { get; private set; }

    /// <summary>The replica Aspire started, found by its process id.</summary>
    public static ServiceReplica Original(string service, int processId) =>
        new(service, InstanceOf(ReadEnvironment(processId)), processId, null, null);

    /// <summary>
    /// A second replica of the service whose running process is <paramref name="original"/>: the same command line,
    /// working folder and environment (NATS user, database, identity key, options), its own HTTP port and instance
    /// name; its output goes to <paramref name="logDirectory"/>. Returns once it answers /health.
    /// </summary>
    public static async Task<ServiceReplica> StartBesideAsync(ServiceReplica original, int number, string logDirectory, CancellationToken ct)
    {
        var commandLine = File.ReadAllText($"/proc/{original.ProcessId}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var environment = ReadEnvironment(original.ProcessId);
        var port = FreePort();
        var start = new ProcessStartInfo(commandLine[0], commandLine.Skip(1))
        {
            WorkingDirectory = File.ResolveLinkTarget($"/proc/{original.ProcessId}/cwd", returnFinalTarget: false)?.FullName ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment.Remove("HTTP_PORTS");
        start.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        // A name of its own: the copied environment carries the original's instance id, and two processes under one
        // name would take each other's leases as their own.
        var instance = $"{original.Service}-replica-{number}";
        start.Environment["Partitions__Instance"] = instance;
        start.Environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={instance}";
        Directory.CreateDirectory(logDirectory);
        var log = new StreamWriter(Path.Combine(logDirectory, $"{instance}.log"), append: true) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start a second {original.Service}");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var replica = new ServiceReplica(original.Service, instance, process.Id, process, log);
        await replica.WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}/health"), ct);
        return replica;
    }

    /// <summary>SIGKILL.</summary>
    public async Task KillAsync()
    {
        Killed = true;
        if (_process is not null)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
            return;
        }
        try
        {
            using var process = Process.GetProcessById(ProcessId);
            process.Kill();
            await process.WaitForExitAsync();
        }
        catch (ArgumentException)
        {
            // already gone
        }
    }

    /// <summary>A replica the harness started is stopped with SIGTERM (drain and release), or killed after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _ = Kill(_process.Id, SigTerm);
                using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await _process.WaitForExitAsync(patience.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill();
                }
            }
            _process.Dispose();
        }
        if (_log is not null)
        {
            await _log.DisposeAsync();
        }
    }

    /// <summary>The instance name PartitionLeases takes: <c>Partitions__Instance</c>, else OpenTelemetry's service.instance.id.</summary>
    private static string InstanceOf(IReadOnlyDictionary<string, string> environment)
    {
        if (environment.TryGetValue("Partitions__Instance", out var configured) && configured.Length > 0)
        {
            return configured;
        }
        foreach (var attribute in environment.GetValueOrDefault("OTEL_RESOURCE_ATTRIBUTES", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (attribute.StartsWith("service.instance.id=", StringComparison.Ordinal))
            {
                return new string([.. attribute["service.instance.id=".Length..].Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);
            }
        }
        return "";
    }

    private static Dictionary<string, string> ReadEnvironment(int processId) =>
        File.ReadAllText($"/proc/{processId}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2)).Where(pair => pair.Length == 2)
            .GroupBy(pair => pair[0]).ToDictionary(g => g.Key, g => g.Last()[1]);

    private async Task WaitHealthyAsync(Uri health, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"The second {Service} exited with {_process.ExitCode} while starting (see {Instance}.log)");
            }
            try
            {
                using var response = await http.GetAsync(health, ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // not listening yet
            }
            await Task.Delay(500, ct);
        }
        throw new TimeoutException($"The second {Service} was not healthy within 3 minutes");
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
