using System.Buffers.Binary;
using System.Security.Cryptography;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Orders;

namespace QuantTrader.Trading.Matching;

/// <summary>
/// The paper order book of one (exchange, symbol), matched against the live trade stream. Pure and deterministic: time comes
/// from requests and trades, ids are derived from (order id, trade id), and the same calls give the same results.
/// Not thread-safe: one writer per book.
/// </summary>
/// <remarks>
/// <para>The rules (full text in docs/matching.md):</para>
/// <list type="number">
/// <item><b>Only later prints.</b> An order fills only on prints whose trade id is greater than the last trade id known when it
/// arrived (the engine's last trade, or the <c>referenceTrade</c> passed to <see cref="Submit"/>, whichever is newer).</item>
/// <item><b>Roles.</b> A market order is a taker. A limit order is a taker if it is marketable on arrival against the last trade
/// price (buy: limit ≥ last; sell: limit ≤ last), otherwise a maker; with no known price it is a maker. The role is fixed once
/// the order is active.</item>
/// <item><b>Prices.</b> A taker fills at the print's price (a taker limit only on prints at or better than its limit). A maker
/// fills at its limit price when a print trades at or through it (buy: print ≤ limit; sell: print ≥ limit).</item>
/// <item><b>Stops.</b> A buy stop triggers on a print ≥ stop, a sell stop on a print ≤ stop (or on arrival, if the last price
/// is already there). It then becomes a market order (stop-market) or a limit order (stop-limit, taker if its limit is
/// marketable against the triggering print) and fills from the <i>next</i> print on, with time priority from the trigger.</item>
/// <item><b>Liquidity is consumed.</b> A print's quantity is all the liquidity it offers, shared by buys and sells: the fills
/// on one print never add up to more than its quantity, and an order fills at most once per print.</item>
/// <item><b>Priority.</b> Market orders first (oldest first), then limit orders by how far their limit is through the print
/// (buy: limit − print; sell: print − limit; larger first), then oldest first.</item>
/// <item><b>IOC</b> takes what the first print it sees gives and expires the rest. <b>FOK</b> fills completely on the first print
/// it sees, or expires with nothing. "Sees" = the first print after it became active, whether or not the price reached it.</item>
/// <item><b>Buy budget.</b> A buy fills no more than its locked quote pays for (price × qty + fee). If a print's price makes the
/// rest unaffordable (market buys when the price ran past the reservation margin) it fills what it can and expires the rest.</item>
/// <item><b>Fees</b> are notional × the account's maker or taker rate, in the quote asset, on every fill; not rounded.</item>
/// <item><b>Idempotency.</b> A trade id already processed is ignored; the engine remembers a bounded window of ids and treats
/// ids at or below the oldest forgotten one as processed (trade ids increase per symbol on the supported exchanges).</item>
/// </list>
/// </remarks>
public sealed class MatchingEngine
{
    /// <summary>How many recent trade ids are remembered for de-duplication by default.</summary>
    public const int DefaultTradeIdWindow = 10_000;

    private readonly Dictionary<Guid, BookOrder> _open = [];
    private readonly SortedDictionary<decimal, LinkedList<BookOrder>> _bids = new(DescendingComparer.Instance);
    private readonly SortedDictionary<decimal, LinkedList<BookOrder>> _asks = new();
    private readonly SortedDictionary<decimal, LinkedList<BookOrder>> _buyStops = new();
    private readonly SortedDictionary<decimal, LinkedList<BookOrder>> _sellStops = new(DescendingComparer.Instance);
    private readonly LinkedList<BookOrder> _market = new();
    private readonly HashSet<BookOrder> _immediate = [];
    private readonly Queue<long> _recentTradeIds = new();
    private readonly HashSet<long> _recentTradeIdSet = [];
    private readonly int _tradeIdWindow;
    private long _nextSequence = 1;
    private long? _tradeIdWatermark;

    /// <summary>Creates an empty book.</summary>
    /// <param name="instrument">The market this book matches; trades of other markets are ignored.</param>
    /// <param name="tradeIdWindow">How many processed trade ids to remember for de-duplication.</param>
    public MatchingEngine(Instrument instrument, int tradeIdWindow = DefaultTradeIdWindow)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tradeIdWindow);
        Instrument = instrument;
        _tradeIdWindow = tradeIdWindow;
    }

    /// <summary>The market of this book.</summary>
    public Instrument Instrument { get; }

    /// <summary>Price of the newest processed trade, or null before the first.</summary>
    public decimal? LastPrice { get; private set; }

    /// <summary>Id of the newest processed trade, or null before the first.</summary>
    public long? LastTradeId { get; private set; }

    /// <summary>Number of open orders (new or partially filled, including untriggered stops).</summary>
    public int OpenOrderCount => _open.Count;

    /// <summary>Open orders of one user, or of everyone when <paramref name="userId"/> is null, oldest first.</summary>
    public IReadOnlyList<OrderEvent> GetOpenOrders(Guid? userId = null) =>
    [
        .. _open.Values.Where(o => userId is null || o.Request.UserId == userId)
            .OrderBy(o => o.Sequence).Select(o => o.ToEvent(null)),
    ];

    /// <summary>The current state of an open order, or null if it is not open in this book.</summary>
    public OrderEvent? GetOpenOrder(Guid orderId) => _open.TryGetValue(orderId, out var o) ? o.ToEvent(null) : null;

    /// <summary>
    /// Accepts an order into the book. Funds, validation and risk are checked before this call (see PaperExchange);
    /// the engine only rejects what it cannot represent, by throwing.
    /// </summary>
    /// <param name="order">A valid order for this book's instrument.</param>
    /// <param name="fees">The account's fee rates, fixed for the life of the order.</param>
    /// <param name="quoteBudget">For buys: the quote locked for the order; fills never spend more. Null = no cap.</param>
    /// <param name="referenceTrade">
    /// The last trade the caller saw, if newer than what this book processed: it decides marketability, and the order will
    /// not fill on it or any earlier print.
    /// </param>
    /// <returns>The order's <see cref="OrderStatus.New"/> event.</returns>
    /// <exception cref="ArgumentException">Wrong market, missing price or stop price, non-positive quantity, or duplicate id.</exception>
    public MatchResult Submit(OrderRequest order, FeeRates fees, decimal? quoteBudget = null, Trade? referenceTrade = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(fees);
        fees.EnsureValid();
        EnsureRepresentable(order);
        if (_open.ContainsKey(order.Id))
        {
            throw new ArgumentException($"Order {order.Id} is already in the book.", nameof(order));
        }

        var (refPrice, refTradeId) = (LastPrice, LastTradeId);
        if (referenceTrade is not null && IsOurs(referenceTrade) && (refTradeId is null || referenceTrade.TradeId > refTradeId))
        {
            (refPrice, refTradeId) = (referenceTrade.Price, referenceTrade.TradeId);
        }

        var bookOrder = new BookOrder(order, fees, order.Side == OrderSide.Buy ? quoteBudget : null)
        {
            Sequence = _nextSequence++,
            NotBeforeTradeId = refTradeId ?? long.MinValue,
            UpdatedAt = order.CreatedAt,
        };
        _open.Add(order.Id, bookOrder);

        if (order.IsStop)
        {
            if (refPrice is { } p && StopTriggers(bookOrder, p))
            {
                Activate(bookOrder, p);
            }
            else
            {
                AddToLevel(order.Side == OrderSide.Buy ? _buyStops : _sellStops, order.StopPrice!.Value, bookOrder);
            }
        }
        else
        {
            Activate(bookOrder, refPrice);
        }

        return new MatchResult([], [bookOrder.ToEvent(null)]);
    }

    /// <summary>Cancels an open order. Returns its <see cref="OrderStatus.Canceled"/> event, or null if it is not open here.</summary>
    /// <param name="orderId">The order.</param>
    /// <param name="at">Time of the cancel request.</param>
    public OrderEvent? Cancel(Guid orderId, DateTimeOffset at)
    {
        if (!_open.TryGetValue(orderId, out var order))
        {
            return null;
        }

        Close(order, OrderStatus.Canceled, at);
        return order.ToEvent(null);
    }

    /// <summary>
    /// Matches one print against the book: fills by priority up to the print's quantity, expires IOC/FOK orders that saw it,
    /// then triggers stops it crossed. A trade of another market, or one already processed, changes nothing.
    /// </summary>
    public MatchResult OnTrade(Trade trade)
    {
        ArgumentNullException.ThrowIfNull(trade);
        if (!IsOurs(trade) || !RememberTradeId(trade.TradeId))
        {
            return MatchResult.Empty;
        }

        if (_market.Count == 0 && _immediate.Count == 0 && !Reaches(trade.Price))
        {
            // Most prints reach no paper order: skip the allocations of the full pass (matching throughput).
            UpdateLast(trade);
            return MatchResult.Empty;
        }

        var fills = new List<FillEvent>();
        var touched = new List<BookOrder>();
        var reasons = new Dictionary<BookOrder, string>();
        var price = trade.Price;
        var available = trade.Quantity;

        foreach (var order in Candidates(trade))
        {
            if (available <= 0m)
            {
                break;
            }

            var fillPrice = order.Role == Liquidity.Maker ? order.Request.Price!.Value : price;
            var rate = order.Role == Liquidity.Maker ? order.Fees.Maker : order.Fees.Taker;
            var wanted = Math.Min(order.Remaining, available);
            var quantity = Affordable(order, wanted, fillPrice, rate);
            if (order.Request.TimeInForce == TimeInForce.Fok && quantity < order.Remaining)
            {
                continue; // all or nothing: it leaves the liquidity to the next in line
            }

            if (quantity <= 0m)
            {
                if (wanted > 0m && order.QuoteBudget is not null)
                {
                    reasons[order] = "The locked quote does not pay for the rest at this price (it moved past the reservation margin).";
                    Close(order, OrderStatus.Expired, trade.Time);
                    Touch(touched, order);
                }

                continue;
            }

            var notional = fillPrice * quantity;
            var fee = notional * rate;
            order.FilledQuantity += quantity;
            order.FilledNotional += notional;
            order.FeesPaid += fee;
            if (order.QuoteBudget is { } budget)
            {
                order.QuoteBudget = budget - notional - fee;
            }

            order.UpdatedAt = trade.Time;
            order.Status = order.Remaining == 0m ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
            available -= quantity;
            fills.Add(new FillEvent(
                FillId(order.Request.Id, trade.TradeId), order.Request.Id, order.Request.UserId, order.Request.StrategyId,
                Instrument.Exchange, Instrument.Symbol, order.Request.Side, fillPrice, quantity, fee, Instrument.QuoteAsset,
                order.Role!.Value, trade.TradeId, trade.Time));
            Touch(touched, order);

            if (order.Status == OrderStatus.Filled)
            {
                Close(order, OrderStatus.Filled, trade.Time);
            }
            else if (quantity < wanted)
            {
                reasons[order] = "The locked quote does not pay for the rest at this price (it moved past the reservation margin).";
                Close(order, OrderStatus.Expired, trade.Time);
            }
        }

        // IOC and FOK orders live for exactly one print.
        foreach (var order in _immediate.Where(o => o.NotBeforeTradeId < trade.TradeId).OrderBy(o => o.Sequence).ToList())
        {
            reasons[order] = order.Request.TimeInForce == TimeInForce.Fok
                ? "FOK: the next print could not fill the whole quantity."
                : "IOC: the rest was not filled by the next print.";
            Close(order, OrderStatus.Expired, trade.Time);
            Touch(touched, order);
        }

        TriggerStops(trade);
        UpdateLast(trade);

        return new MatchResult(fills, [.. touched.Select(o => o.ToEvent(reasons.GetValueOrDefault(o)))]);
    }

    private void UpdateLast(Trade trade)
    {
        if (LastTradeId is null || trade.TradeId > LastTradeId)
        {
            (LastPrice, LastTradeId) = (trade.Price, trade.TradeId);
        }
    }

    /// <summary>True when a print at <paramref name="price"/> reaches a resting limit or a waiting stop.</summary>
    private bool Reaches(decimal price) =>
        (First(_bids) is { } bid && bid >= price)
        || (First(_asks) is { } ask && ask <= price)
        || (First(_buyStops) is { } buyStop && buyStop <= price)
        || (First(_sellStops) is { } sellStop && sellStop >= price);

    private static decimal? First(SortedDictionary<decimal, LinkedList<BookOrder>> side)
    {
        if (side.Count == 0)
        {
            return null; // an enumerator allocates even over an empty tree; most sides of a backtest's book are empty
        }

        foreach (var key in side.Keys)
        {
            return key;
        }

        return null;
    }

    /// <summary>Processed trade ids a snapshot lists one by one; older ones are folded into its watermark.</summary>
    public const int SnapshotTradeIds = 64;

    /// <summary>
    /// The book's state, for restart. Taking it does not change the book.
    /// <para>Of the remembered trade ids only the newest <see cref="SnapshotTradeIds"/> are listed; the older ones are
    /// folded into the watermark (every id at or below it counts as processed). The paper engine writes this snapshot
    /// with every step that touches the book, and listing all 10,000 remembered ids made it ~100 KB of JSON each time:
    /// the most expensive statement in PostgreSQL and a large part of the engine's own CPU (docs/benchmarks.md,
    /// section 11). The restored book treats every id it processed as processed, as before; what it gives up is
    /// accepting an unprocessed id older than the newest 64 — which never comes, since a market's ids on
    /// <c>market.raw</c> only increase (the ingestor's sequencer).</para>
    /// </summary>
    public BookSnapshot Snapshot()
    {
        var fold = _recentTradeIds.Count - SnapshotTradeIds;
        var watermark = _tradeIdWatermark;
        var listed = new List<long>(Math.Min(_recentTradeIds.Count, SnapshotTradeIds));
        foreach (var id in _recentTradeIds) // oldest first
        {
            if (fold-- > 0)
            {
                watermark = watermark is { } w ? Math.Max(w, id) : id;
            }
            else
            {
                listed.Add(id);
            }
        }
        return new(
            Instrument.Exchange,
            Instrument.Symbol,
            _nextSequence,
            LastPrice,
            LastTradeId,
            watermark,
            listed,
            [.. _open.Values.OrderBy(o => o.Sequence).Select(o => o.ToSnapshot())]);
    }

    /// <summary>Rebuilds a book from <see cref="Snapshot"/>; it then behaves exactly like the book the snapshot was taken of.</summary>
    public static MatchingEngine Restore(Instrument instrument, BookSnapshot snapshot, int tradeIdWindow = DefaultTradeIdWindow)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var engine = new MatchingEngine(instrument, tradeIdWindow);
        if (snapshot.Exchange != instrument.Exchange || snapshot.Symbol != instrument.Symbol)
        {
            throw new ArgumentException($"Snapshot is of {snapshot.Exchange}:{snapshot.Symbol}, not {instrument.Key}.", nameof(snapshot));
        }

        engine._nextSequence = snapshot.NextSequence;
        engine.LastPrice = snapshot.LastPrice;
        engine.LastTradeId = snapshot.LastTradeId;
        engine._tradeIdWatermark = snapshot.TradeIdWatermark;
        foreach (var id in snapshot.RecentTradeIds)
        {
            engine.RememberTradeId(id);
        }

        foreach (var s in snapshot.Orders.OrderBy(o => o.Sequence))
        {
            var order = new BookOrder(s.Order, s.Fees, s.QuoteBudget)
            {
                Sequence = s.Sequence,
                Role = s.Role,
                Status = s.Status,
                FilledQuantity = s.FilledQuantity,
                FilledNotional = s.FilledNotional,
                FeesPaid = s.FeesPaid,
                NotBeforeTradeId = s.NotBeforeTradeId,
                UpdatedAt = s.UpdatedAt,
            };
            engine._open.Add(order.Request.Id, order);
            engine.Place(order);
        }

        return engine;
    }

    /// <summary>The fill id for (order, trade): deterministic, so a replayed print produces the same fill ids.</summary>
    public static Guid FillId(Guid orderId, long tradeId)
    {
        Span<byte> input = stackalloc byte[24];
        orderId.TryWriteBytes(input);
        BinaryPrimitives.WriteInt64BigEndian(input[16..], tradeId);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: custom, name-based
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(hash[..16], bigEndian: true);
    }

    private bool IsOurs(Trade trade) =>
        string.Equals(trade.Exchange, Instrument.Exchange, StringComparison.Ordinal)
        && string.Equals(trade.Symbol, Instrument.Symbol, StringComparison.Ordinal);

    /// <summary>Records a trade id; false if it was processed already.</summary>
    private bool RememberTradeId(long tradeId)
    {
        if (tradeId <= _tradeIdWatermark || !_recentTradeIdSet.Add(tradeId))
        {
            return false;
        }

        _recentTradeIds.Enqueue(tradeId);
        while (_recentTradeIds.Count > _tradeIdWindow)
        {
            var forgotten = _recentTradeIds.Dequeue();
            _recentTradeIdSet.Remove(forgotten);
            _tradeIdWatermark = _tradeIdWatermark is { } w ? Math.Max(w, forgotten) : forgotten;
        }

        return true;
    }

    private static void EnsureRepresentable(OrderRequest order)
    {
        if (order.Quantity <= 0m)
        {
            throw new ArgumentException("Quantity must be positive.", nameof(order));
        }

        if (order.HasLimit && order.Price is not > 0m)
        {
            throw new ArgumentException("A limit or stop-limit order needs a positive price.", nameof(order));
        }

        if (order.IsStop && order.StopPrice is not > 0m)
        {
            throw new ArgumentException("A stop order needs a positive stop price.", nameof(order));
        }
    }

    private static bool StopTriggers(BookOrder order, decimal price) =>
        order.Request.Side == OrderSide.Buy ? price >= order.Request.StopPrice : price <= order.Request.StopPrice;

    /// <summary>Makes an order matchable: decides its role against <paramref name="referencePrice"/> and places it.</summary>
    private void Activate(BookOrder order, decimal? referencePrice)
    {
        var request = order.Request;
        var marketable = !request.HasLimit
            || (referencePrice is { } p && (request.Side == OrderSide.Buy ? request.Price >= p : request.Price <= p));
        order.Role = marketable ? Liquidity.Taker : Liquidity.Maker;
        Place(order);
    }

    /// <summary>Puts an order into the structure its state calls for (stop levels, market queue or price levels).</summary>
    private void Place(BookOrder order)
    {
        var request = order.Request;
        if (order.Role is null)
        {
            AddToLevel(request.Side == OrderSide.Buy ? _buyStops : _sellStops, request.StopPrice!.Value, order);
            return;
        }

        if (request.HasLimit)
        {
            AddToLevel(request.Side == OrderSide.Buy ? _bids : _asks, request.Price!.Value, order);
        }
        else
        {
            order.Node = _market.AddLast(order);
        }

        if (request.TimeInForce != TimeInForce.Gtc)
        {
            _immediate.Add(order);
        }
    }

    private static void AddToLevel(SortedDictionary<decimal, LinkedList<BookOrder>> side, decimal price, BookOrder order)
    {
        if (!side.TryGetValue(price, out var level))
        {
            level = new LinkedList<BookOrder>();
            side.Add(price, level);
        }

        order.Node = level.AddLast(order);
    }

    /// <summary>Takes an order out of the book in a final state.</summary>
    private void Close(BookOrder order, OrderStatus status, DateTimeOffset at)
    {
        var request = order.Request;
        if (order.Node is { List: { } list } node)
        {
            list.Remove(node);
            if (list.Count == 0 && list != _market)
            {
                var side = order.Role is null
                    ? request.Side == OrderSide.Buy ? _buyStops : _sellStops
                    : request.Side == OrderSide.Buy ? _bids : _asks;
                side.Remove(order.Role is null ? request.StopPrice!.Value : request.Price!.Value);
            }
        }

        order.Node = null;
        order.Status = status;
        order.UpdatedAt = at;
        _immediate.Remove(order);
        _open.Remove(request.Id);
    }

    /// <summary>Orders that may fill on this print, in priority order.</summary>
    private List<BookOrder> Candidates(Trade trade)
    {
        var price = trade.Price;
        var limits = new List<BookOrder>();
        foreach (var (level, orders) in _bids)
        {
            if (level < price)
            {
                break;
            }

            limits.AddRange(orders.Where(o => o.NotBeforeTradeId < trade.TradeId));
        }

        foreach (var (level, orders) in _asks)
        {
            if (level > price)
            {
                break;
            }

            limits.AddRange(orders.Where(o => o.NotBeforeTradeId < trade.TradeId));
        }

        limits.Sort((a, b) =>
        {
            var byImprovement = Improvement(b, price).CompareTo(Improvement(a, price));
            return byImprovement != 0 ? byImprovement : a.Sequence.CompareTo(b.Sequence);
        });

        var candidates = new List<BookOrder>(_market.Count + limits.Count);
        candidates.AddRange(_market.Where(o => o.NotBeforeTradeId < trade.TradeId).OrderBy(o => o.Sequence));
        candidates.AddRange(limits);
        return candidates;
    }

    private static decimal Improvement(BookOrder order, decimal price) =>
        order.Request.Side == OrderSide.Buy ? order.Request.Price!.Value - price : price - order.Request.Price!.Value;

    /// <summary>
    /// The largest quantity ≤ <paramref name="wanted"/> whose cost (price × qty × (1 + rate)) fits the order's quote budget,
    /// on the instrument's quantity step. Sells and uncapped buys get <paramref name="wanted"/>.
    /// </summary>
    private decimal Affordable(BookOrder order, decimal wanted, decimal price, decimal rate)
    {
        if (order.QuoteBudget is not { } budget || Cost(wanted, price, rate) <= budget)
        {
            return wanted;
        }

        var step = Instrument.Rules.StepSize > 0m ? Instrument.Rules.StepSize : 0.00000001m;
        var quantity = Math.Floor(budget / (price * (1m + rate)) / step) * step;
        while (quantity > 0m && Cost(quantity, price, rate) > budget)
        {
            quantity -= step; // division rounds; step down until the cost really fits
        }

        return Math.Clamp(quantity, 0m, wanted);
    }

    private static decimal Cost(decimal quantity, decimal price, decimal rate)
    {
        var notional = price * quantity;
        return notional + (notional * rate);
    }

    private void TriggerStops(Trade trade)
    {
        var triggered = new List<BookOrder>();
        foreach (var (level, orders) in _buyStops)
        {
            if (level > trade.Price)
            {
                break;
            }

            triggered.AddRange(orders.Where(o => o.NotBeforeTradeId < trade.TradeId));
        }

        foreach (var (level, orders) in _sellStops)
        {
            if (level < trade.Price)
            {
                break;
            }

            triggered.AddRange(orders.Where(o => o.NotBeforeTradeId < trade.TradeId));
        }

        // Time priority among stops triggered together follows the order they were placed in.
        foreach (var order in triggered.OrderBy(o => o.Sequence))
        {
            var list = order.Node!.List!;
            list.Remove(order.Node);
            if (list.Count == 0)
            {
                (order.Request.Side == OrderSide.Buy ? _buyStops : _sellStops).Remove(order.Request.StopPrice!.Value);
            }

            order.Node = null;
            order.Sequence = _nextSequence++;
            order.NotBeforeTradeId = trade.TradeId; // it fills from the next print on
            Activate(order, trade.Price);
        }
    }

    private static void Touch(List<BookOrder> touched, BookOrder order)
    {
        if (!touched.Contains(order))
        {
            touched.Add(order);
        }
    }

    private sealed class BookOrder(OrderRequest request, FeeRates fees, decimal? quoteBudget)
    {
        public OrderRequest Request { get; } = request;

        public FeeRates Fees { get; } = fees;

        public decimal? QuoteBudget { get; set; } = quoteBudget;

        public long Sequence { get; set; }

        public Liquidity? Role { get; set; }

        public OrderStatus Status { get; set; } = OrderStatus.New;

        public decimal FilledQuantity { get; set; }

        public decimal FilledNotional { get; set; }

        public decimal FeesPaid { get; set; }

        public long NotBeforeTradeId { get; set; }

        public DateTimeOffset UpdatedAt { get; set; }

        public LinkedListNode<BookOrder>? Node { get; set; }

        public decimal Remaining => Request.Quantity - FilledQuantity;

        public OrderEvent ToEvent(string? reason) => new(
            Request.Id, Request.UserId, Request.ClientOrderId, Request.StrategyId, Request.Exchange, Request.Symbol,
            Request.Side, Request.Type, Request.TimeInForce, Request.Quantity, Request.Price, Request.StopPrice, Status,
            FilledQuantity, FilledQuantity > 0m ? FilledNotional / FilledQuantity : 0m, FeesPaid, reason,
            Request.CreatedAt, UpdatedAt);

        public BookOrderSnapshot ToSnapshot() => new(
            Request, Fees, QuoteBudget, Sequence, Role, Status, FilledQuantity, FilledNotional, FeesPaid, NotBeforeTradeId, UpdatedAt);
    }

    private sealed class DescendingComparer : IComparer<decimal>
    {
        public static DescendingComparer Instance { get; } = new();

        public int Compare(decimal x, decimal y) => y.CompareTo(x);
    }
}
