using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Persistence.Ingest;

/// <summary>
/// The batch saver's instruments on the QuantTrader meter (the dashboard's Metrics tab): rows written per table
/// (its rate is rows/s), batch sizes, consumer lag and retries.
/// </summary>
public static class PersistenceMetrics
{
    private static readonly ConcurrentDictionary<string, long> Lag = new();

    public static readonly Counter<long> RowsWritten = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.persistence.rows_written", "{row}", "Rows committed to PostgreSQL, by table");

    public static readonly Histogram<int> BatchSize = QuantTraderTelemetry.Meter.CreateHistogram<int>(
        "quanttrader.persistence.batch_size", "{message}", "Messages per committed batch, by table");

    public static readonly Counter<long> Retries = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.persistence.retries", "{attempt}", "Batch writes retried because PostgreSQL failed, by table");

    public static readonly Counter<long> DeadLettered = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.persistence.dead_lettered", "{message}", "Poison messages sent to the dead-letter subject, by table");

    static PersistenceMetrics()
    {
        QuantTraderTelemetry.Meter.CreateObservableGauge(
            "quanttrader.persistence.consumer_lag",
            () => Lag.Select(l => new Measurement<long>(l.Value, new KeyValuePair<string, object?>("consumer", l.Key))),
            "{message}",
            "Messages in the stream not yet delivered to the consumer (JetStream num_pending)");
    }

    public static void ReportLag(string consumer, long pending) => Lag[consumer] = pending;

    public static KeyValuePair<string, object?> Table(string table) => new("table", table);
}
