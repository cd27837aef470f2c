using QuantTrader.MarketData.Klines;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Kline.Aggregation;

/// <summary>One market's aggregator of one source (live or history) and what has been published of it.</summary>
public sealed class MarketKlines(string source, KlineAggregator aggregator)
{
    public string Source { get; } = source;

    public KlineAggregator Aggregator { get; } = aggregator;

    public bool IsLive => Source == KlineSources.Live;

    /// <summary>Changed since the partition's last checkpoint.</summary>
    public bool Dirty { get; set; }

    public DateTimeOffset LastInput { get; set; }

    /// <summary>History only: its last (still open) klines were published after the import went idle.</summary>
    public bool IdlePublished { get; set; } = true;

    /// <summary>A trade was aggregated since the last open update of this market.</summary>
    public bool OpenChanged { get; set; }

    public DateTimeOffset LastOpenPublish { get; set; } = DateTimeOffset.MinValue;

    /// <summary>This market's slot of the open-update period (stable: from the name, not the start order).</summary>
    public int Slot { get; } = (int)((uint)StableHash(aggregator.Exchange + ":" + aggregator.Symbol) % OpenUpdates.Slots);

    /// <summary>Per interval (in <see cref="KlineAggregator.Intervals"/> order), the open kline last published.</summary>
    public KlineRecord?[] LastOpenPublished { get; } = new KlineRecord?[aggregator.Intervals.Count];

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked(hash * 31 + c);
        }
        return hash;
    }
}

/// <summary>Where a trade came from: live trades and imported history never share an aggregator.</summary>
public static class KlineSources
{
    public const string Live = "live";
    public const string History = "history";

    /// <summary>Header on klines built from imported history: consumers that act on live data (alerts) skip them.</summary>
    public const string Header = "QuantTrader-Source";
}
