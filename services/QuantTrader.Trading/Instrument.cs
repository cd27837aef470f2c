namespace QuantTrader.Trading;

/// <summary>
/// Exchange trading rules of one symbol, as the normalizer's table knows them.
/// A zero <see cref="TickSize"/> or <see cref="StepSize"/> means "no grid"; a zero <see cref="MinNotional"/> means no minimum.
/// </summary>
public sealed record InstrumentRules(decimal TickSize, decimal StepSize, decimal MinNotional)
{
    /// <summary>No tick, step or minimum notional: anything positive is accepted.</summary>
    public static InstrumentRules None { get; } = new(0m, 0m, 0m);
}

/// <summary>
/// One tradable market: where it trades, which assets a fill moves (base is bought/sold, quote pays and receives fees),
/// and its <see cref="InstrumentRules"/>.
/// </summary>
public sealed record Instrument(string Exchange, string Symbol, string BaseAsset, string QuoteAsset, InstrumentRules Rules)
{
    /// <summary>Key used by books and positions: <c>{exchange}:{SYMBOL}</c>, the same form as a trade's message id prefix.</summary>
    public string Key => $"{Exchange}:{Symbol}";
}

/// <summary>Maker and taker fee rates of one account, as fractions of notional (0.001 = 0.1 %).</summary>
public sealed record FeeRates(decimal Maker, decimal Taker)
{
    /// <summary>The platform default: 0.1 % maker, 0.1 % taker.</summary>
    public static FeeRates Default { get; } = new(0.001m, 0.001m);

    /// <summary>The higher of the two rates; what a reservation must cover when the role is not known yet.</summary>
    public decimal Highest => Math.Max(Maker, Taker);

    /// <summary>Rates outside [0, 1) would let a sell's fee exceed its proceeds, so they are refused early.</summary>
    public void EnsureValid()
    {
        if (Maker < 0m || Maker >= 1m || Taker < 0m || Taker >= 1m)
        {
            throw new ArgumentOutOfRangeException(nameof(FeeRates), this, "Fee rates must be in [0, 1).");
        }
    }
}
