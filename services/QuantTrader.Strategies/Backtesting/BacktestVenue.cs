using System.Buffers.Binary;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Trading;
using QuantTrader.Trading.Accounts;
using QuantTrader.Trading.Orders;

namespace QuantTrader.Strategies.Backtesting;

/// <summary>
/// The backtest's side of <see cref="IStrategyHost"/>: one paper account on the paper engine's own core — a
/// <see cref="PaperExchange"/> with its validation, reservations, <see cref="Trading.Matching.MatchingEngine"/>,
/// <see cref="Ledger"/> and maker/taker fees — fed print by print. Nothing here matches or charges on its own: an order
/// goes to <see cref="PaperExchange.Submit"/> as the paper engine's order path sends it (after risk), a print to
/// <see cref="PaperExchange.OnTrade"/>, so a backtest fills exactly as paper trading does on the same prints
/// (docs/matching.md, docs/backtesting.md).
/// <para>Orders are answered as the live runner answers them: every order gets a handle at once; one the engine
/// refuses (validation, insufficient funds, a market buy before any print) is recorded as rejected with the engine's
/// reason. An order's time is the venue's <see cref="Clock"/>, the time of the print or bar being handled.</para>
/// Not thread-safe; one backtest drives it.
/// </summary>
public sealed class BacktestVenue : IStrategyHost
{
    /// <summary>The one account of a backtest.</summary>
    public static readonly Guid Account = new("00000000-0000-0000-0000-0000000000b7");

    private static readonly IReadOnlyList<StrategyFill> NoFills = [];

    private readonly PaperExchange _exchange;
    private readonly Instrument _market;
    private readonly List<OrderState> _orders = [];
    private readonly Dictionary<Guid, OrderState> _byId = [];
    private readonly List<BacktestFill> _fills = [];
    private readonly List<BacktestLogLine> _logs = [];

    /// <summary>An account holding <paramref name="initialBalance"/> of the market's quote asset and nothing else.</summary>
    public BacktestVenue(Instrument market, FeeRates fees, decimal initialBalance, ReservationPolicy? reservations = null)
    {
        ArgumentNullException.ThrowIfNull(market);
        ArgumentNullException.ThrowIfNull(fees);
        _market = market;
        _exchange = new PaperExchange([market], reservations);
        _exchange.SetFeeRates(Account, fees);
        _exchange.Ledger.Deposit(Account, market.QuoteAsset, initialBalance);
    }

    /// <summary>Time of what is being handled: a print's time while prints are fed, a bar's close time around <c>on_kline</c>.</summary>
    public DateTimeOffset Clock { get; set; }

    /// <summary>The market traded.</summary>
    public Instrument Market => _market;

    /// <summary>The whole base balance (free and locked by open sells): the strategy's position.</summary>
    public decimal Position => _exchange.Ledger.GetBalance(Account, _market.BaseAsset).Total;

    /// <summary>The free quote balance, what <c>qt.quote_balance</c> reads live (the paper portfolio's free balance).</summary>
    public decimal QuoteBalance => _exchange.Ledger.GetBalance(Account, _market.QuoteAsset).Free;

    /// <summary>The whole quote balance, free and locked by open buys.</summary>
    public decimal QuoteTotal => _exchange.Ledger.GetBalance(Account, _market.QuoteAsset).Total;

    /// <summary>Every fill so far, in the order the engine made them.</summary>
    public IReadOnlyList<BacktestFill> Fills => _fills;

    /// <summary>Every line the strategy logged.</summary>
    public IReadOnlyList<BacktestLogLine> Logs => _logs;

    /// <summary>Every order placed, by handle, in its current state.</summary>
    public IReadOnlyList<BacktestOrder> Orders => [.. _orders.Select(o => o.ToRecord())];

    /// <summary>The paper exchange the orders live in (its ledger, books and portfolio), for inspection.</summary>
    public PaperExchange Exchange => _exchange;

    /// <summary>Hands the order to the paper engine's core; returns its handle whether it was accepted or refused.</summary>
    public long PlaceOrder(StrategyOrderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var handle = _orders.Count + 1L;
        var order = new OrderRequest(OrderId(handle), Account, null, null, _market.Exchange, _market.Symbol,
            request.Side, request.Type, request.TimeInForce, request.Quantity, request.Price, request.StopPrice, Clock);
        var state = new OrderState(handle, order);
        _orders.Add(state);

        // The book has seen every print up to now, so its last trade is the reference the paper engine would use.
        var result = _exchange.Submit(order);
        if (result.Accepted)
        {
            _byId.Add(order.Id, state);
            state.Apply(result.Order!);
        }
        else
        {
            state.Status = BacktestOrderStatus.Rejected;
            state.Reason = string.Join(" ", result.Errors.Select(e => e.Message));
        }

        return handle;
    }

    /// <summary>Cancels an open order through the engine (its funds are released); false when it is not open.</summary>
    public bool Cancel(long handle)
    {
        if (handle < 1 || handle > _orders.Count)
        {
            return false;
        }

        var state = _orders[(int)(handle - 1)];
        if (_exchange.Cancel(Account, state.Request.Id, Clock) is not { } canceled)
        {
            return false;
        }

        state.Apply(canceled);
        return true;
    }

    public void Log(string message) => _logs.Add(new BacktestLogLine(Clock, message));

    /// <summary>
    /// Matches one print with the paper engine's rules and settles its fills into the account; returns them for
    /// <c>on_fill</c>, in the engine's priority order.
    /// </summary>
    public IReadOnlyList<StrategyFill> OnPrint(Trade print)
    {
        var result = _exchange.OnTrade(print);
        if (result.Updates.Count == 0)
        {
            return NoFills; // every fill comes with its order's update
        }

        foreach (var update in result.Updates)
        {
            _byId[update.Id].Apply(update);
        }

        if (result.Fills.Count == 0)
        {
            return NoFills;
        }

        var fills = new StrategyFill[result.Fills.Count];
        for (var i = 0; i < fills.Length; i++)
        {
            var fill = result.Fills[i];
            var state = _byId[fill.OrderId];
            _fills.Add(new BacktestFill(state.Handle, fill.Time, fill.Side, state.Request.Type, fill.Price, fill.Quantity, fill.Fee,
                fill.Liquidity, fill.TradeId));
            fills[i] = new StrategyFill(state.Handle, fill.Side, fill.Price, fill.Quantity, fill.Fee);
        }

        return fills;
    }

    /// <summary>A backtest's order ids are its handles, so the same run gives the same ids (and fill ids).</summary>
    private static Guid OrderId(long handle)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(bytes[8..], handle);
        return new Guid(bytes, bigEndian: true);
    }

    private sealed class OrderState(long handle, OrderRequest request)
    {
        public long Handle { get; } = handle;

        public OrderRequest Request { get; } = request;

        public BacktestOrderStatus Status { get; set; } = BacktestOrderStatus.Open;

        public string? Reason { get; set; }

        public decimal FilledQuantity { get; private set; }

        public decimal AveragePrice { get; private set; }

        public decimal Fees { get; private set; }

        public void Apply(OrderEvent update)
        {
            Status = update.Status switch
            {
                OrderStatus.New => BacktestOrderStatus.Open,
                OrderStatus.PartiallyFilled => BacktestOrderStatus.PartiallyFilled,
                OrderStatus.Filled => BacktestOrderStatus.Filled,
                OrderStatus.Canceled => BacktestOrderStatus.Canceled,
                OrderStatus.Expired => BacktestOrderStatus.Expired,
                _ => BacktestOrderStatus.Rejected,
            };
            Reason = update.RejectReason ?? Reason;
            FilledQuantity = update.FilledQuantity;
            AveragePrice = update.AveragePrice;
            Fees = update.Fees;
        }

        public BacktestOrder ToRecord() => new(Handle, Request.CreatedAt, Request.Side, Request.Type, Request.Quantity, Request.Price,
            Status, Reason, Request.StopPrice, Request.TimeInForce, FilledQuantity, AveragePrice, Fees);
    }
}
