using System.Globalization;

namespace QuantTrader.LoadTest;

/// <summary>
/// CPU seconds and peak memory of each process of the system under test, read from <c>/proc</c> between two points
/// of the run (the services are separate processes started by the AppHost).
/// <para>
/// Only this run's processes count (see <see cref="Families"/>), so a second QuantTrader on the same machine (another
/// run, a developer's <c>./qt run</c>, a colleague's tests) is not measured by mistake. PostgreSQL is a postmaster plus one backend process per connection:
/// its figure is the whole family — the postmaster, every live backend, and the CPU of backends that already exited
/// (the postmaster's reaped-children time). Memory is the proportional set size (PSS), so the shared buffers every
/// backend maps are counted once, not once per backend.
/// </para>
/// </summary>
public sealed class ProcessStats(string repositoryRoot, string dataDirectory)
{
    // USER_HZ: the unit of /proc/[pid]/stat CPU times; 100 on every Linux this runs on.
    private const double TicksPerSecond = 100.0;

    private readonly Dictionary<string, double> _startCpu = [];
    private readonly Dictionary<string, long> _peakBytes = [];

    public static readonly string[] Names =
        ["QuantTrader.Ingestor", "QuantTrader.Kline", "QuantTrader.Persistence", "QuantTrader.Alert", "QuantTrader.PaperEngine",
         "QuantTrader.Risk", "QuantTrader.StrategyRunner", "QuantTrader.Analytics", "QuantTrader.Accounts", "QuantTrader.Gateway",
         "QuantTrader.ExchangeSimulator", "nats-server", "postgres"];

    public void Start()
    {
        foreach (var (name, family) in Families())
        {
            _startCpu[name] = CpuSeconds(family);
        }
    }

    public void SampleMemory()
    {
        foreach (var (name, family) in Families())
        {
            _peakBytes[name] = Math.Max(_peakBytes.GetValueOrDefault(name), family.Sum(ProportionalBytes));
        }
    }

    /// <summary>Per process: average CPU (cores) over <paramref name="elapsed"/> and peak memory (MiB).</summary>
    public IReadOnlyList<(string Name, double Cores, double PeakMiB)> Finish(TimeSpan elapsed)
    {
        var rows = new List<(string, double, double)>();
        foreach (var (name, family) in Families())
        {
            var used = CpuSeconds(family) - _startCpu.GetValueOrDefault(name);
            var peak = Math.Max(_peakBytes.GetValueOrDefault(name), family.Sum(ProportionalBytes));
            rows.Add((name, Math.Max(0, used) / elapsed.TotalSeconds, peak / 1048576.0));
        }
        return rows;
    }

    /// <summary>Each named process of this run — all its replicas — with their children (PostgreSQL's backends).</summary>
    private IEnumerable<(string Name, List<ProcInfo> Family)> Families()
    {
        var all = ProcInfo.ReadAll();
        // DCP detaches from the harness (its API server is re-parented to init), so the system's processes are not
        // descendants of this one, and the oldest process of a name on the machine may be another QuantTrader's (a
        // colleague's test run). This run's processes are the ones started after the harness whose command line
        // names this repository's build output (the services) or this run's data directory (nats-server's store,
        // PostgreSQL's cluster).
        var started = all.TryGetValue(Environment.ProcessId, out var self) ? self.StartTicks : 0;
        var candidates = all.Values
            .Where(p => p.StartTicks >= started
                        && (p.CommandLine.Contains(dataDirectory, StringComparison.Ordinal) || p.CommandLine.Contains(repositoryRoot, StringComparison.Ordinal)))
            .ToList();
        foreach (var name in Names)
        {
            // Every root of the name: a service's replicas, NATS's nodes, PostgreSQL's postmaster (not its backends).
            var heads = candidates
                .Where(p => p.Name == name || (name.StartsWith("QuantTrader.", StringComparison.Ordinal) && p.CommandLine.Contains(name + ".dll", StringComparison.Ordinal)))
                .Where(p => !all.TryGetValue(p.ParentId, out var parent) || parent.Name != p.Name)
                .OrderBy(p => p.StartTicks)
                .ToList();
            if (heads.Count == 0)
            {
                continue;
            }
            var family = new List<ProcInfo>(heads);
            family.AddRange(all.Values.Where(p => heads.Any(h => h.Id == p.ParentId)));
            yield return (name, family);
        }
    }

    /// <summary>The family's own CPU plus what its reaped children used (the roots' cutime/cstime).</summary>
    private static double CpuSeconds(List<ProcInfo> family) =>
        (family.Sum(p => p.UserTicks + p.SystemTicks) + family.Sum(p => p.ReapedChildrenTicks)) / TicksPerSecond;

    private static long ProportionalBytes(ProcInfo p)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{p.Id}/smaps_rollup"))
            {
                if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(4).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // exited, or not ours to read
        }
        return 0;
    }

    private sealed record ProcInfo(int Id, int ParentId, string Name, string CommandLine, long UserTicks, long SystemTicks, long ReapedChildrenTicks, long StartTicks)
    {
        public static Dictionary<int, ProcInfo> ReadAll()
        {
            var all = new Dictionary<int, ProcInfo>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && Read(pid) is { } info)
                {
                    all[pid] = info;
                }
            }
            return all;
        }

        private static ProcInfo? Read(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
                var open = stat.IndexOf('(');
                var close = stat.LastIndexOf(')');
                var comm = stat[(open + 1)..close];
                var f = stat[(close + 2)..].Split(' ');
                long L(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture); // field numbers as in proc(5)
                var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                // comm is cut at 15 characters ("QuantTrader.Ing"): the executable's file name is the real name.
                var exe = commandLine.Split(' ', 2)[0];
                var name = exe.Length > 0 && Path.GetFileName(exe).StartsWith(comm, StringComparison.Ordinal) ? Path.GetFileName(exe) : comm;
                return new ProcInfo(pid, (int)L(4), name, commandLine, L(14), L(15), L(16) + L(17), L(22));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return null; // exited while we looked
            }
        }
    }
}
