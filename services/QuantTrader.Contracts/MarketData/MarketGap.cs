namespace QuantTrader.Contracts.MarketData;

/// <summary>
/// Trades the ingestor knows it missed and could not backfill (ids <paramref name="FromTradeId"/>..<paramref name="ToTradeId"/>),
/// published on <c>market.gap.{exchange}.{SYMBOL}</c> so the hole is visible downstream, never silent.
/// </summary>
public sealed record MarketGap(
    string Exchange,
    string Symbol,
    long FromTradeId,
    long ToTradeId,
    DateTimeOffset DetectedAt,
    string Reason);
