using System.Globalization;

namespace QuantTrader.LoadTest;

/// <summary><c>--rate</c> trades/s across all symbols, <c>--duration</c> seconds, and the rest with defaults.</summary>
public sealed record LoadOptions(double Rate, int DurationSeconds, int RawSamples, string Report, int Orders, int Frames = 200_000, int Rounds = 5, int Rows = 500_000, int Warmup = 50,
    int TradesPerMessage = QuantTrader.Contracts.MarketData.TradeMessages.MaxPerMessage, int Writers = 2, double OrderRate = 0, int Replicas = 1, int Clients = 1000)
{
    /// <param name="defaults">A mode's own defaults where they differ from the end-to-end run's (name → value).</param>
    public static LoadOptions Parse(string[] args, IReadOnlyDictionary<string, double>? defaults = null)
    {
        if (args.Length % 2 != 0)
        {
            // A lone word (--help) must not start a 50k trades/s run that rewrites docs/benchmarks.md.
            throw new ArgumentException($"expected --name value pairs, got '{string.Join(' ', args)}'; the modes and their options are listed at the top of Program.cs");
        }
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected --name value, got '{args[i]}'");
            }
            values[args[i][2..]] = args[i + 1];
        }
        string[] known = ["mode", "rate", "duration", "raw-samples", "report", "orders", "frames", "rounds", "rows", "warmup", "trades-per-message", "writers", "order-rate", "replicas", "clients"];
        if (values.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.OrdinalIgnoreCase)) is { } unknown)
        {
            throw new ArgumentException($"unknown option --{unknown}; known: {string.Join(", ", known.Select(k => "--" + k))}");
        }
        double Number(string name, double fallback) => values.TryGetValue(name, out var v)
            ? double.Parse(v, CultureInfo.InvariantCulture)
            : defaults?.GetValueOrDefault(name, fallback) ?? fallback;
        return new LoadOptions(
            Rate: Number("rate", 50_000),
            DurationSeconds: (int)Number("duration", 30),
            RawSamples: (int)Number("raw-samples", 200_000),
            Report: values.GetValueOrDefault("report") ?? FindReport(),
            Orders: (int)Number("orders", 200),
            Frames: (int)Number("frames", 200_000),
            Rounds: (int)Number("rounds", 5),
            Rows: (int)Number("rows", 500_000),
            Warmup: (int)Number("warmup", 50),
            TradesPerMessage: (int)Number("trades-per-message", QuantTrader.Contracts.MarketData.TradeMessages.MaxPerMessage),
            Writers: (int)Number("writers", new QuantTrader.Persistence.Ingest.PersistenceOptions().Writers),
            OrderRate: Number("order-rate", 0),
            Replicas: (int)Number("replicas", 1),
            Clients: (int)Number("clients", 1000));
    }

    /// <summary>The repository the harness runs from, with a trailing separator (its services' executables are under it).</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "QuantTrader.sln")))
            {
                return dir.FullName.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            }
        }
        return Environment.CurrentDirectory.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
    }

    /// <summary>docs/benchmarks.md of the repository the harness runs from.</summary>
    private static string FindReport()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "QuantTrader.sln")))
            {
                return Path.Combine(dir.FullName, "docs", "benchmarks.md");
            }
        }
        return Path.Combine(Environment.CurrentDirectory, "benchmarks.md");
    }
}
