using QuantTrader.Contracts.Trading;

namespace QuantTrader.Trading.Matching;

/// <summary>
/// What one engine call changed: the fills it made (in priority order) and the new state of every order it touched
/// (one event per order, after all of the call's changes; <see cref="PaperExchange.OnTrades"/> of several prints has
/// one per print that changed the order, in order).
/// </summary>
public sealed record MatchResult(IReadOnlyList<FillEvent> Fills, IReadOnlyList<OrderEvent> Updates)
{
    /// <summary>Nothing changed (e.g. a trade already processed, or a trade of another symbol).</summary>
    public static MatchResult Empty { get; } = new([], []);
}
