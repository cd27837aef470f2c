namespace QuantTrader.Performance;

/// <summary>
/// Statistics of closed-trade PnLs (quote currency, after fees). A trade with PnL &gt; 0 is a win,
/// &lt; 0 a loss, = 0 break-even (counted in <see cref="NumberOfTrades"/> but neither wins nor losses).
/// </summary>
/// <param name="NumberOfTrades">Count of closed trades.</param>
/// <param name="Wins">Trades with PnL &gt; 0.</param>
/// <param name="Losses">Trades with PnL &lt; 0.</param>
/// <param name="WinRate">Wins / NumberOfTrades; null with no trades.</param>
/// <param name="GrossProfit">Σ winning PnLs (≥ 0).</param>
/// <param name="GrossLoss">|Σ losing PnLs| (≥ 0, a magnitude).</param>
/// <param name="NetProfit">Σ all PnLs = GrossProfit − GrossLoss.</param>
/// <param name="ProfitFactor">GrossProfit / GrossLoss; null when there is no loss.</param>
/// <param name="AverageWin">GrossProfit / Wins (≥ 0); null with no wins.</param>
/// <param name="AverageLoss">Mean PnL of losing trades (≤ 0, signed); null with no losses.</param>
/// <param name="PayoffRatio">AverageWin / |AverageLoss|; null unless both exist.</param>
/// <param name="Expectancy">NetProfit / NumberOfTrades, the mean PnL per trade; null with no trades.</param>
/// <param name="LargestWin">Maximum PnL among wins; null with no wins.</param>
/// <param name="LargestLoss">Minimum PnL among losses (signed, ≤ 0); null with no losses.</param>
public sealed record TradeStatistics(
    int NumberOfTrades,
    int Wins,
    int Losses,
    decimal? WinRate,
    decimal GrossProfit,
    decimal GrossLoss,
    decimal NetProfit,
    decimal? ProfitFactor,
    decimal? AverageWin,
    decimal? AverageLoss,
    decimal? PayoffRatio,
    decimal? Expectancy,
    decimal? LargestWin,
    decimal? LargestLoss)
{
    /// <summary>Computes the statistics of <paramref name="tradePnls"/> (any order).</summary>
    public static TradeStatistics From(IReadOnlyList<decimal> tradePnls)
    {
        ArgumentNullException.ThrowIfNull(tradePnls);
        int wins = 0, losses = 0;
        decimal grossProfit = 0m, grossLoss = 0m;
        decimal? largestWin = null, largestLoss = null;
        foreach (var pnl in tradePnls)
        {
            if (pnl > 0m)
            {
                wins++;
                grossProfit += pnl;
                largestWin = largestWin is { } w ? Math.Max(w, pnl) : pnl;
            }
            else if (pnl < 0m)
            {
                losses++;
                grossLoss -= pnl;
                largestLoss = largestLoss is { } l ? Math.Min(l, pnl) : pnl;
            }
        }

        var count = tradePnls.Count;
        decimal? averageWin = wins > 0 ? grossProfit / wins : null;
        decimal? averageLoss = losses > 0 ? -grossLoss / losses : null;
        return new TradeStatistics(
            NumberOfTrades: count,
            Wins: wins,
            Losses: losses,
            WinRate: count > 0 ? (decimal)wins / count : null,
            GrossProfit: grossProfit,
            GrossLoss: grossLoss,
            NetProfit: grossProfit - grossLoss,
            ProfitFactor: grossLoss > 0m ? grossProfit / grossLoss : null,
            AverageWin: averageWin,
            AverageLoss: averageLoss,
            PayoffRatio: averageWin is { } aw && averageLoss is { } al ? aw / -al : null,
            Expectancy: count > 0 ? (grossProfit - grossLoss) / count : null,
            LargestWin: largestWin,
            LargestLoss: largestLoss);
    }
}
