using Microsoft.Extensions.Options;
using QuantTrader.Ingestor.Backfill;
using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.Ingestor.Publishing;

/// <summary>Builds a <see cref="TradePipeline"/> for one exchange's markets of one partition, with that exchange's REST backfill.</summary>
public sealed class TradePipelineFactory(
    IEnumerable<ITradeBackfill> backfills,
    TradePublisher publisher,
    IngestorMetrics metrics,
    SymbolNormalizer symbols,
    IOptions<MarketDataOptions> options,
    ILoggerFactory loggers,
    TimeProvider time)
{
    public TradePipeline Create(string exchange) => new(
        exchange,
        backfills.Single(b => b.Exchange == exchange),
        publisher,
        metrics,
        symbols,
        options.Value.MaxBackfillTrades,
        loggers.CreateLogger($"QuantTrader.Ingestor.Pipeline.{exchange}"),
        time);
}
