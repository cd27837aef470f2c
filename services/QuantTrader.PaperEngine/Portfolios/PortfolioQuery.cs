using QuantTrader.Trading;
using QuantTrader.Trading.Accounts;
using QuantTrader.Trading.Positions;

namespace QuantTrader.PaperEngine.Portfolios;

public sealed record BalanceView(string Asset, decimal Free, decimal Locked);

public sealed record PositionView(string Exchange, string Symbol, decimal Quantity, decimal AverageEntryPrice, decimal UnrealizedPnl);

public sealed record FeeView(string Asset, decimal Paid);

/// <summary>GET /api/v1/portfolio: balances, positions and equity valued in <see cref="ValuationAsset"/>.</summary>
public sealed record PortfolioView(
    IReadOnlyList<BalanceView> Balances,
    IReadOnlyList<PositionView> Positions,
    decimal Equity,
    decimal RealizedPnl,
    string ValuationAsset,
    IReadOnlyList<FeeView> FeesPaid,
    FeeRates FeeRates);

/// <summary>A user's portfolio as the API shows it, read from the engine's state on the engine's thread.</summary>
public static class PortfolioQuery
{
    /// <param name="exchange">The engine's state.</param>
    /// <param name="userId">Whose portfolio.</param>
    /// <param name="marks">Last price per market (<see cref="Instrument.Key"/>): prices open positions.</param>
    /// <param name="assetPrices">Each asset's price in <paramref name="valuationAsset"/>: values the balances.</param>
    /// <param name="valuationAsset">The asset equity is given in.</param>
    public static PortfolioView Of(PaperExchange exchange, Guid userId, IReadOnlyDictionary<string, decimal> marks,
        IReadOnlyDictionary<string, decimal> assetPrices, string valuationAsset)
    {
        var portfolio = exchange.GetPortfolio(userId);
        IReadOnlyList<AssetBalance> balances = exchange.Ledger.GetBalances(userId);
        var equity = Portfolio.Value(balances, valuationAsset, assetPrices);
        return new PortfolioView(
            [.. balances.Select(b => new BalanceView(b.Asset, b.Free, b.Locked))],
            [.. portfolio.OpenPositions.Select(p => new PositionView(p.Exchange, p.Symbol, p.Quantity, p.AverageEntryPrice,
                marks.TryGetValue(Portfolio.Key(p.Exchange, p.Symbol), out var mark) ? p.UnrealizedPnl(mark) : 0m))],
            equity.Value,
            portfolio.RealizedPnl,
            equity.Asset,
            [.. exchange.Ledger.GetFeesPaid(userId).Select(f => new FeeView(f.Asset, f.Free))],
            exchange.GetFeeRates(userId));
    }
}
