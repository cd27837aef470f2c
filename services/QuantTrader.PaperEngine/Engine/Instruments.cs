using QuantTrader.MarketData.Normalization;
using QuantTrader.Trading;
using Instrument = QuantTrader.Trading.Instrument;

namespace QuantTrader.PaperEngine.Engine;

/// <summary>The markets the engine trades: the normalizer's table (tick, step, minimum notional, base and quote).</summary>
public sealed class Instruments
{
    private readonly SymbolNormalizer _normalizer = SymbolNormalizer.CreateDefault();

    public Instruments()
    {
        All = [.. _normalizer.All.Select(i => new Instrument(i.Exchange, i.Symbol, i.BaseAsset, i.QuoteAsset,
            new InstrumentRules(i.TickSize, i.StepSize, i.MinNotional)))];
    }

    public IReadOnlyList<Instrument> All { get; }

    public bool IsKnownExchange(string exchange) => _normalizer.IsKnownExchange(exchange);

    public IReadOnlyList<string> Exchanges => _normalizer.KnownExchanges;

    /// <summary>Finds a market by normalized symbol (<c>BTCUSDT</c>) or the exchange's spelling (<c>BTC-USDT</c>, <c>btcusdt</c>).</summary>
    public Instrument? Find(string exchange, string symbol)
    {
        if (_normalizer.TryGet(exchange, symbol.ToUpperInvariant(), out var found) || _normalizer.TryNormalize(exchange, symbol, out found))
        {
            return All.First(i => i.Exchange == found.Exchange && i.Symbol == found.Symbol);
        }

        return null;
    }
}
