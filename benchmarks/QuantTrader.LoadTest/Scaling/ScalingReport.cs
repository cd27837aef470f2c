using System.Globalization;
using System.Text;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.LoadTest.Scaling;

/// <summary>The scaling and max-rate sections of docs/benchmarks.md (each between its own markers).</summary>
public static class ScalingReport
{
    public const string Begin = "<!-- scaling:begin -->";
    public const string End = "<!-- scaling:end -->";
    public const string MaxRateBegin = "<!-- max-rate:begin -->";
    public const string MaxRateEnd = "<!-- max-rate:end -->";

    private static readonly string[] Partitioned =
        ["QuantTrader.Ingestor", "QuantTrader.Kline", "QuantTrader.Alert", "QuantTrader.StrategyRunner", "QuantTrader.Analytics"];

    public static double Ratio(LoadResult one, LoadResult two) => two.Throughput / one.Throughput;

    public static string FinalLine(LoadResult one, LoadResult two) => string.Create(CultureInfo.InvariantCulture,
        $"scaling: {(Ratio(one, two) >= 0.9 ? "ok" : "MISSED")} one_replica={one.Throughput:F0} two_replicas={two.Throughput:F0} ratio={Ratio(one, two):F2} p99_store_ms={one.TradeToStored.P99:F0}/{two.TradeToStored.P99:F0} cpu_us_per_trade={PerTrade(one, Total(one)):F1}/{PerTrade(two, Total(two)):F1}");

    public static string Markdown(LoadResult one, LoadResult two, string commandLine)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(Begin);
        sb.AppendLine("## Scaling cost: one and two replicas of every stateful service (issue 17)");
        sb.AppendLine();
        sb.AppendLine(Report.MachineLine());
        sb.AppendLine(c, $"- Command: `{commandLine}`");
        sb.AppendLine(c, $"- One system, one NATS node, {one.Options.Rate:N0} trades/s offered for {one.Options.DurationSeconds} s over {SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length} markets, measured with one replica of each of ingestor, kline, alert, paper engine, strategy runner and analytics, then with a second replica of each started beside it ({Partitions.Count} partitions spread over both; the paper engine's second is a standby). A warm-up drive before, unreported.");
        sb.AppendLine();
        sb.AppendLine("| figure | 1 replica | 2 replicas | 2 / 1 | goal | |");
        sb.AppendLine("|---|---|---|---|---|---|");
        sb.AppendLine(c, $"| throughput, trades stored/s | {one.Throughput:N0} | {two.Throughput:N0} | {Ratio(one, two):F2} | ≥ 0.9 | {Report.Met(Ratio(one, two) >= 0.9)} |");
        sb.AppendLine(c, $"| trades lost / duplicated | {one.Lost} / {one.Duplicated} | {two.Lost} / {two.Duplicated} | | 0 / 0 | {Report.Met(one.Lost + one.Duplicated + two.Lost + two.Duplicated == 0)} |");
        sb.AppendLine(c, $"| trade → stored p50 / p99, ms | {one.TradeToStored.P50:F0} / {one.TradeToStored.P99:F0} | {two.TradeToStored.P50:F0} / {two.TradeToStored.P99:F0} | {two.TradeToStored.P99 / one.TradeToStored.P99:F2} (p99) | | |");
        sb.AppendLine(c, $"| CPU per trade, all processes, µs | {PerTrade(one, Total(one)):F1} | {PerTrade(two, Total(two)):F1} | {PerTrade(two, Total(two)) / PerTrade(one, Total(one)):F2} | | |");
        sb.AppendLine();
        sb.AppendLine("| process | CPU per trade, 1 replica (µs) | CPU per trade, 2 replicas together (µs) | extra for the second replica (µs) | trades/s one core of it carries (2 replicas) |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var name in one.Processes.Select(p => p.Name).Union(two.Processes.Select(p => p.Name)))
        {
            var a = PerTrade(one, Cores(one, name));
            var b = PerTrade(two, Cores(two, name));
            sb.AppendLine(c, $"| {name} | {a:F1} | {b:F1} | {b - a:F1} | {(b > 0 ? 1e6 / b : double.NaN):N0} |");
        }
        sb.AppendLine();
        sb.AppendLine(Projection(two));
        sb.AppendLine(c, $"Final line: `{FinalLine(one, two)}`");
        sb.AppendLine(End);
        return sb.ToString();
    }

    /// <summary>
    /// The expected scaling on a cluster: each partitioned service's measured CPU per trade, with its work split over
    /// up to <see cref="Partitions.Count"/> replicas on cores of their own, carries replicas × (1 core ÷ cost per trade);
    /// what is not partitioned (persistence, NATS, PostgreSQL) stays one process and bounds the whole.
    /// </summary>
    private static string Projection(LoadResult two)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Expected on a cluster (one core per replica, from the two-replica CPU per trade above; {Partitions.Count} partitions cap a service at {Partitions.Count} busy replicas):");
        sb.AppendLine();
        sb.AppendLine("| process | trades/s per core | 2 replicas | 4 replicas | 8 replicas | 16 replicas |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var name in Partitioned)
        {
            var perCore = 1e6 / PerTrade(two, Cores(two, name));
            sb.AppendLine(c, $"| {name} (partitioned) | {perCore:N0} | {2 * perCore:N0} | {4 * perCore:N0} | {8 * perCore:N0} | {16 * perCore:N0} |");
        }
        // The paper engine is active/standby (one replica works, the other waits); persistence, NATS and PostgreSQL run
        // as one process here and are not split by partition: these rows are what one of each carries.
        foreach (var name in new[] { "QuantTrader.PaperEngine", "QuantTrader.Persistence", "nats-server", "postgres" })
        {
            var perCore = 1e6 / PerTrade(two, Cores(two, name));
            sb.AppendLine(c, $"| {name} ({(name == "QuantTrader.PaperEngine" ? "active/standby: one replica works" : "not split by partition")}) | {perCore:N0} | {perCore:N0} | {perCore:N0} | {perCore:N0} | {perCore:N0} |");
        }
        return sb.ToString();
    }

    public static string MaxRateMarkdown(IReadOnlyList<LoadResult> results, int replicas, string commandLine)
    {
        var c = CultureInfo.InvariantCulture;
        var best = results.Where(ScalingRun.Holds).Select(r => r.Options.Rate).DefaultIfEmpty(0).Max();
        var sb = new StringBuilder();
        sb.AppendLine(MaxRateBegin);
        sb.AppendLine("## Highest rate with p99 trade → stored under 1 s (issue 17)");
        sb.AppendLine();
        sb.AppendLine(Report.MachineLine());
        sb.AppendLine(c, $"- Command: `{commandLine}`");
        sb.AppendLine(c, $"- {replicas} replica(s) of each stateful service, one NATS node; each offered rate driven for {results.FirstOrDefault()?.Options.DurationSeconds} s; holds = p99 < 1 s, nothing lost or doubled, the offered rate stored (within 5 %).");
        sb.AppendLine();
        sb.AppendLine("| offered trades/s | stored/s | trade → stored p50 / p99, ms | lost / duplicated | holds |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in results)
        {
            sb.AppendLine(c, $"| {r.Options.Rate:N0} | {r.Throughput:N0} | {r.TradeToStored.P50:F0} / {r.TradeToStored.P99:F0} | {r.Lost} / {r.Duplicated} | {(ScalingRun.Holds(r) ? "yes" : "no")} |");
        }
        sb.AppendLine();
        sb.AppendLine(c, $"Final line: `{MaxRateLine(results)}`");
        sb.AppendLine(MaxRateEnd);
        return sb.ToString();
    }

    public static string MaxRateLine(IReadOnlyList<LoadResult> results) => string.Create(CultureInfo.InvariantCulture,
        $"max-rate: {results.Where(ScalingRun.Holds).Select(r => r.Options.Rate).DefaultIfEmpty(0).Max():F0} trades/s with p99 trade → stored < 1 s");

    private static double Cores(LoadResult r, string name) => r.Processes.Where(p => p.Name == name).Sum(p => p.Cores);

    private static double Total(LoadResult r) => r.Processes.Sum(p => p.Cores);

    private static double PerTrade(LoadResult r, double cores) => r.Throughput > 0 ? cores / r.Throughput * 1e6 : double.NaN;
}
