namespace QuantTrader.Contracts.MarketData;

/// <summary>
/// A candle over [<paramref name="OpenTime"/>, <paramref name="CloseTime"/>], in Binance's convention
/// (close time = open time + interval − 1 ms). <paramref name="Closed"/> is false for the in-progress kline.
/// </summary>
public sealed record Kline(
    string Exchange,
    string Symbol,
    string Interval,
    DateTimeOffset OpenTime,
    DateTimeOffset CloseTime,
    decimal Open,
    decimal High,
    decimal Low,
    decimal Close,
    decimal Volume,
    decimal QuoteVolume,
    long Trades,
    decimal TakerBuyVolume,
    decimal TakerBuyQuoteVolume,
    bool Closed);
