namespace QuantTrader.MarketData.Normalization;

/// <summary>
/// One tradable spot instrument on one exchange.
/// <paramref name="Symbol"/> is the normalized name used everywhere downstream (<c>BTCUSDT</c>);
/// <paramref name="ExchangeSymbol"/> is how the exchange spells it (<c>BTCUSDT</c> on Binance, <c>BTC-USDT</c> on OKX).
/// </summary>
/// <param name="TickSize">Smallest price increment.</param>
/// <param name="StepSize">Smallest quantity increment (lot step).</param>
/// <param name="MinNotional">Smallest order value price × quantity, in the quote asset.</param>
public sealed record Instrument(
    string Exchange,
    string ExchangeSymbol,
    string Symbol,
    string BaseAsset,
    string QuoteAsset,
    decimal TickSize,
    decimal StepSize,
    decimal MinNotional);
