using System.Diagnostics.Metrics;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.MarketData.Klines;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Kline.Aggregation;

/// <summary>
/// The aggregators of one partition's markets, one per (source, exchange, symbol), and the trade path into them. Used by
/// one input at a time (the partition's gate), so nothing here locks.
/// </summary>
public sealed class PartitionAggregators(int partition, KlinePublisher publisher, KlineOptions options, ILogger logger)
{
    private static readonly Counter<long> TradesCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.trades", description: "Trades aggregated");
    private static readonly Counter<long> LateCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.late_trades", description: "Trades dropped by at least one interval as late");
    private static readonly Counter<long> RejectedCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.rejected_trades", description: "Messages that were not valid trades");

    private readonly Dictionary<(string Source, string Exchange, string Symbol), MarketKlines> _markets = [];

    // Markets whose aggregator amended closed klines during the current message.
    private readonly List<MarketKlines> _amending = [];

    public int Partition => partition;

    public int Count => _markets.Count;

    public IEnumerable<MarketKlines> Markets => _markets.Values;

    /// <summary>True when a trade changed an aggregator since the last checkpoint.</summary>
    public bool Changed { get; private set; }

    public static void Rejected() => RejectedCounter.Add(1);

    public void Restore(IEnumerable<SavedAggregator> saved)
    {
        _markets.Clear();
        foreach (var s in saved)
        {
            var aggregator = NewAggregator(s.Source, s.Snapshot.Exchange, s.Snapshot.Symbol);
            aggregator.Restore(s.Snapshot);
            _markets[(s.Source, s.Snapshot.Exchange, s.Snapshot.Symbol)] = new MarketKlines(s.Source, aggregator);
        }
    }

    /// <summary>Aggregates one trade and publishes the klines it closed (almost always none).</summary>
    public async Task ApplyAsync(string source, Trade trade, ulong seq, DateTimeOffset now, CancellationToken ct)
    {
        var key = (source, trade.Exchange, trade.Symbol);
        if (!_markets.TryGetValue(key, out var market))
        {
            if (!Accepts(trade, seq))
            {
                RejectedCounter.Add(1);
                return;
            }

            market = new MarketKlines(source, NewAggregator(source, trade.Exchange, trade.Symbol));
            _markets[key] = market;
        }

        IReadOnlyList<KlineChange> closed;
        var lateBefore = market.Aggregator.LateTrades;
        try
        {
            // Only the klines this trade closed (almost always none, and then nothing is allocated); the open klines
            // are read on the open-update timer.
            closed = market.Aggregator.OnTradeQuiet(trade, trade.Count);
        }
        catch (ArgumentException ex)
        {
            RejectedCounter.Add(1);
            logger.LogWarning("Dropped trade {Seq} of {Exchange}:{Symbol}: {Reason}", seq, trade.Exchange, trade.Symbol, ex.Message);
            return;
        }

        TradesCounter.Add(1);
        if (market.Aggregator.HasAmendments && !_amending.Contains(market))
        {
            _amending.Add(market);
        }

        if (market.Aggregator.LateTrades > lateBefore)
        {
            LateCounter.Add(1);
            logger.LogDebug("Late trade {TradeId} of {Exchange}:{Symbol} at {Time}: dropped by the intervals closed beyond the amend window",
                trade.TradeId, trade.Exchange, trade.Symbol, trade.Time);
        }

        market.Dirty = true;
        Changed = true;
        market.LastInput = now;
        market.IdlePublished = false;
        market.OpenChanged = true;
        // Indexed: a foreach over the interface would allocate an enumerator on the trades that close something.
        for (var i = 0; i < closed.Count; i++)
        {
            await publisher.PublishClosedAsync(source, closed[i].Kline, ct);
        }
    }

    /// <summary>
    /// After the trades of one message: the closed klines its late trades amended, one amendment per kline however many
    /// of the message's trades it took (a backfill sends its trades in batches). Per message, so a replay of the same
    /// messages makes the same amendments; always before the next checkpoint, which therefore holds none pending.
    /// </summary>
    public async Task PublishAmendmentsAsync(CancellationToken ct)
    {
        foreach (var market in _amending)
        {
            foreach (var amendment in market.Aggregator.TakeAmendments())
            {
                await publisher.PublishAmendmentAsync(amendment, ct);
            }
        }

        _amending.Clear();
    }

    /// <summary>Live aggregators amend closed klines; history ones never (a late history trade is a re-import's overlap).</summary>
    private KlineAggregator NewAggregator(string source, string exchange, string symbol) =>
        new(exchange, symbol, amendWindow: source == KlineSources.Live ? options.AmendWindow : TimeSpan.Zero);

    /// <summary>The snapshots of the aggregators that changed since the last checkpoint (then taken as clean).</summary>
    public List<SavedAggregator> TakeChanged()
    {
        var changed = new List<SavedAggregator>();
        foreach (var market in _markets.Values)
        {
            if (market.Dirty)
            {
                changed.Add(new SavedAggregator(market.Source, market.Aggregator.Snapshot()));
            }
        }
        return changed;
    }

    /// <summary>After a successful checkpoint write.</summary>
    public void MarkSaved()
    {
        foreach (var market in _markets.Values)
        {
            market.Dirty = false;
        }
        Changed = false;
    }

    /// <summary>A new market of this partition: a plain name (names become checkpoint rows and subjects) that hashes here.</summary>
    private bool Accepts(Trade trade, ulong seq)
    {
        // Anything but a plain identifier (a NUL byte, a dot, a wildcard) would poison the checkpoint write and make every
        // restart replay into the same failure.
        if (!IsPlainName(trade.Exchange, lowerCase: true) || !IsPlainName(trade.Symbol, lowerCase: false))
        {
            logger.LogWarning("Dropped trade {Seq}: exchange or symbol is not a plain name", seq);
            return false;
        }

        // A market has one owner: a trade sent on another partition's subject would give it a second aggregator, and
        // two owners writing one snapshot row.
        if (Partitions.OfMarket(trade.Exchange, trade.Symbol) != partition)
        {
            logger.LogWarning("Dropped trade {Seq} of {Exchange}:{Symbol}: sent on partition {Partition}, not the market's", seq, trade.Exchange, trade.Symbol, partition);
            return false;
        }

        return true;
    }

    private static bool IsPlainName(string? name, bool lowerCase) =>
        name is { Length: > 0 and <= 32 } && name.All(c => char.IsAsciiDigit(c) || (lowerCase ? char.IsAsciiLetterLower(c) : char.IsAsciiLetterUpper(c)));
}
