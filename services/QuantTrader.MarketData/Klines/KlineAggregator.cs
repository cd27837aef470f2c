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
/// Late-trade rule: once an interval has moved past a window (a later window is open, or the window was closed by
/// either path), that window is final. A trade that falls in it is dropped for that interval and counted in
/// <see cref="LateTradesFor"/>; it still counts for the longer intervals whose window is open. <see cref="LateTrades"/>
/// counts trades dropped by at least one interval. Closed klines are never re-published with corrections.
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
    private readonly int _maxEmptyKlinesPerGap;

    /// <param name="intervals">Interval names from <see cref="KlineIntervals.All"/>; all of them when null.</param>
    public KlineAggregator(
        string exchange,
        string symbol,
        IEnumerable<string>? intervals = null,
        int maxEmptyKlinesPerGap = DefaultMaxEmptyKlinesPerGap)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(exchange);
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        ArgumentOutOfRangeException.ThrowIfNegative(maxEmptyKlinesPerGap);
        Exchange = exchange;
        Symbol = symbol;
        _maxEmptyKlinesPerGap = maxEmptyKlinesPerGap;

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
    }

    public string Exchange { get; }

    public string Symbol { get; }

    /// <summary>The intervals aggregated, shortest first.</summary>
    public IReadOnlyList<string> Intervals => [.. _intervals.Select(s => s.Name)];

    /// <summary>Trades dropped by at least one interval because that interval's window had already closed.</summary>
    public long LateTrades { get; private set; }

    /// <summary>Empty klines not emitted because a gap exceeded the per-gap limit.</summary>
    public long SkippedEmptyKlines { get; private set; }

    /// <summary>Trades dropped by <paramref name="interval"/> under the late-trade rule.</summary>
    public long LateTradesFor(string interval) => State(interval).LateTrades;

    /// <summary>The in-progress kline of <paramref name="interval"/>, or null when none is open.</summary>
    public Kline? OpenKline(string interval)
    {
        var state = State(interval);
        return state.Open is null ? null : ToKline(state, state.Open, closed: false);
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
    public IReadOnlyList<KlineChange> OnTrade(Trade trade, int tradeCount = 1)
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

        var changes = new List<KlineChange>(_intervals.Length);
        var late = false;
        foreach (var state in _intervals)
        {
            var windowStart = WindowStart(trade.Time, state.Length);
            var open = state.Open;
            if (open is not null && windowStart > open.OpenTime)
            {
                changes.Add(new KlineChange(ToKline(state, open, closed: true), KlineChangeKind.Closed));
                state.LastClosedOpenTime = open.OpenTime;
                state.LastClose = open.Close;
                state.Open = open = null;
            }

            if (open is null)
            {
                if (state.LastClosedOpenTime is { } lastClosed && windowStart <= lastClosed)
                {
                    state.LateTrades++;
                    late = true;
                    continue;
                }

                EmitEmpty(state, windowStart, changes);
                state.Open = open = new OpenKlineState(windowStart, trade.Price);
            }
            else if (windowStart < open.OpenTime)
            {
                state.LateTrades++;
                late = true;
                continue;
            }

            open.Add(trade, tradeCount);
            changes.Add(new KlineChange(ToKline(state, open, closed: false), KlineChangeKind.Updated));
        }

        if (late)
        {
            LateTrades++;
        }

        return changes;
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
            var firstUnfinished = WindowStart(horizon, state.Length);
            var open = state.Open;
            if (open is not null)
            {
                if (open.OpenTime >= firstUnfinished)
                {
                    continue;
                }

                changes.Add(new KlineChange(ToKline(state, open, closed: true), KlineChangeKind.Closed));
                state.LastClosedOpenTime = open.OpenTime;
                state.LastClose = open.Close;
                state.Open = null;
            }

            EmitEmpty(state, firstUnfinished, changes);
        }

        return changes;
    }

    /// <summary>The open state of every interval, to persist and <see cref="Restore"/> after a restart.</summary>
    public KlineAggregatorSnapshot Snapshot() => new(
        Exchange,
        Symbol,
        [.. _intervals.Select(s => new KlineIntervalSnapshot(
            s.Name,
            s.Open is null ? null : ToKline(s, s.Open, closed: false),
            s.LastClosedOpenTime,
            s.LastClose,
            s.LateTrades))],
        LateTrades);

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

        foreach (var state in _intervals)
        {
            if (byName.TryGetValue(state.Name, out var saved))
            {
                state.Open = saved.Open is null ? null : OpenKlineState.From(saved.Open);
                state.LastClosedOpenTime = saved.LastClosedOpenTime;
                state.LastClose = saved.LastClose;
                state.LateTrades = saved.LateTrades;
            }
            else
            {
                state.Open = null;
                state.LastClosedOpenTime = null;
                state.LastClose = null;
                state.LateTrades = 0;
            }
        }

        LateTrades = snapshot.LateTrades;
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

    /// <summary>Emits the empty klines between the last closed window and <paramref name="until"/> (exclusive).</summary>
    private void EmitEmpty(IntervalState state, DateTimeOffset until, List<KlineChange> changes)
    {
        if (state.LastClosedOpenTime is not { } lastClosed || state.LastClose is not { } price)
        {
            return;
        }

        var first = lastClosed + state.Length;
        if (first >= until)
        {
            return;
        }

        var gap = (until - first).Ticks / state.Length.Ticks;
        var emitted = Math.Min(gap, _maxEmptyKlinesPerGap);
        for (var i = 0L; i < emitted; i++)
        {
            var openTime = first + (state.Length * i);
            var kline = new Kline(
                Exchange, Symbol, state.Name, openTime, openTime + state.Length - OneMillisecond,
                price, price, price, price, 0m, 0m, 0, 0m, 0m, Closed: true);
            changes.Add(new KlineChange(kline, KlineChangeKind.ClosedEmpty));
        }

        SkippedEmptyKlines += gap - emitted;
        state.LastClosedOpenTime = until - state.Length;
    }

    private Kline ToKline(IntervalState state, OpenKlineState k, bool closed) => new(
        Exchange, Symbol, state.Name, k.OpenTime, k.OpenTime + state.Length - OneMillisecond,
        k.Open, k.High, k.Low, k.Close, k.Volume, k.QuoteVolume, k.Trades, k.TakerBuyVolume, k.TakerBuyQuoteVolume, closed);

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

    private sealed class IntervalState(string name, TimeSpan length)
    {
        public string Name { get; } = name;

        public TimeSpan Length { get; } = length;

        public OpenKlineState? Open { get; set; }

        public DateTimeOffset? LastClosedOpenTime { get; set; }

        public decimal? LastClose { get; set; }

        public long LateTrades { get; set; }
    }

    private sealed class OpenKlineState(DateTimeOffset openTime, decimal open)
    {
        public DateTimeOffset OpenTime { get; } = openTime;

        public decimal Open { get; private set; } = open;

        public decimal High { get; private set; } = open;

        public decimal Low { get; private set; } = open;

        public decimal Close { get; private set; } = open;

        public decimal Volume { get; private set; }

        public decimal QuoteVolume { get; private set; }

        public long Trades { get; private set; }

        public decimal TakerBuyVolume { get; private set; }

        public decimal TakerBuyQuoteVolume { get; private set; }

        public static OpenKlineState From(Kline k) => new(k.OpenTime, k.Open)
        {
            High = k.High,
            Low = k.Low,
            Close = k.Close,
            Volume = k.Volume,
            QuoteVolume = k.QuoteVolume,
            Trades = k.Trades,
            TakerBuyVolume = k.TakerBuyVolume,
            TakerBuyQuoteVolume = k.TakerBuyQuoteVolume,
        };

        public void Add(Trade trade, int tradeCount)
        {
            var notional = trade.Price * trade.Quantity;
            if (trade.Price > High)
            {
                High = trade.Price;
            }

            if (trade.Price < Low)
            {
                Low = trade.Price;
            }

            Close = trade.Price;
            Volume += trade.Quantity;
            QuoteVolume += notional;
            Trades += tradeCount;
            if (trade.Side == TakerSide.Buy)
            {
                TakerBuyVolume += trade.Quantity;
                TakerBuyQuoteVolume += notional;
            }
        }
    }
}
