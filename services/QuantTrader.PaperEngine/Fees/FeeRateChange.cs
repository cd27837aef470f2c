using QuantTrader.Trading;

namespace QuantTrader.PaperEngine.Fees;

/// <summary>A user's change of their fee rates (PUT /api/v1/fees): a rate left out keeps its current value.</summary>
public sealed record FeeRateChange(decimal? Maker, decimal? Taker)
{
    public FeeRates AppliedTo(FeeRates current) => new(Maker ?? current.Maker, Taker ?? current.Taker);
}
