using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Ingestor.Diagnostics;

/// <summary>
/// Counters of everything the ingestor must never do silently: reconnects (with reason), rejected frames (by kind),
/// duplicates dropped, gaps found, filled and not filled. Exported as OpenTelemetry metrics and readable at
/// <c>GET /ingestion/status</c> (service-internal, not routed by the gateway).
/// </summary>
public sealed class IngestorMetrics
{
    private readonly Counter<long> _published = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.ingestor.trades.published", "{trade}");
    private readonly Counter<long> _duplicates = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.ingestor.trades.duplicates", "{trade}");
    private readonly Counter<long> _reconnects = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.ingestor.reconnects", "{reconnect}");
    private readonly Counter<long> _rejected = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.ingestor.frames.rejected", "{frame}");
    private readonly Counter<long> _gaps = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.ingestor.gaps", "{gap}");
    private readonly Counter<long> _backfilled = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.ingestor.trades.backfilled", "{trade}");
    private readonly Counter<long> _unfilled = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.ingestor.trades.unfilled", "{trade}");
    private readonly Counter<long> _exchangeErrors = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.ingestor.exchange.errors", "{error}");
    private readonly ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);

    public void Published(string exchange, int count) => Add(_published, exchange, "published", count);

    public void Duplicate(string exchange) => Add(_duplicates, exchange, "duplicates", 1);

    public void Reconnect(string exchange, string reason)
    {
        _reconnects.Add(1, new("exchange", exchange), new("reason", reason));
        Bump($"{exchange}.reconnects");
        Bump($"{exchange}.reconnects.{reason}");
    }

    public void Rejected(string exchange, string kind)
    {
        _rejected.Add(1, new("exchange", exchange), new("kind", kind));
        Bump($"{exchange}.rejected");
        Bump($"{exchange}.rejected.{kind}");
    }

    public void Gap(string exchange) => Add(_gaps, exchange, "gaps", 1);

    public void Backfilled(string exchange, int count) => Add(_backfilled, exchange, "backfilled", count);

    public void Unfilled(string exchange, long count) => Add(_unfilled, exchange, "unfilled", count);

    public void ExchangeError(string exchange, string? code)
    {
        _exchangeErrors.Add(1, new("exchange", exchange), new("code", code));
        Bump($"{exchange}.exchange_errors");
    }

    /// <summary>Totals since start, keyed <c>{exchange}.{counter}[.{reason|kind}]</c>.</summary>
    public IReadOnlyDictionary<string, long> Snapshot() => new SortedDictionary<string, long>(_totals, StringComparer.Ordinal);

    private void Add(Counter<long> counter, string exchange, string name, long value)
    {
        counter.Add(value, new KeyValuePair<string, object?>("exchange", exchange));
        _totals.AddOrUpdate($"{exchange}.{name}", value, (_, v) => v + value);
    }

    private void Bump(string key) => _totals.AddOrUpdate(key, 1, (_, v) => v + 1);
}
