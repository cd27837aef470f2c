namespace QuantTrader.Contracts.Messaging;

/// <summary>Headers of the closed klines in MARKET_KLINE (docs/klines.md).</summary>
public static class KlineHeaders
{
    /// <summary>
    /// On an amended close only: the amendment number (1, 2, …) of a closed kline re-published with late trades added.
    /// Storage keeps the highest number; consumers that act on a close (alerts, strategies) skip amendments, because
    /// they already acted on the original close.
    /// </summary>
    public const string Amendment = "QuantTrader-Amendment";

    /// <summary>The amendment number carried by <see cref="Amendment"/>; 0 for the original close (no header or not a number).</summary>
    public static int AmendmentOf(string? header) =>
        int.TryParse(header, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 0;
}
