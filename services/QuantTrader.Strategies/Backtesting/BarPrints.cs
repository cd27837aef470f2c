using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Strategies.Backtesting;

/// <summary>
/// The bar → prints model: what a backtest matches against when its range has no stored trades. A bar becomes four
/// prints, each a quarter of the bar's volume, in the order its shape suggests (as LEAN and NautilusTrader do):
/// <list type="bullet">
/// <item>a bar that closed at or above its open went down first: open → low → high → close;</item>
/// <item>a bar that closed below its open went up first: open → high → low → close.</item>
/// </list>
/// The prints are at the bar's open time, one third and two thirds of the way to its close time, and its close time;
/// their trade ids are consecutive from the id the caller gives (the backtester gives bar <c>i</c> the ids
/// <c>4i + 1 … 4i + 4</c>). A bar without volume traded nothing and gives no prints. Worked example in
/// docs/backtesting.md.
/// </summary>
public static class BarPrints
{
    /// <summary>Prints per bar.</summary>
    public const int PerBar = 4;

    /// <summary>The bar's four prints, or none for a bar without volume.</summary>
    public static Trade[] Of(Kline bar, long firstTradeId)
    {
        ArgumentNullException.ThrowIfNull(bar);
        if (bar.Volume <= 0m)
        {
            return [];
        }

        var (second, third) = bar.Close >= bar.Open ? (bar.Low, bar.High) : (bar.High, bar.Low);
        var quantity = bar.Volume / PerBar;
        var span = bar.CloseTime - bar.OpenTime;
        return
        [
            Print(bar, firstTradeId, bar.Open, quantity, bar.Close >= bar.Open ? TakerSide.Buy : TakerSide.Sell, bar.OpenTime),
            Print(bar, firstTradeId + 1, second, quantity, Direction(bar.Open, second), bar.OpenTime + (span / 3)),
            Print(bar, firstTradeId + 2, third, quantity, Direction(second, third), bar.OpenTime + (span * 2 / 3)),
            Print(bar, firstTradeId + 3, bar.Close, quantity, Direction(third, bar.Close), bar.CloseTime),
        ];
    }

    /// <summary>A print up from the one before was a buyer taking liquidity, down a seller.</summary>
    private static TakerSide Direction(decimal from, decimal to) => to >= from ? TakerSide.Buy : TakerSide.Sell;

    private static Trade Print(Kline bar, long tradeId, decimal price, decimal quantity, TakerSide side, DateTimeOffset time) =>
        new(bar.Exchange, bar.Symbol, tradeId, price, quantity, side, time);
}
