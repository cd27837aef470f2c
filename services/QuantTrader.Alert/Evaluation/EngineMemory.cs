namespace QuantTrader.Alert.Evaluation;

/// <summary>
/// What the engine remembers of its markets that the rules' stored state does not hold and a replay from the
/// partition's checkpoint could not rebuild (docs/alerts.md § Replicas): each market's last price (the side a crossing
/// rule starts on), each percent-change window's past prices and last change, and the last closed kline fed to each
/// indicator series (so a new owner warms up to there and replays the rest). Saved with the checkpoint, as of the
/// same point in the streams.
/// </summary>
public sealed record EngineMemory(IReadOnlyList<MarketMemory> Markets, IReadOnlyList<SeriesMemory> Series)
{
    public static readonly EngineMemory Empty = new([], []);
}

public sealed record MarketMemory(string Exchange, string Symbol, decimal? LastPrice, IReadOnlyList<WindowMemory> Windows);

/// <summary>One percent-change window: its length in ticks, the last change it measured, its bucketed past prices.</summary>
public sealed record WindowMemory(long WindowTicks, decimal? LastChange, IReadOnlyList<PricePoint> Prices);

public sealed record PricePoint(long Ticks, decimal Price);

/// <summary>The open time of the last closed kline an indicator series of a market and interval was fed.</summary>
public sealed record SeriesMemory(string Exchange, string Symbol, string Interval, DateTimeOffset LastBar);
