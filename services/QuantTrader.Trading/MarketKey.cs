using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Trading;

/// <summary>
/// One market: exchange and normalized symbol. A value, so it keys dictionaries as is and is never built into an
/// <c>"exchange:symbol"</c> string only to be split again; <see cref="ToString"/> gives that form for logs and traces.
/// </summary>
public readonly record struct MarketKey(string Exchange, string Symbol)
{
    public static MarketKey Of(Trade trade) => new(trade.Exchange, trade.Symbol);

    public static MarketKey Of(Instrument instrument) => new(instrument.Exchange, instrument.Symbol);

    public override string ToString() => $"{Exchange}:{Symbol}";
}
