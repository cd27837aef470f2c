using System.Diagnostics;

namespace QuantTrader.LoadTest;

/// <summary>
/// CPU seconds and peak resident memory of each QuantTrader process, read from the OS between two points of
/// the run (the services are separate processes started by the AppHost).
/// </summary>
public sealed class ProcessStats
{
    private readonly Dictionary<string, (int Pid, TimeSpan Cpu)> _start = [];
    private readonly Dictionary<string, long> _peakBytes = [];

    public static readonly string[] Names =
        ["QuantTrader.Ingestor", "QuantTrader.Kline", "QuantTrader.Persistence", "QuantTrader.Alert", "QuantTrader.PaperEngine",
         "QuantTrader.Risk", "QuantTrader.StrategyRunner", "QuantTrader.Analytics", "QuantTrader.Accounts", "QuantTrader.Gateway",
         "QuantTrader.ExchangeSimulator", "nats-server", "postgres"];

    public void Start()
    {
        foreach (var (name, process) in Snapshot())
        {
            _start[name] = (process.Id, Cpu(process));
        }
    }

    public void SampleMemory()
    {
        foreach (var (name, process) in Snapshot())
        {
            process.Refresh();
            _peakBytes[name] = Math.Max(_peakBytes.GetValueOrDefault(name), process.WorkingSet64);
        }
    }

    /// <summary>Per process: average CPU (cores) over <paramref name="elapsed"/> and peak working set (MiB).</summary>
    public IReadOnlyList<(string Name, double Cores, double PeakMiB)> Finish(TimeSpan elapsed)
    {
        var rows = new List<(string, double, double)>();
        foreach (var (name, process) in Snapshot())
        {
            var used = _start.TryGetValue(name, out var s) && s.Pid == process.Id ? Cpu(process) - s.Cpu : Cpu(process);
            rows.Add((name, used.TotalSeconds / elapsed.TotalSeconds, _peakBytes.GetValueOrDefault(name, process.WorkingSet64) / 1048576.0));
        }
        return rows;
    }

    private static TimeSpan Cpu(Process p)
    {
        try
        {
            return p.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero; // exited
        }
    }

    /// <summary>One process per name; for PostgreSQL (many backends) the postmaster stands for all, which undercounts.</summary>
    private static IEnumerable<(string, Process)> Snapshot()
    {
        foreach (var name in Names)
        {
            var found = Process.GetProcessesByName(name);
            if (found.Length == 0 && name.StartsWith("QuantTrader.", StringComparison.Ordinal))
            {
                // Projects run as `dotnet X.dll` in some set-ups: match the command line.
                found = [.. Process.GetProcessesByName("dotnet").Where(p => CommandLine(p).Contains(name + ".dll", StringComparison.Ordinal))];
            }
            if (found.OrderBy(p => p.StartTime).FirstOrDefault() is { } process)
            {
                yield return (name, process);
            }
        }
    }

    private static string CommandLine(Process p)
    {
        try
        {
            return File.ReadAllText($"/proc/{p.Id}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
