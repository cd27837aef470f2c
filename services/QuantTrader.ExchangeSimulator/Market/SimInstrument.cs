using QuantTrader.MarketData.Normalization;

namespace QuantTrader.ExchangeSimulator.Market;

/// <summary>
/// One symbol on one simulated exchange: a random-walk price, monotonically increasing ids, and the record of every
/// print it made (what REST backfill serves and what tests compare the ingested stream against).
/// </summary>
public sealed class SimInstrument
{
    /// <summary>Bounded record: enough for backfill and tests, not a memory leak at high rates.</summary>
    public const int MaxRecorded = 500_000;

    private readonly Lock _lock = new();
    private readonly List<SimPrint> _record = [];
    private readonly Random _random;
    private decimal _price;
    private long _nextAggregateId;
    private long _nextTradeId;
    private int _hideNext;
    private double _due;
    private int _replaying;

    public SimInstrument(string exchange, Instrument instrument, decimal startPrice, double tradesPerSecond, Random random)
    {
        Exchange = exchange;
        Instrument = instrument;
        _price = startPrice;
        TradesPerSecond = tradesPerSecond;
        _random = random;
        // Realistic-looking ids that differ per exchange; what matters is that they only go up by one.
        _nextAggregateId = 1_000_000 + random.Next(1_000_000);
        _nextTradeId = 3_000_000 + random.Next(1_000_000);
    }

    public string Exchange { get; }

    public Instrument Instrument { get; }

    public double TradesPerSecond { get; set; }

    /// <summary>
    /// The newest id as QuantTrader stores it (Binance: the aggregate id of aggTrade streams; OKX: the trade id),
    /// so the load harness can count what must arrive without fetching the record.
    /// </summary>
    public long LastNormalizedId
    {
        get
        {
            lock (_lock)
            {
                return Exchange == Exchanges.Binance ? _nextAggregateId - 1 : _nextTradeId - 1;
            }
        }
    }

    /// <summary>Prints made after the next <paramref name="count"/> are sent; these are recorded (REST has them) but not streamed.</summary>
    public void HideNext(int count)
    {
        lock (_lock)
        {
            _hideNext += count;
        }
    }

    /// <summary>Burns ids that no endpoint will ever serve: a gap backfill cannot fill.</summary>
    public (long From, long To) SkipUnrecoverable(int count)
    {
        lock (_lock)
        {
            if (Exchange == Exchanges.Binance)
            {
                var from = _nextAggregateId;
                _nextAggregateId += count;
                _nextTradeId += count;
                return (from, _nextAggregateId - 1);
            }

            var first = _nextTradeId;
            _nextTradeId += count;
            return (first, _nextTradeId - 1);
        }
    }

    /// <summary>A replay owns this market: the random walk pauses so the replayed ids are the only ones printed.</summary>
    public bool Replaying => Volatile.Read(ref _replaying) != 0;

    /// <summary>Claims the market for one replay; false when another replay has it.</summary>
    public bool TryBeginReplay() => Interlocked.CompareExchange(ref _replaying, 1, 0) == 0;

    public void EndReplay() => Volatile.Write(ref _replaying, 0);

    /// <summary>
    /// A replayed print with the file's own ids, price and time. The walk continues after it (next ids follow the
    /// replayed ones, the price starts from the replayed one), as if the exchange had printed it. Null when its ids are
    /// not above what this market already printed (a trade the ingestor would rightly drop as a duplicate).
    /// </summary>
    public SimPrint? Replay(Replay.ReplayTrade trade)
    {
        lock (_lock)
        {
            if (trade.FirstTradeId <= _nextTradeId - 1 || (Exchange == Exchanges.Binance && trade.AggregateId <= _nextAggregateId - 1))
            {
                return null;
            }

            if (Exchange == Exchanges.Binance)
            {
                _nextAggregateId = trade.AggregateId;
            }

            _nextTradeId = trade.FirstTradeId;
            _price = trade.Price;
            return Record(DateTimeOffset.FromUnixTimeMilliseconds(trade.TimeMs), trade.Price, trade.Quantity, trade.BuyerIsMaker,
                (int)(trade.LastTradeId - trade.FirstTradeId + 1));
        }
    }

    /// <summary>Whether a replayed print with these ids would be accepted (checked before a replay starts).</summary>
    public bool Accepts(Replay.ReplayTrade trade)
    {
        lock (_lock)
        {
            return trade.FirstTradeId > _nextTradeId - 1 && (Exchange != Exchanges.Binance || trade.AggregateId > _nextAggregateId - 1);
        }
    }

    /// <summary>Prints due after <paramref name="elapsedSeconds"/> at the configured rate (fractions carry over).</summary>
    public int Due(double elapsedSeconds)
    {
        lock (_lock)
        {
            if (Replaying)
            {
                // Paused, and no backlog of walk prints bursting out when the replay ends.
                _due = 0;
                return 0;
            }

            _due += TradesPerSecond * elapsedSeconds;
            var n = (int)Math.Min(_due, 100_000);
            _due -= n;
            return n;
        }
    }

    /// <summary>The next print of the random walk (null while replaying); <paramref name="hidden"/> when it must not be streamed.</summary>
    /// <remarks>Null while a replay owns the market (checked under the lock, so no walk id slips between replayed ones).</remarks>
    public SimPrint? Next(DateTimeOffset now, out bool hidden)
    {
        lock (_lock)
        {
            hidden = false;
            if (Replaying)
            {
                return null;
            }

            // Random walk in ticks: mostly small moves, occasionally a jump.
            var ticks = _random.Next(-3, 4) * (_random.Next(50) == 0 ? 20 : 1);
            _price = Math.Max(Instrument.TickSize * 10, _price + ticks * Instrument.TickSize);
            var count = _random.Next(10) < 7 ? 1 : _random.Next(2, 4);
            var steps = _random.Next(1, 2_000) * count;
            var print = Record(now, _price, steps * Instrument.StepSize, _random.Next(2) == 0, count);
            hidden = _hideNext > 0;
            if (hidden)
            {
                _hideNext--;
            }

            return print;
        }
    }

    /// <summary>A print with the given values (control API), streamed like any other.</summary>
    public SimPrint Inject(DateTimeOffset now, decimal price, decimal quantity, bool buyerIsMaker)
    {
        lock (_lock)
        {
            _price = price;
            return Record(now, price, quantity, buyerIsMaker, 1);
        }
    }

    public decimal LastPrice
    {
        get
        {
            lock (_lock)
            {
                return _price;
            }
        }
    }

    /// <summary>The last id handed out (aggregate id on Binance, trade id on OKX), or null before the first print.</summary>
    public long LastId
    {
        get
        {
            lock (_lock)
            {
                return Exchange == Exchanges.Binance ? _nextAggregateId - 1 : _nextTradeId - 1;
            }
        }
    }

    /// <summary>What a restart needs to continue this market: the next ids and the current price (<see cref="SimState"/>).</summary>
    public SimInstrumentState Checkpoint()
    {
        lock (_lock)
        {
            return new SimInstrumentState(Exchange, Instrument.Symbol, _nextAggregateId, _nextTradeId, _price);
        }
    }

    /// <summary>
    /// Continues a market a previous run of the simulator left: ids go on from the stored ones plus
    /// <paramref name="idMargin"/> and the walk from its price. The random starting ids of this run were never handed
    /// out, so they give way; an id this run has already printed is never handed out again (a real exchange never
    /// reuses a trade id).
    /// </summary>
    public void Resume(SimInstrumentState state, long idMargin)
    {
        lock (_lock)
        {
            var printed = _record.Count > 0;
            _nextAggregateId = printed ? Math.Max(_nextAggregateId, state.NextAggregateId + idMargin) : state.NextAggregateId + idMargin;
            _nextTradeId = printed ? Math.Max(_nextTradeId, state.NextTradeId + idMargin) : state.NextTradeId + idMargin;
            if (state.Price > 0m)
            {
                _price = state.Price;
            }
        }
    }

    /// <summary>A copy of the recorded prints, oldest first.</summary>
    public List<SimPrint> Recorded()
    {
        lock (_lock)
        {
            return [.. _record];
        }
    }

    private SimPrint Record(DateTimeOffset now, decimal price, decimal quantity, bool buyerIsMaker, int count)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        var print = new SimPrint(Exchange, Instrument, _nextAggregateId, _nextTradeId, _nextTradeId + count - 1,
            price, quantity, buyerIsMaker, time);
        _nextAggregateId++;
        _nextTradeId += count;
        _record.Add(print);
        if (_record.Count > MaxRecorded)
        {
            _record.RemoveRange(0, _record.Count - MaxRecorded);
        }

        return print;
    }
}
