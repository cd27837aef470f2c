using QuantTrader.Trading;

namespace QuantTrader.PaperEngine.Orders;

/// <summary>What the engine knows for a risk check and for pricing an order.</summary>
public sealed record AccountExposure(int OpenOrders, decimal PositionQuantity, decimal? LastPrice, decimal DailyPnl)
{
    /// <summary>
    /// Open orders, position and today's PnL (realized today, by the UTC day of <paramref name="now"/>, plus the
    /// unrealized PnL of every position at <paramref name="marks"/>) of a user in one market.
    /// </summary>
    public static AccountExposure Of(PaperExchange exchange, Guid userId, Instrument instrument, IReadOnlyDictionary<string, decimal> marks, DateTimeOffset now)
    {
        var book = exchange.GetBook(instrument.Exchange, instrument.Symbol)!;
        var portfolio = exchange.GetPortfolio(userId);
        var daily = portfolio.RealizedPnlOn(DateOnly.FromDateTime(now.UtcDateTime)) + portfolio.UnrealizedPnl(marks);
        return new AccountExposure(
            exchange.GetOpenOrders(userId).Count,
            portfolio.GetPosition(instrument.Exchange, instrument.Symbol).Quantity,
            book.LastPrice,
            daily);
    }
}
