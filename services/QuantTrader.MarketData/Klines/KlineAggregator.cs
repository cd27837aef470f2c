using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.MarketData.Klines;

/// <summary>
/// Builds klines for one (exchange, symbol) from its trades, for every interval at once, the way Binance does:
/// <list type="bullet">
/// <item>A trade belongs to the window <c>[openTime, openTime + interval)</c> that contains its exchange time; windows are
/// aligned to the Unix epoch (UTC midnight for 1d, 00:00/04:00/… for 4h). Close time = openTime + interval − 1 ms.</item>
/// <item>Open/close are the first/last trade in arrival order, which for one exchange stream is the exchange's own
/// sequence; high/low, volume, quote volume (Σ price × quantity), trade count and the taker-buy volumes
/// (trades with <see cref="TakerSide.Buy"/>) accumulate.</item>
/// <item>A window without trades still gets a kline: volume 0 and O = H = L = C = the previous close, emitted as
/// <see cref="KlineChangeKind.ClosedEmpty"/> once a later trade or the clock passes it.</item>
/// <item>A kline closes when a trade of a later window arrives (<see cref="OnTrade"/>) or when the clock passes its end
/// plus the allowed lateness (<see cref="OnClock"/>).</item>
/// </list>
/// <para>
/// Late-trade rule: once an interval has moved past a window (a later window is open, or the window was closed by
/// either path), that window is final. A trade that falls in it is dropped for that interval and counted in
/// <see cref="LateTradesFor"/>; it still counts for the longer intervals whose window is open. <see cref="LateTrades"/>
/// counts trades dropped by at least one interval.
/// </para>
/// <para>
/// Amended closes (only with an <c>amendWindow</c> above zero): an interval keeps its closed windows whose end lies
/// within the amend window of the aggregator's horizon (the latest window end any interval has closed). A late trade
/// of such a window is not dropped: it is added to that closed kline exactly as it would have been had the window still
/// been open (arrival order: it becomes the close), empty klines after it that carried its old close as their price
/// follow it, and the kline is handed out by <see cref="TakeAmendments"/> with its amendment number (1, 2, …). The
/// horizon moves only with closes, which are inputs a replay reproduces (trades) or checkpoints (the clock), and the
/// kept windows are part of <see cref="Snapshot"/>, so a replay from a snapshot makes the same amendments.
/// </para>
/// <para>
/// Deterministic: the output depends only on the trades, their order and the clock values passed in, never on
/// the wall clock, so replaying the same input yields the same klines. Not thread-safe: one aggregator per symbol,
/// fed from one consumer.
/// </para>
/// </summary>
public sealed class KlineAggregator
{
    /// <summary>
    /// At most this many empty klines are emitted for one gap of one interval (100 000 one-minute klines are about
    /// 69 days); the rest are skipped and counted in <see cref="SkippedEmptyKlines"/> so a corrupt far-future timestamp
    /// cannot make the service allocate without bound.
    /// </summary>
    public const int DefaultMaxEmptyKlinesPerGap = 100_000;

    private static readonly long UnixEpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;
    private static readonly TimeSpan OneMillisecond = TimeSpan.FromMilliseconds(1);

    private readonly IntervalState[] _intervals;
    private readonly string[] _intervalNames;
    private readonly int _maxEmptyKlinesPerGap;
    private readonly long _amendWindowTicks;

    // Closed windows amended by late trades since the last TakeAmendments, in the order they were first amended.
    private readonly List<(IntervalState State, ClosedWindow Window)> _pendingAmendments = [];

    // Running sums over every trade since the last rebase, shared by all intervals: a trade costs these 2–4 decimal
    // additions once instead of once per interval. An interval's window sum is the running sum minus its base (the
    // running sum when the window opened); see IntervalState.
    private decimal _sumVolume;
    private decimal _sumQuoteVolume;
    private decimal _sumTakerBuyVolume;
    private decimal _sumTakerBuyQuoteVolume;

    /// <param name="intervals">Interval names from <see cref="KlineIntervals.All"/>; all of them when null.</param>
    /// <param name="amendWindow">How long after the horizon a closed window still takes late trades as amendments
    /// (class remarks); zero (the default): never, every late trade is dropped.</param>
    public KlineAggregator(
        string exchange,
        string symbol,
        IEnumerable<string>? intervals = null,
        int maxEmptyKlinesPerGap = DefaultMaxEmptyKlinesPerGap,
        TimeSpan amendWindow = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(exchange);
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        ArgumentOutOfRangeException.ThrowIfNegative(maxEmptyKlinesPerGap);
        ArgumentOutOfRangeException.ThrowIfLessThan(amendWindow, TimeSpan.Zero);
        Exchange = exchange;
        Symbol = symbol;
        _maxEmptyKlinesPerGap = maxEmptyKlinesPerGap;
        _amendWindowTicks = amendWindow.Ticks;

        var names = (intervals ?? KlineIntervals.All.Keys).Distinct(StringComparer.Ordinal).ToList();
        foreach (var name in names)
        {
            if (!KlineIntervals.IsKnown(name))
            {
                throw new ArgumentException(
                    $"Unknown interval '{name}'; known: {string.Join(", ", KlineIntervals.All.Keys)}.", nameof(intervals));
            }
        }

        if (names.Count == 0)
        {
            throw new ArgumentException("At least one interval is required.", nameof(intervals));
        }

        // Shortest first: the order of the changes returned is part of the deterministic output.
        _intervals = [.. names
            .Select(n => new IntervalState(n, KlineIntervals.All[n]))
            .OrderBy(s => s.Length)];

        _intervalNames = [.. _intervals.Select(s => s.Name)];
    }

    public string Exchange { get; }

    public string Symbol { get; }

    /// <summary>The intervals aggregated, shortest first.</summary>
    public IReadOnlyList<string> Intervals => _intervalNames;

    /// <summary>Trades dropped by at least one interval because that interval's window had already closed.</summary>
    public long LateTrades { get; private set; }

    /// <summary>Trades added to at least one closed kline as an amendment (not dropped).</summary>
    public long AmendedTrades { get; private set; }

    /// <summary>How long a closed window takes late trades as amendments; zero when amendments are off.</summary>
    public TimeSpan AmendWindow => TimeSpan.FromTicks(_amendWindowTicks);

    /// <summary>True when closed klines were amended since the last <see cref="TakeAmendments"/>.</summary>
    public bool HasAmendments => _pendingAmendments.Count > 0;

    /// <summary>Empty klines not emitted because a gap exceeded the per-gap limit.</summary>
    public long SkippedEmptyKlines { get; private set; }

    /// <summary>Trades dropped by <paramref name="interval"/> under the late-trade rule.</summary>
    public long LateTradesFor(string interval) => State(interval).LateTrades;

    /// <summary>The in-progress kline of <paramref name="interval"/>, or null when none is open.</summary>
    /// <remarks>Built on demand: pair it with <see cref="OnTradeQuiet"/> to publish open klines only when wanted.</remarks>
    public Kline? OpenKline(string interval)
    {
        var state = State(interval);
        return state.HasOpen ? ToKline(state, closed: false) : null;
    }

    /// <summary>Adds a parsed exchange trade with the number of exchange trades it stands for.</summary>
    public IReadOnlyList<KlineChange> OnTrade(ParsedTrade trade)
    {
        ArgumentNullException.ThrowIfNull(trade);
        return OnTrade(trade.Trade, trade.TradeCount);
    }

    /// <summary>
    /// Adds one trade. <paramref name="tradeCount"/> is how many exchange trades it stands for (a Binance aggTrade
    /// covers <c>l − f + 1</c>), added to the kline trade count.
    /// </summary>
    /// <returns>Per interval, shortest first: klines this trade closed (oldest first, empty ones included), then the
    /// updated open kline. An interval that dropped the trade as late contributes nothing.</returns>
    /// <remarks>
    /// Every call builds a <see cref="Kline"/> and a <see cref="KlineChange"/> per interval for the updated open
    /// klines (about 2 KB for 8 intervals). A consumer that publishes open klines only now and then should call
    /// <see cref="OnTradeQuiet"/> and ask <see cref="OpenKline"/> when it publishes: same state, same closed klines.
    /// </remarks>
    public IReadOnlyList<KlineChange> OnTrade(Trade trade, int tradeCount = 1)
    {
        Check(trade, tradeCount);
        var changes = new List<KlineChange>(_intervals.Length);
        Apply(trade, tradeCount, changes, publishUpdates: true);
        return changes;
    }

    /// <summary>
    /// Adds one trade exactly like <see cref="OnTrade(Trade, int)"/>, but returns only the klines it closed
    /// (<see cref="KlineChangeKind.Closed"/> and <see cref="KlineChangeKind.ClosedEmpty"/>, in the same order as
    /// <see cref="OnTrade(Trade, int)"/> lists them), without the per-interval <see cref="KlineChangeKind.Updated"/>
    /// records. When nothing closed (almost every trade) the result is a shared empty list and nothing is allocated.
    /// The open klines are read with <see cref="OpenKline"/> when they are to be published.
    /// </summary>
    public IReadOnlyList<KlineChange> OnTradeQuiet(Trade trade, int tradeCount = 1)
    {
        Check(trade, tradeCount);
        return Apply(trade, tradeCount, changes: null, publishUpdates: false) ?? (IReadOnlyList<KlineChange>)[];
    }

    private void Check(Trade trade, int tradeCount)
    {
        ArgumentNullException.ThrowIfNull(trade);
        if (!string.Equals(trade.Exchange, Exchange, StringComparison.Ordinal)
            || !string.Equals(trade.Symbol, Symbol, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Trade of {trade.Exchange}:{trade.Symbol} given to the aggregator of {Exchange}:{Symbol}.", nameof(trade));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trade.Price);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trade.Quantity);
        ArgumentOutOfRangeException.ThrowIfLessThan(tradeCount, 1);
    }

    /// <summary>
    /// The one trade path. <paramref name="changes"/> is created on the first closed kline when null; updated open
    /// klines are materialized only when <paramref name="publishUpdates"/>.
    /// </summary>
    private List<KlineChange>? Apply(Trade trade, int tradeCount, List<KlineChange>? changes, bool publishUpdates)
    {
        var price = trade.Price;
        var quantity = trade.Quantity;
        var takerBuy = trade.Side == TakerSide.Buy;
        var ticks = trade.Time.UtcTicks;

        // Once per trade, not once per interval: the notional, and the scales the window sums must keep.
        var notional = price * quantity;
        var quantityScale = quantity.Scale;
        var notionalScale = notional.Scale;
        var late = false;
        var amended = false;
        var rebase = false;
        foreach (var state in _intervals)
        {
            // The common case: the trade falls in the open window. Two compares instead of a division.
            if (!state.HasOpen || ticks < state.OpenTicks || ticks >= state.EndTicks)
            {
                var windowStart = WindowStartTicks(ticks, state.LengthTicks);
                if (state.HasOpen && windowStart > state.OpenTicks)
                {
                    (changes ??= new List<KlineChange>(_intervals.Length)).Add(
                        new KlineChange(CloseOpen(state), KlineChangeKind.Closed));
                }

                if (!state.HasOpen)
                {
                    if (state.HasLastClosed && windowStart <= state.LastClosedOpenTicks)
                    {
                        if (AmendOrDrop(state, windowStart, trade, tradeCount, notional, takerBuy))
                        {
                            amended = true;
                        }
                        else
                        {
                            late = true;
                        }

                        continue;
                    }

                    changes = EmitEmpty(state, windowStart, changes);
                    state.Start(windowStart, price, this);

                    // The longest interval opened a window: a cheap moment to keep the running sums as small as
                    // one window of the longest interval (see Rebase).
                    rebase |= ReferenceEquals(state, _intervals[^1]);
                }
                else
                {
                    // windowStart < the open window: that window's interval has moved past it.
                    if (AmendOrDrop(state, windowStart, trade, tradeCount, notional, takerBuy))
                    {
                        amended = true;
                    }
                    else
                    {
                        late = true;
                    }

                    continue;
                }
            }

            if (price > state.High)
            {
                state.High = price;
            }
            else if (price < state.Low)
            {
                state.Low = price;
            }

            state.Close = price;
            state.Trades += tradeCount;

            // The window sums' scales (what a per-window decimal sum would have): the largest of its trades'.
            if (quantityScale > state.VolumeScale)
            {
                state.VolumeScale = quantityScale;
            }

            if (notionalScale > state.QuoteVolumeScale)
            {
                state.QuoteVolumeScale = notionalScale;
            }

            if (takerBuy)
            {
                if (quantityScale > state.TakerBuyVolumeScale)
                {
                    state.TakerBuyVolumeScale = quantityScale;
                }

                if (notionalScale > state.TakerBuyQuoteVolumeScale)
                {
                    state.TakerBuyQuoteVolumeScale = notionalScale;
                }
            }

            if (publishUpdates)
            {
                // OnTrade lists each interval's updated kline right after its closes, but the running sums take
                // the trade only after this loop: reserve the slot here, fill it once the sums are final.
                state.UpdateSlot = changes!.Count;
                changes.Add(null!);
            }
        }

        if (rebase)
        {
            Rebase();
        }

        _sumVolume += quantity;
        _sumQuoteVolume += notional;
        if (takerBuy)
        {
            _sumTakerBuyVolume += quantity;
            _sumTakerBuyQuoteVolume += notional;
        }

        if (publishUpdates)
        {
            foreach (var state in _intervals)
            {
                if (state.UpdateSlot >= 0)
                {
                    changes![state.UpdateSlot] = new KlineChange(ToKline(state, closed: false), KlineChangeKind.Updated);
                    state.UpdateSlot = -1;
                }
            }
        }

        if (late)
        {
            LateTrades++;
        }

        if (amended)
        {
            AmendedTrades++;
        }

        return changes;
    }

    /// <summary>
    /// A trade of a window <paramref name="state"/>'s interval has closed: added to that closed kline when it is still
    /// kept and within the amend window (true), else dropped and counted (false). Either way the open window's sums
    /// leave it out.
    /// </summary>
    private bool AmendOrDrop(IntervalState state, long windowStart, Trade trade, int tradeCount, decimal notional, bool takerBuy)
    {
        var window = _amendWindowTicks > 0 ? state.Kept(windowStart) : null;
        if (window is null || window.OpenTicks + state.LengthTicks + _amendWindowTicks <= Horizon())
        {
            Drop(state, trade.Quantity, notional, takerBuy);
            return false;
        }

        Exclude(state, trade.Quantity, notional, takerBuy);
        window.Add(trade.Price, trade.Quantity, notional, takerBuy, tradeCount);
        Pending(state, window);

        // Had the trade been in time, the empty klines after its window (O = H = L = C = the previous close) would carry
        // its new close, and so would the empty klines still to come: they follow it.
        var close = window.Close;
        for (var next = state.Kept(window.OpenTicks + state.LengthTicks); next is { Trades: 0 } && next.Close != close;
             next = state.Kept(next.OpenTicks + state.LengthTicks))
        {
            next.Open = next.High = next.Low = next.Close = close;
            Pending(state, next);
            window = next;
        }

        if (window.OpenTicks == state.LastClosedOpenTicks)
        {
            state.LastClose = close;
        }

        return true;
    }

    private void Pending(IntervalState state, ClosedWindow window)
    {
        if (window.PendingTrades++ == 0)
        {
            _pendingAmendments.Add((state, window));
        }
    }

    /// <summary>The latest window end any interval has closed: how far the aggregator's closes have come.</summary>
    private long Horizon()
    {
        var horizon = long.MinValue;
        foreach (var state in _intervals)
        {
            if (state.HasLastClosed)
            {
                horizon = Math.Max(horizon, state.LastClosedOpenTicks + state.LengthTicks);
            }
        }
        return horizon;
    }

    /// <summary>
    /// The closed klines amended by late trades since the last call, each once with its next amendment number, in the
    /// order they were first amended (deterministic). Take them after every input that may amend (the trades of a
    /// message) and before a <see cref="Snapshot"/>: amendments not yet taken are not part of the snapshot.
    /// </summary>
    public IReadOnlyList<KlineAmendment> TakeAmendments()
    {
        if (_pendingAmendments.Count == 0)
        {
            return [];
        }

        var amendments = new List<KlineAmendment>(_pendingAmendments.Count);
        foreach (var (state, window) in _pendingAmendments)
        {
            window.Amendments++;
            amendments.Add(new KlineAmendment(window.ToKline(this, state), window.Amendments, window.PendingTrades));
            window.PendingTrades = 0;
        }

        _pendingAmendments.Clear();
        return amendments;
    }

    /// <summary>Closes the open window of <paramref name="state"/> and keeps it for amendments; returns the closed kline.</summary>
    private Kline CloseOpen(IntervalState state)
    {
        var kline = ToKline(state, closed: true);
        state.CloseOpen();
        Keep(state, kline, amendments: 0);
        return kline;
    }

    /// <summary>Keeps a closed kline for amendments (when on), and forgets the kept ones that left the amend window.</summary>
    private void Keep(IntervalState state, Kline kline, int amendments)
    {
        if (_amendWindowTicks == 0)
        {
            return;
        }

        state.Recent.Add(new ClosedWindow(kline, amendments));
        // The interval's own last close is at or before the aggregator's horizon: what it forgets, no trade could amend.
        var horizon = state.LastClosedOpenTicks + state.LengthTicks;
        var stale = 0;
        while (stale < state.Recent.Count && state.Recent[stale].OpenTicks + state.LengthTicks + _amendWindowTicks <= horizon)
        {
            stale++;
        }

        state.Recent.RemoveRange(0, stale);
    }

    /// <summary>
    /// A trade <paramref name="state"/>'s interval drops as late: it will be in the running sums, so it is added to
    /// that interval's bases as well, which leaves the interval's window sums as they were.
    /// </summary>
    private static void Drop(IntervalState state, decimal quantity, decimal notional, bool takerBuy)
    {
        state.LateTrades++;
        Exclude(state, quantity, notional, takerBuy);
    }

    /// <summary>Adds a trade that is not in <paramref name="state"/>'s open window to its bases, so its sums leave it out.</summary>
    private static void Exclude(IntervalState state, decimal quantity, decimal notional, bool takerBuy)
    {
        state.BaseVolume += quantity;
        state.BaseQuoteVolume += notional;
        if (takerBuy)
        {
            state.BaseTakerBuyVolume += quantity;
            state.BaseTakerBuyQuoteVolume += notional;
        }
    }

    /// <summary>
    /// Subtracts the running sums from every base and zeroes them: the window sums (differences) are unchanged, and
    /// the running sums never grow beyond one window of the longest interval, so their precision is that of the
    /// longest kline's own sums.
    /// </summary>
    private void Rebase()
    {
        foreach (var state in _intervals)
        {
            state.BaseVolume -= _sumVolume;
            state.BaseQuoteVolume -= _sumQuoteVolume;
            state.BaseTakerBuyVolume -= _sumTakerBuyVolume;
            state.BaseTakerBuyQuoteVolume -= _sumTakerBuyQuoteVolume;
        }

        _sumVolume = _sumQuoteVolume = _sumTakerBuyVolume = _sumTakerBuyQuoteVolume = 0m;
    }

    /// <summary>
    /// Closes, per interval, the open kline whose end plus <paramref name="allowedLateness"/> is at or before
    /// <paramref name="now"/>, and emits empty klines for the windows after it that have passed the same way.
    /// A clock earlier than what was already closed changes nothing.
    /// </summary>
    public IReadOnlyList<KlineChange> OnClock(DateTimeOffset now, TimeSpan allowedLateness)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(allowedLateness, TimeSpan.Zero);
        var changes = new List<KlineChange>();
        var horizon = now - allowedLateness;
        foreach (var state in _intervals)
        {
            // Windows starting before this one have ended by the horizon.
            var firstUnfinished = WindowStartTicks(horizon.UtcTicks, state.LengthTicks);
            if (state.HasOpen)
            {
                if (state.OpenTicks >= firstUnfinished)
                {
                    continue;
                }

                changes.Add(new KlineChange(CloseOpen(state), KlineChangeKind.Closed));
            }

            EmitEmpty(state, firstUnfinished, changes);
        }

        return changes;
    }

    /// <summary>
    /// The state of every interval (open kline, last close, the closed klines kept for amendments), to persist and
    /// <see cref="Restore"/> after a restart. Amendments not yet taken (<see cref="TakeAmendments"/>) are not in it.
    /// </summary>
    public KlineAggregatorSnapshot Snapshot() => new(
        Exchange,
        Symbol,
        [.. _intervals.Select(s => new KlineIntervalSnapshot(
            s.Name,
            s.HasOpen ? ToKline(s, closed: false) : null,
            s.HasLastClosed ? ToTime(s.LastClosedOpenTicks) : null,
            s.HasLastClosed ? s.LastClose : null,
            s.LateTrades,
            s.Recent.Count == 0 ? null : [.. s.Recent.Select(w => new KlineClosedSnapshot(w.ToKline(this, s), w.Amendments))]))],
        LateTrades,
        AmendedTrades);

    /// <summary>
    /// Replaces the state with <paramref name="snapshot"/>. Intervals the snapshot does not mention start empty,
    /// which also lets a caller seed one interval from an exchange's own in-progress kline. Validated as a whole
    /// before anything changes.
    /// </summary>
    /// <exception cref="ArgumentException">Another symbol, an interval not aggregated here, or an inconsistent kline.</exception>
    public void Restore(KlineAggregatorSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (!string.Equals(snapshot.Exchange, Exchange, StringComparison.Ordinal)
            || !string.Equals(snapshot.Symbol, Symbol, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Snapshot of {snapshot.Exchange}:{snapshot.Symbol} given to the aggregator of {Exchange}:{Symbol}.", nameof(snapshot));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(snapshot.LateTrades);
        var byName = new Dictionary<string, KlineIntervalSnapshot>(StringComparer.Ordinal);
        foreach (var interval in snapshot.Intervals ?? [])
        {
            var state = _intervals.FirstOrDefault(s => s.Name == interval.Interval)
                ?? throw new ArgumentException($"Interval '{interval.Interval}' is not aggregated here.", nameof(snapshot));
            if (!byName.TryAdd(interval.Interval, interval))
            {
                throw new ArgumentException($"Interval '{interval.Interval}' appears twice.", nameof(snapshot));
            }

            Validate(state, interval);
        }

        _sumVolume = _sumQuoteVolume = _sumTakerBuyVolume = _sumTakerBuyQuoteVolume = 0m;
        _pendingAmendments.Clear();
        foreach (var state in _intervals)
        {
            state.Reset();
            if (byName.TryGetValue(state.Name, out var saved))
            {
                if (saved.Open is { } k)
                {
                    state.Restore(k, this);
                }

                if (saved.LastClosedOpenTime is { } lastClosed)
                {
                    state.HasLastClosed = true;
                    state.LastClosedOpenTicks = lastClosed.UtcTicks;
                    state.LastClose = saved.LastClose!.Value;
                }

                state.LateTrades = saved.LateTrades;
                // Written by a version without amendments: nothing kept, so the first late trades after it are dropped.
                foreach (var kept in saved.Recent ?? [])
                {
                    Keep(state, kept.Kline, kept.Amendments);
                }
            }
        }

        LateTrades = snapshot.LateTrades;
        AmendedTrades = snapshot.AmendedTrades;
    }

    /// <summary>The start of the window of length <paramref name="length"/> containing <paramref name="time"/>.</summary>
    public static DateTimeOffset WindowStart(DateTimeOffset time, TimeSpan length)
    {
        var sinceEpoch = time.UtcTicks - UnixEpochTicks;
        var windows = Math.DivRem(sinceEpoch, length.Ticks, out var remainder);
        if (remainder < 0)
        {
            windows--;
        }

        return new DateTimeOffset(UnixEpochTicks + (windows * length.Ticks), TimeSpan.Zero);
    }

    /// <summary><see cref="WindowStart"/> on UTC ticks.</summary>
    private static long WindowStartTicks(long utcTicks, long lengthTicks)
    {
        var sinceEpoch = utcTicks - UnixEpochTicks;
        var windows = Math.DivRem(sinceEpoch, lengthTicks, out var remainder);
        if (remainder < 0)
        {
            windows--;
        }

        return UnixEpochTicks + (windows * lengthTicks);
    }

    private static DateTimeOffset ToTime(long utcTicks) => new(utcTicks, TimeSpan.Zero);

    /// <summary>
    /// Emits the empty klines between the last closed window and <paramref name="until"/> (exclusive);
    /// creates <paramref name="changes"/> only when there is one to emit.
    /// </summary>
    private List<KlineChange>? EmitEmpty(IntervalState state, long until, List<KlineChange>? changes)
    {
        if (!state.HasLastClosed)
        {
            return changes;
        }

        var length = state.LengthTicks;
        var first = state.LastClosedOpenTicks + length;
        if (first >= until)
        {
            return changes;
        }

        var price = state.LastClose;
        var gap = (until - first) / length;
        var emitted = Math.Min(gap, _maxEmptyKlinesPerGap);
        if (emitted > 0)
        {
            changes ??= new List<KlineChange>(_intervals.Length);
        }

        for (var i = 0L; i < emitted; i++)
        {
            var openTime = first + (length * i);
            var kline = new Kline(
                Exchange, Symbol, state.Name, ToTime(openTime), ToTime(openTime + length - TimeSpan.TicksPerMillisecond),
                price, price, price, price, 0m, 0m, 0, 0m, 0m, Closed: true);
            changes!.Add(new KlineChange(kline, KlineChangeKind.ClosedEmpty));
        }

        SkippedEmptyKlines += gap - emitted;
        state.LastClosedOpenTicks = until - length;
        if (_amendWindowTicks > 0)
        {
            // Only the empty windows that end within the amend window of this interval's new last close are kept.
            for (var i = Math.Max(0L, emitted - (_amendWindowTicks / length) - 1); i < emitted; i++)
            {
                var openTime = first + (length * i);
                Keep(state, new Kline(
                    Exchange, Symbol, state.Name, ToTime(openTime), ToTime(openTime + length - TimeSpan.TicksPerMillisecond),
                    price, price, price, price, 0m, 0m, 0, 0m, 0m, Closed: true), amendments: 0);
            }
        }

        return changes;
    }

    private Kline ToKline(IntervalState s, bool closed) => new(
        Exchange, Symbol, s.Name, ToTime(s.OpenTicks), ToTime(s.EndTicks - TimeSpan.TicksPerMillisecond),
        s.Open, s.High, s.Low, s.Close,
        WindowSum(_sumVolume, s.BaseVolume, s.VolumeScale),
        WindowSum(_sumQuoteVolume, s.BaseQuoteVolume, s.QuoteVolumeScale),
        s.Trades,
        WindowSum(_sumTakerBuyVolume, s.BaseTakerBuyVolume, s.TakerBuyVolumeScale),
        WindowSum(_sumTakerBuyQuoteVolume, s.BaseTakerBuyQuoteVolume, s.TakerBuyQuoteVolumeScale),
        closed);

    /// <summary>
    /// running − base, at the scale a per-window decimal sum of the same trades has (the largest scale among them;
    /// 0 for none). The difference is exact and its scale is at least that one (the running sum has seen every trade
    /// of the window), so rounding to it only drops trailing zeros: the kline is the same to the last digit and scale.
    /// </summary>
    private static decimal WindowSum(decimal running, decimal @base, byte scale)
    {
        var sum = running - @base;
        if (sum == 0m)
        {
            return new decimal(0, 0, 0, false, scale);
        }

        if (sum.Scale == scale)
        {
            return sum;
        }

        // Above the scale: trailing zeros, dropped. Below it (only if a sum ever needed rounding at 28 digits):
        // adding a zero of that scale raises the scale as far as the digits allow.
        return sum.Scale > scale ? decimal.Round(sum, scale) : sum + new decimal(0, 0, 0, false, scale);
    }

    private void Validate(IntervalState state, KlineIntervalSnapshot saved)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new ArgumentException($"Snapshot interval {saved.Interval}: {what}.", "snapshot");
            }
        }

        Require(saved.LateTrades >= 0, "negative late-trade count");
        DateTimeOffset? previousKept = null;
        foreach (var kept in saved.Recent ?? [])
        {
            var c = kept.Kline;
            Require(c.Exchange == Exchange && c.Symbol == Symbol && c.Interval == state.Name, "kept closed kline of another series");
            Require(c.Closed, "kept kline is not closed");
            Require(kept.Amendments >= 0, "negative amendment number");
            Require(WindowStart(c.OpenTime, state.Length) == c.OpenTime, "kept kline's open time is not a window start");
            Require(saved.LastClosedOpenTime is { } last && c.OpenTime <= last, "kept kline is after the last closed one");
            Require(previousKept is not { } previous || c.OpenTime > previous, "kept klines are not in time order");
            Require(c.Low > 0 && c.Low <= c.High && c.Volume >= 0 && c.Trades >= 0, "kept kline is not a valid candle");
            previousKept = c.OpenTime;
        }

        Require(saved.LastClosedOpenTime.HasValue == saved.LastClose.HasValue,
            "last closed time and last close price go together");
        if (saved.LastClosedOpenTime is { } lastClosed)
        {
            Require(WindowStart(lastClosed, state.Length) == lastClosed, "last closed time is not a window start");
            Require(saved.LastClose > 0, "last close must be positive");
        }

        if (saved.Open is { } k)
        {
            Require(k.Exchange == Exchange && k.Symbol == Symbol && k.Interval == state.Name, "open kline of another series");
            Require(!k.Closed, "open kline is marked closed");
            Require(WindowStart(k.OpenTime, state.Length) == k.OpenTime, "open time is not a window start");
            Require(k.CloseTime == k.OpenTime + state.Length - OneMillisecond, "close time does not match the interval");
            Require(k.Low > 0 && k.Low <= k.High && k.Open >= k.Low && k.Open <= k.High && k.Close >= k.Low && k.Close <= k.High,
                "prices are not a valid candle");
            Require(k.Volume >= 0 && k.QuoteVolume >= 0 && k.Trades >= 0 && k.TakerBuyVolume >= 0 && k.TakerBuyQuoteVolume >= 0,
                "negative volume or count");
            Require(saved.LastClosedOpenTime is not { } lc || k.OpenTime > lc, "open kline is not after the last closed one");
        }
    }

    private IntervalState State(string interval) =>
        _intervals.FirstOrDefault(s => s.Name == interval)
        ?? throw new ArgumentException($"Interval '{interval}' is not aggregated here.", nameof(interval));

    /// <summary>
    /// One interval's running kline, kept as plain mutable fields: a trade updates them in place and a
    /// <see cref="Kline"/> is built only when one is handed out. Times are UTC ticks.
    /// </summary>
    private sealed class IntervalState(string name, TimeSpan length)
    {
        public readonly string Name = name;
        public readonly TimeSpan Length = length;
        public readonly long LengthTicks = length.Ticks;

        public bool HasOpen;
        public long OpenTicks;

        /// <summary>OpenTicks + LengthTicks: the first tick of the next window.</summary>
        public long EndTicks;
        public decimal Open;
        public decimal High;
        public decimal Low;
        public decimal Close;
        public long Trades;

        // Window sums are the aggregator's running sums minus these bases (the running sums when the window opened,
        // plus the trades this interval dropped as late since). The scales are the largest scale among the window's
        // trades (taker-buy ones for the taker sums): what a per-window decimal sum would have.
        public decimal BaseVolume;
        public decimal BaseQuoteVolume;
        public decimal BaseTakerBuyVolume;
        public decimal BaseTakerBuyQuoteVolume;
        public byte VolumeScale;
        public byte QuoteVolumeScale;
        public byte TakerBuyVolumeScale;
        public byte TakerBuyQuoteVolumeScale;

        /// <summary>OnTrade only: where this interval's updated kline goes in the changes of the current trade; −1: none.</summary>
        public int UpdateSlot = -1;

        public bool HasLastClosed;
        public long LastClosedOpenTicks;
        public decimal LastClose;
        public long LateTrades;

        /// <summary>The closed windows kept for amendments, oldest first (empty when amendments are off).</summary>
        public readonly List<ClosedWindow> Recent = [];

        /// <summary>The kept closed window that opens at <paramref name="openTicks"/>, or null.</summary>
        public ClosedWindow? Kept(long openTicks)
        {
            // A handful of windows at most (the amend window over the interval's length): a scan from the newest.
            for (var i = Recent.Count - 1; i >= 0; i--)
            {
                if (Recent[i].OpenTicks == openTicks)
                {
                    return Recent[i];
                }

                if (Recent[i].OpenTicks < openTicks)
                {
                    break;
                }
            }

            return null;
        }

        /// <summary>Opens a window at the running sums of <paramref name="owner"/> as they are before the current trade.</summary>
        public void Start(long openTicks, decimal price, KlineAggregator owner)
        {
            HasOpen = true;
            OpenTicks = openTicks;
            EndTicks = openTicks + LengthTicks;
            Open = High = Low = Close = price;
            BaseVolume = owner._sumVolume;
            BaseQuoteVolume = owner._sumQuoteVolume;
            BaseTakerBuyVolume = owner._sumTakerBuyVolume;
            BaseTakerBuyQuoteVolume = owner._sumTakerBuyQuoteVolume;
            VolumeScale = QuoteVolumeScale = TakerBuyVolumeScale = TakerBuyQuoteVolumeScale = 0;
            Trades = 0;
        }

        /// <summary>Restores a saved open kline; the running sums are zero then, so each base is minus the saved sum.</summary>
        public void Restore(Kline k, KlineAggregator owner)
        {
            Start(k.OpenTime.UtcTicks, k.Open, owner);
            High = k.High;
            Low = k.Low;
            Close = k.Close;
            BaseVolume = -k.Volume;
            BaseQuoteVolume = -k.QuoteVolume;
            BaseTakerBuyVolume = -k.TakerBuyVolume;
            BaseTakerBuyQuoteVolume = -k.TakerBuyQuoteVolume;
            VolumeScale = k.Volume.Scale;
            QuoteVolumeScale = k.QuoteVolume.Scale;
            TakerBuyVolumeScale = k.TakerBuyVolume.Scale;
            TakerBuyQuoteVolumeScale = k.TakerBuyQuoteVolume.Scale;
            Trades = k.Trades;
        }

        /// <summary>The open kline becomes the last closed one.</summary>
        public void CloseOpen()
        {
            HasOpen = false;
            HasLastClosed = true;
            LastClosedOpenTicks = OpenTicks;
            LastClose = Close;
        }

        public void Reset()
        {
            HasOpen = false;
            HasLastClosed = false;
            LastClosedOpenTicks = 0;
            LastClose = 0m;
            LateTrades = 0;
            Recent.Clear();
        }
    }

    /// <summary>
    /// A closed kline kept for amendments, as published (its sums are plain decimals: a late trade adds to them as a
    /// per-window sum would have), with the number of amendments published of it and the late trades not yet taken.
    /// </summary>
    private sealed class ClosedWindow(Kline kline, int amendments)
    {
        public readonly long OpenTicks = kline.OpenTime.UtcTicks;
        public decimal Open = kline.Open;
        public decimal High = kline.High;
        public decimal Low = kline.Low;
        public decimal Close = kline.Close;
        public decimal Volume = kline.Volume;
        public decimal QuoteVolume = kline.QuoteVolume;
        public long Trades = kline.Trades;
        public decimal TakerBuyVolume = kline.TakerBuyVolume;
        public decimal TakerBuyQuoteVolume = kline.TakerBuyQuoteVolume;
        public int Amendments = amendments;
        public int PendingTrades;

        /// <summary>The trade, as the window's last in arrival order (what it would have been had it come in time).</summary>
        public void Add(decimal price, decimal quantity, decimal notional, bool takerBuy, int tradeCount)
        {
            if (Trades == 0)
            {
                // An empty kline's prices were the previous close, not a trade of its own.
                Open = High = Low = price;
            }
            else if (price > High)
            {
                High = price;
            }
            else if (price < Low)
            {
                Low = price;
            }

            Close = price;
            Trades += tradeCount;
            Volume += quantity;
            QuoteVolume += notional;
            if (takerBuy)
            {
                TakerBuyVolume += quantity;
                TakerBuyQuoteVolume += notional;
            }
        }

        public Kline ToKline(KlineAggregator owner, IntervalState state) => new(
            owner.Exchange, owner.Symbol, state.Name, ToTime(OpenTicks), ToTime(OpenTicks + state.LengthTicks - TimeSpan.TicksPerMillisecond),
            Open, High, Low, Close, Volume, QuoteVolume, Trades, TakerBuyVolume, TakerBuyQuoteVolume, Closed: true);
    }
}
