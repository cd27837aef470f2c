namespace QuantTrader.Performance;

/// <summary>Account equity (cash + marked-to-market positions) at the end of one period.</summary>
/// <param name="Time">End of the period.</param>
/// <param name="Equity">Equity in quote currency; the first point is the starting capital.</param>
public sealed record EquityPoint(DateTimeOffset Time, decimal Equity);
