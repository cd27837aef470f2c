using System.Globalization;
using System.Text;

namespace QuantTrader.LoadTest;

/// <summary>Writes the run into docs/benchmarks.md (replacing the previous load-harness section) and the final line.</summary>
public static class Report
{
    public const string Begin = "<!-- load-harness:begin -->";
    public const string End = "<!-- load-harness:end -->";

    public static string FinalLine(LoadResult r) => string.Create(CultureInfo.InvariantCulture,
        $"throughput={r.Throughput:F0} lost={r.Lost} duplicated={r.Duplicated} p99_store_ms={r.TradeToStored.P99:F0} ratio_to_jetstream={r.Throughput / r.JetStreamCeiling:F2}");

    public static string Markdown(LoadResult r, string commandLine)
    {
        var c = CultureInfo.InvariantCulture;
        static string Ms((double P50, double P99, double Max) p) => double.IsNaN(p.P50)
            ? "no samples"
            : string.Create(CultureInfo.InvariantCulture, $"{p.P50:F1} / {p.P99:F1} / {p.Max:F1}");
        double PerTrade(double cores) => r.Throughput > 0 ? cores / r.Throughput * 1e6 : double.NaN;

        var sb = new StringBuilder();
        sb.AppendLine(Begin);
        sb.AppendLine("## End-to-end load harness");
        sb.AppendLine();
        sb.AppendLine(MachineLine());
        sb.AppendLine(c, $"- Command: `{commandLine}`");
        sb.AppendLine(c, $"- Target {r.Options.Rate:N0} trades/s for {r.Options.DurationSeconds} s over {SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length} markets (simulator → ingestor → JetStream → kline + persistence → PostgreSQL)");
        sb.AppendLine();
        sb.AppendLine("| figure | result | ceiling in the same run | ratio | goal | |");
        sb.AppendLine("|---|---|---|---|---|---|");
        sb.AppendLine(c, $"| sustained throughput, trades stored/s | {r.Throughput:N0} | JetStream publish {r.JetStreamCeiling:N0} msg/s | {r.Throughput / r.JetStreamCeiling:F2} | ≥ 50,000 | {Met(r.Throughput >= 50_000)} |");
        // Here the saver only stores what the pipeline hands it, so this is the input rate, not the saver's capacity;
        // that is measured on its own by `--mode batch-saver` (docs/benchmarks.md, section 9).
        sb.AppendLine(c, $"| rows stored/s vs raw binary COPY (input-bound here; the saver's own capacity: section 9) | {r.Throughput:N0} rows/s | COPY {r.CopyCeiling:N0} rows/s | {r.Throughput / r.CopyCeiling:F2} | | |");
        sb.AppendLine(c, $"| trades lost / duplicated | {r.Lost:N0} / {r.Duplicated:N0} of {r.Expected:N0} | | | 0 / 0 | {Met(r.Lost == 0 && r.Duplicated == 0)} |");
        sb.AppendLine(c, $"| trade → stored row, ms p50 / p99 / max | {Ms(r.TradeToStored)} | | | p99 < 1000 | {Met(r.TradeToStored.P99 < 1000)} |");
        sb.AppendLine(c, $"| trade → closed 1m kline published, ms | {Ms(r.TradeToClosedKline)} | | | | |");
        sb.AppendLine(c, $"| order request → accepted (gateway → paper engine → risk), ms | {Ms(r.OrderAccepted)} | | | p99 < 5 | {Met(r.OrderAccepted.P99 < 5)} |");
        sb.AppendLine(c, $"| trade → fill event, ms | {Ms(r.TradeToFill)} | | | p99 < 10 | {Met(r.TradeToFill.P99 < 10)} |");
        sb.AppendLine(c, $"| drive / drain time, s | {r.DriveTime.TotalSeconds:F1} / {r.DrainTime.TotalSeconds:F1} | | | | |");
        sb.AppendLine();
        // CPU per trade = cores ÷ trades/s: what each component costs per trade, the figure to compare with the
        // ~40 µs a trade may cost in total on two cores at the 50,000 trades/s goal.
        sb.AppendLine("| process | CPU (cores, average) | CPU per trade (µs) | peak working set (MiB) |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var p in r.Processes)
        {
            sb.AppendLine(c, $"| {p.Name} | {p.Cores:F2} | {PerTrade(p.Cores):F1} | {p.PeakMiB:F0} |");
        }
        var total = r.Processes.Sum(p => p.Cores);
        sb.AppendLine(c, $"| **all of the above** | **{total:F2}** | **{PerTrade(total):F1}** | |");
        sb.AppendLine();
        sb.AppendLine(c, $"Final line: `{FinalLine(r)}`");
        sb.AppendLine(End);
        return sb.ToString();
    }

    public static void Write(string path, string section) => Write(path, section, Begin, End, "## End-to-end load harness");

    /// <summary>
    /// Replaces what lies between the <paramref name="beginMarker"/> and <paramref name="endMarker"/> lines with
    /// <paramref name="section"/> (which carries the markers itself); without markers, replaces everything from
    /// <paramref name="placeholderHeading"/> on, or else appends.
    /// </summary>
    public static void Write(string path, string section, string beginMarker, string endMarker, string placeholderHeading)
    {
        var existing = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n";
        var begin = existing.IndexOf(beginMarker, StringComparison.Ordinal);
        var end = existing.IndexOf(endMarker, StringComparison.Ordinal);
        var heading = existing.IndexOf(placeholderHeading, StringComparison.Ordinal);
        var updated = begin >= 0 && end > begin
            ? existing[..begin] + section.TrimEnd('\n') + existing[(end + endMarker.Length)..]
            : heading >= 0
                ? existing[..heading] + section // the placeholder section is replaced by the first run
                : existing.TrimEnd('\n') + "\n\n" + section;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, updated);
    }

    /// <summary>A goal's verdict in a report table.</summary>

    internal static string Met(bool ok) => ok ? "met" : "**missed**";


    /// <summary>The "- Machine: …" line every report of the harness starts with.</summary>

    internal static string MachineLine() => string.Create(CultureInfo.InvariantCulture,

        $"- Machine: {Environment.ProcessorCount} cores, {MachineModel()}, {Environment.OSVersion}; date {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");


    internal static string MachineModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }
}
