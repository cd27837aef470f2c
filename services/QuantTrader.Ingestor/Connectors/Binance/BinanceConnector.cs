using Microsoft.Extensions.Options;
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
    IOptions<MarketDataOptions> options,
    MarketCatalog catalog,
    BinanceMessageParser parser,
    TradePipelineFactory pipelines,
    IngestorMetrics metrics,
    ILogger<BinanceConnector> logger,
    TimeProvider time)
    : ExchangeConnector(Exchanges.Binance, options.Value.Binance, pipelines.Create(Exchanges.Binance), metrics, logger, time)
{
    protected override IReadOnlyList<Uri> ConnectionUris()
    {
        var binance = options.Value.Binance;
        var streams = catalog.Markets(Exchanges.Binance)
            .Select(m => $"{m.ExchangeSymbol.ToLowerInvariant()}@{binance.Stream}")
            .ToList();
        var perConnection = Math.Clamp(binance.MaxStreamsPerConnection, 1, 1024);
        return [.. streams.Chunk(perConnection).Select(chunk => new Uri($"{binance.StreamUrl}?streams={string.Join('/', chunk)}"))];
    }

    protected override ParseResult Parse(ReadOnlySpan<byte> frame) => parser.Parse(frame);
}
