using System.Globalization;
using System.Text;

namespace QuantTrader.LoadTest.Failover;

/// <summary>The failover run's section of docs/benchmarks.md (between its own markers).</summary>
public static class FailoverReport
{
    public const string Begin = "<!-- failover:begin -->";
    public const string End = "<!-- failover:end -->";

    public static string Markdown(FailoverResult r, string commandLine)
    {
        var c = CultureInfo.InvariantCulture;
        var a = r.Audit;
        var sb = new StringBuilder();
        sb.AppendLine(Begin);
        sb.AppendLine("## Failover under load (issue 17)");
        sb.AppendLine();
        sb.AppendLine(Report.MachineLine());
        sb.AppendLine(c, $"- Command: `{commandLine}`");
        sb.AppendLine(c, $"- Three NATS nodes, two replicas of each stateful service (ingestor, kline, alert, paper engine, strategy runner, analytics); {r.Options.Rate:N0} trades/s for {r.Options.DurationSeconds} s; {r.Scenario}");
        sb.AppendLine();
        sb.AppendLine("| kill -9 | instance | partitions held | hand-over, s (each partition) |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var k in r.Kills)
        {
            var samples = k.HandOverSeconds.Count == 0 ? (k.Note.Length > 0 ? k.Note : "—")
                : string.Join(", ", k.HandOverSeconds.Select(s => s is { } v ? v.ToString("F1", c) : "never"));
            sb.AppendLine(c, $"| {k.Target} | {k.Instance} | {k.HandOverSeconds.Count} | {samples} |");
        }
        sb.AppendLine();
        sb.AppendLine("| check | result | goal | |");
        sb.AppendLine("|---|---|---|---|");
        sb.AppendLine(c, $"| trades lost / duplicated | {a.Lost:N0} / {a.Duplicated:N0} of {a.Expected:N0} | 0 / 0 | {Report.Met(a.Lost == 0 && a.Duplicated == 0)} |");
        sb.AppendLine(c, $"| closed 1m klines differing from a recomputation from stored trades | {a.KlinesDiffering} of {a.KlinesCompared} | 0 | {Report.Met(a.KlinesEqual)} |");
        sb.AppendLine(c, $"| alert firings: fired / expected | {a.AlertsFired} / {a.AlertsExpected} | equal | {Report.Met(a.AlertsFired == a.AlertsExpected)} |");
        sb.AppendLine(c, $"| alerts double: same rule + trigger / once rule again / webhook taking effect again (one firing under two idempotency keys) | {a.FiringsDoubledByTrigger} / {a.OnceRulesFiredAgain} / {a.WebhooksDeliveredAgain} | 0 | {Report.Met(a.AlertsDouble == 0)} |");
        sb.AppendLine(c, $"| webhooks never delivered | {a.WebhooksMissing} | 0 | {Report.Met(a.WebhooksMissing == 0)} |");
        sb.AppendLine(c, $"| fills double (order + print), of {a.Fills} | {a.FillsDouble} | 0 | {Report.Met(a.FillsDouble == 0)} |");
        sb.AppendLine(c, $"| prints filling resting orders beyond their quantity | {a.PrintsOverfilled} | 0 | {Report.Met(a.PrintsOverfilled == 0)} |");
        sb.AppendLine(c, $"| balances equal to opening + fills, exactly | {a.BalancesChecked - a.BalanceMismatches.Count} of {a.BalancesChecked} | all | {Report.Met(a.BalancesOk)} |");
        sb.AppendLine(c, $"| strategy: orders (one per kline seen) / klines closed while it ran / doubled | {a.StrategyOrders} / {a.StrategyKlinesClosed} / {a.StrategyOrdersDouble} | 0 doubled | {Report.Met(a.StrategyOrdersDouble == 0)} |");
        sb.AppendLine(c, $"| hand-over p99 (kill → lease taken by the survivor) | {r.HandOverP99:F1} s | | |");
        sb.AppendLine(c, $"| drive / drain time | {r.DriveTime.TotalSeconds:F0} s / {r.DrainTime.TotalSeconds:F0} s | | |");
        sb.AppendLine();
        sb.AppendLine(c, $"Final line: `{FailoverRun.FinalLine(r)}`");
        sb.AppendLine(End);
        return sb.ToString();
    }

    /// <summary>The lines printed before the final one: the kills and whatever failed.</summary>
    public static IEnumerable<string> Details(FailoverResult r)
    {
        foreach (var k in r.Kills)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"  killed {k.Target} ({k.Instance}): hand-over {(k.HandOverSeconds.Count == 0 ? "—" : string.Join(", ", k.HandOverSeconds.Select(s => s is { } v ? $"{v:F1} s" : "never")))}");
        }
        var a = r.Audit;
        yield return $"  trades {a.Expected:N0} sent, {a.Lost} lost, {a.Duplicated} duplicated; klines {a.KlinesDiffering} of {a.KlinesCompared} differ";
        yield return $"  alerts fired {a.AlertsFired} of {a.AlertsExpected} expected; doubled by trigger {a.FiringsDoubledByTrigger}, once rules again {a.OnceRulesFiredAgain}, webhooks taking effect again {a.WebhooksDeliveredAgain} (repeats on the wire, dropped by key: {a.WebhookRepeatsOnTheWire}), webhooks missing {a.WebhooksMissing}";
        yield return $"  fills {a.Fills} ({a.FillsDouble} double, {a.PrintsOverfilled} prints overfilled); balances {a.BalancesChecked - a.BalanceMismatches.Count} of {a.BalancesChecked} reconcile";
        foreach (var mismatch in a.BalanceMismatches.Take(10))
        {
            yield return "    " + mismatch;
        }
        yield return $"  strategy: {a.StrategyOrders} orders for {a.StrategyKlinesClosed} klines closed while it ran, {a.StrategyOrdersDouble} doubled";
        foreach (var problem in r.OtherProblems())
        {
            yield return "  problem: " + problem;
        }
    }
}
