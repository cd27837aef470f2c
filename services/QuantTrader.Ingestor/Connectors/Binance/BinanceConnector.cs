using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.Ingestor.Markets;
using QuantTrader.Ingestor.Publishing;
using QuantTrader.MarketData.Normalization;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.Ingestor.Connectors.Binance;

/// <summary>
/// Binance spot combined streams: <c>{StreamUrl}?streams=btcusdt@aggTrade/ethusdt@aggTrade</c>, at most 1024 streams
/// per connection (more symbols: more connections). Nothing is sent in normal operation (the streams are in the URL;
/// server pings are answered by the WebSocket layer), and anything we do send goes through the rate gate.
/// </summary>
public sealed class BinanceConnector(
    MarketDataOptions.BinanceOptions options,
    IReadOnlyList<Market> markets,
    BinanceMessageParser parser,
    TradePipeline pipeline,
    IngestorMetrics metrics,
    ILogger logger,
    TimeProvider time)
    : ExchangeConnector(Exchanges.Binance, markets, options, pipeline, metrics, logger, time)
{
    protected override IReadOnlyList<FeedShard> Shards()
    {
        var perConnection = Math.Clamp(options.MaxStreamsPerConnection, 1, 1024);
        return [.. Markets.Chunk(perConnection).Select(chunk => new FeedShard(
            new Uri($"{options.StreamUrl}?streams={string.Join('/', chunk.Select(m => $"{m.ExchangeSymbol.ToLowerInvariant()}@{options.Stream}"))}"),
            chunk))];
    }

    protected override ParseResult Parse(ReadOnlySpan<byte> frame) => parser.Parse(frame);
}
