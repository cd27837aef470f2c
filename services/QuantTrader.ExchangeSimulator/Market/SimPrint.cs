using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Normalization;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.ExchangeSimulator.Market;

/// <summary>
/// One taker order's fills at one price: exchange trades <see cref="FirstTradeId"/>..<see cref="LastTradeId"/>.
/// Binance publishes it as one <c>aggTrade</c> (id <see cref="AggregateId"/>) or as single <c>trade</c>s; OKX as one
/// <c>trades</c> entry with <c>tradeId</c> = last and <c>count</c>.
/// </summary>
public sealed record SimPrint(
    string Exchange,
    Instrument Instrument,
    long AggregateId,
    long FirstTradeId,
    long LastTradeId,
    decimal Price,
    decimal Quantity,
    bool BuyerIsMaker,
    DateTimeOffset Time)
{
    public int Count => (int)(LastTradeId - FirstTradeId + 1);

    public TakerSide Side => BuyerIsMaker ? TakerSide.Sell : TakerSide.Buy;

    public long TimeMs => Time.ToUnixTimeMilliseconds();

    /// <summary>The single exchange trades, quantity split the way OKX's aggregation is expanded (exact sum).</summary>
    public IEnumerable<(long TradeId, decimal Quantity)> SingleTrades()
    {
        var parts = OkxMessageParser.SplitQuantity(Quantity, Count)!;
        for (var i = 0; i < parts.Length; i++)
        {
            yield return (FirstTradeId + i, parts[i]);
        }
    }

    /// <summary>
    /// What QuantTrader must publish for this print: Binance one trade per aggTrade (count = trades it stands for),
    /// OKX the expanded single trades.
    /// </summary>
    public IEnumerable<Trade> Normalized()
    {
        if (Exchange == Exchanges.Binance)
        {
            yield return new Trade(Exchange, Instrument.Symbol, AggregateId, Price, Quantity, Side, Time, Count);
            yield break;
        }

        foreach (var (id, quantity) in SingleTrades())
        {
            yield return new Trade(Exchange, Instrument.Symbol, id, Price, quantity, Side, Time);
        }
    }
}
