namespace QuantTrader.Contracts.MarketData;

/// <summary>Which side took liquidity: <c>Buy</c> means the buyer was the taker (Binance <c>m = false</c>).</summary>
public enum TakerSide
{
    Buy,
    Sell,
}

/// <summary>
/// One normalized trade, as published on <c>market.raw.{exchange}.{SYMBOL}</c>.
/// <paramref name="Time"/> is the exchange's trade time; everything downstream keys on it, never on arrival.
/// <paramref name="Count"/> is how many exchange trades this print stands for (a Binance aggTrade: l − f + 1),
/// so klines count trades the way the exchange does.
/// </summary>
public sealed record Trade(
    string Exchange,
    string Symbol,
    long TradeId,
    decimal Price,
    decimal Quantity,
    TakerSide Side,
    DateTimeOffset Time,
    int Count = 1)
{
    /// <summary>JetStream de-duplication id: a re-sent trade after a reconnect is dropped by the server.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string MessageId => $"{Exchange}:{Symbol}:{TradeId}";
}
