using QuantTrader.MarketData.Normalization;
using QuantTrader.StrategyRunner.Runner;
using Instrument = QuantTrader.Trading.Instrument;
using InstrumentRules = QuantTrader.Trading.InstrumentRules;

namespace QuantTrader.StrategyRunner.Backtests;

/// <summary>
/// The market a backtest trades, as the paper engine knows it: the normalizer's table (assets, tick, step, minimum
/// notional), the same table the paper engine validates orders against. A symbol the table does not list (a test's
/// or an imported market) gets its quote asset from the symbol's suffix and no exchange rules.
/// </summary>
public sealed class BacktestMarkets
{
    private readonly SymbolNormalizer _normalizer = SymbolNormalizer.CreateDefault();

    public Instrument Find(string exchange, string symbol)
    {
        if (_normalizer.TryGet(exchange, symbol, out var known))
        {
            return new Instrument(known.Exchange, known.Symbol, known.BaseAsset, known.QuoteAsset,
                new InstrumentRules(known.TickSize, known.StepSize, known.MinNotional));
        }
        var quote = QuoteBalanceSource.QuoteAssetOf(symbol) ?? "QUOTE";
        var baseAsset = symbol.EndsWith(quote, StringComparison.Ordinal) && symbol.Length > quote.Length ? symbol[..^quote.Length] : "BASE";
        return new Instrument(exchange, symbol, baseAsset, quote, InstrumentRules.None);
    }
}
