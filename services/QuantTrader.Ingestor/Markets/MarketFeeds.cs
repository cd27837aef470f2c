using Microsoft.Extensions.Options;
using QuantTrader.Ingestor.Connectors;
using QuantTrader.Ingestor.Connectors.Binance;
using QuantTrader.Ingestor.Connectors.Okx;
using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.Ingestor.Publishing;
using QuantTrader.MarketData.Normalization;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.Ingestor.Markets;

/// <summary>Builds the <see cref="MarketFeed"/> of one exchange's markets: its connector over a pipeline of its own.</summary>
public sealed class MarketFeeds(
    IOptions<MarketDataOptions> options,
    BinanceMessageParser binanceParser,
    OkxMessageParser okxParser,
    TradePipelineFactory pipelines,
    IngestorMetrics metrics,
    ILoggerFactory loggers,
    TimeProvider time)
{
    public MarketFeed Create(string exchange, IReadOnlyList<Market> markets)
    {
        var pipeline = pipelines.Create(exchange);
        ExchangeConnector connector = exchange switch
        {
            Exchanges.Binance => new BinanceConnector(options.Value.Binance, markets, binanceParser, pipeline, metrics,
                loggers.CreateLogger<BinanceConnector>(), time),
            Exchanges.Okx => new OkxConnector(options.Value.Okx, markets, okxParser, pipeline, metrics,
                loggers.CreateLogger<OkxConnector>(), time),
            _ => throw new ArgumentOutOfRangeException(nameof(exchange), exchange, "No connector for this exchange."),
        };
        return new MarketFeed(connector, pipeline);
    }
}
