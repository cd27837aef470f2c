using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;

namespace QuantTrader.Strategies.Backtesting;

/// <summary>
/// Runs a strategy over closed klines on a simulated clock, with a bar fill model:
/// <list type="bullet">
/// <item>An order placed while the strategy handles bar <c>i</c> (in <c>on_kline</c> or <c>on_fill</c>) is first
/// matched against bar <c>i+1</c>; orders placed on the last bar never fill.</item>
/// <item>Market orders fill in full at the next bar's open.</item>
/// <item>A buy limit fills when the bar's low reaches its price, at the better of the open and the limit (a gap down
/// through the limit fills at the open); a sell limit likewise on the high. Unfilled limits stay open (GTC).</item>
/// <item>Fills are charged <see cref="BacktestOptions.FeeRate"/> of their notional in the quote asset.</item>
/// <item>Spot and long-only: a buy needs quote balance for notional plus fee, a sell needs the position; an order
/// that cannot be paid for when it would fill is rejected then.</item>
/// <item>Per bar: match resting orders against the bar, deliver each fill to <c>on_fill</c>, deliver the bar to
/// <c>on_kline</c>, then mark equity to the bar's close.</item>
/// </list>
/// Everything is decimal arithmetic over the inputs and fuel-limited wasm, so the same inputs give byte-identical
/// <see cref="BacktestResult.ToCanonicalJson"/> output. A strategy fault ends the run early with
/// <see cref="BacktestResult.Fault"/> set; it is never thrown. Using up <see cref="BacktestOptions.FuelBudget"/>
/// ends it early with <see cref="BacktestResult.Stopped"/> set; cancellation is checked before every bar (a call
/// into the strategy is itself bounded by its fuel and deadline) and throws <see cref="OperationCanceledException"/>.
/// </summary>
public static class Backtester
{
    /// <exception cref="Validation.StrategyValidationException">The module is not a valid ABI v1 strategy.</exception>
    public static BacktestResult Run(byte[] moduleBytes, string? parameters, IReadOnlyList<Kline> klines, BacktestOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(moduleBytes);
        options ??= new BacktestOptions();
        using var module = StrategyModule.Load(moduleBytes, options.Engine);
        return Run(module, parameters, klines, options, cancellationToken);
    }

    /// <summary>Runs an already compiled module (compile once, backtest many parameter sets).</summary>
    public static BacktestResult Run(StrategyModule module, string? parameters, IReadOnlyList<Kline> klines, BacktestOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(klines);
        options ??= new BacktestOptions();
        CheckKlines(klines);

        var account = new SimulatedAccount(options) { Clock = klines.Count > 0 ? klines[0].OpenTime : default };
        using var sandbox = StrategySandbox.Create(module, account, parameters, options.Sandbox with { Instrument = options.Instrument });
        var equity = new List<EquityPoint>(klines.Count);
        ulong fuel = sandbox.LastCallFuel;
        var bars = 0;
        BacktestStop? stopped = null;
        bool OverBudget()
        {
            if (options.FuelBudget is { } budget && fuel >= budget && stopped is null)
            {
                stopped = new BacktestStop("backtestFuel",
                    $"The backtest used {fuel} fuel, its budget of {budget} (your plan's backtestFuel), after {bars} of {klines.Count} bars; backtest a shorter range.");
            }
            return stopped is not null;
        }

        foreach (var kline in klines)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (sandbox.State != StrategyInstanceState.Running || OverBudget())
            {
                break;
            }
            account.Clock = kline.CloseTime;
            foreach (var fill in account.Match(kline))
            {
                if (OverBudget())
                {
                    break;
                }
                var delivered = sandbox.OnFill(fill);
                fuel += delivered.FuelUsed;
            }
            if (sandbox.State == StrategyInstanceState.Running && !OverBudget())
            {
                fuel += sandbox.OnKline(kline).FuelUsed;
            }
            bars++;
            equity.Add(new EquityPoint(kline.CloseTime, kline.Close, account.QuoteBalance, account.Position,
                account.QuoteBalance + account.Position * kline.Close));
        }

        var lastClose = klines.Count > 0 ? klines[Math.Max(0, bars - 1)].Close : 0m;
        return new BacktestResult(
            bars,
            account.Orders.Select(o => o.ToRecord()).ToList(),
            account.Fills,
            equity,
            account.Logs,
            account.QuoteBalance,
            account.Position,
            account.QuoteBalance + account.Position * lastClose,
            sandbox.Fault,
            fuel,
            stopped);
    }

    private static void CheckKlines(IReadOnlyList<Kline> klines)
    {
        for (var i = 0; i < klines.Count; i++)
        {
            if (!klines[i].Closed)
            {
                throw new ArgumentException($"Kline {i} ({klines[i].OpenTime:O}) is not closed; backtests run on closed klines only.", nameof(klines));
            }
            if (i > 0 && klines[i].OpenTime <= klines[i - 1].OpenTime)
            {
                throw new ArgumentException($"Kline {i} ({klines[i].OpenTime:O}) is not after kline {i - 1}; klines must be in ascending open time.", nameof(klines));
            }
        }
    }

    /// <summary>The backtest's side of <see cref="IStrategyHost"/>: a spot account and a book of resting orders.</summary>
    private sealed class SimulatedAccount(BacktestOptions options) : IStrategyHost
    {
        private readonly List<SimulatedOrder> _resting = [];
        private readonly Dictionary<long, SimulatedOrder> _byHandle = [];
        private long _nextHandle = 1;

        public DateTimeOffset Clock { get; set; }

        public decimal Position { get; private set; }

        public decimal QuoteBalance { get; private set; } = options.InitialBalance;

        public List<SimulatedOrder> Orders { get; } = [];

        public List<BacktestFill> Fills { get; } = [];

        public List<BacktestLogLine> Logs { get; } = [];

        public long PlaceOrder(StrategyOrderRequest request)
        {
            var order = new SimulatedOrder(_nextHandle++, Clock, request);
            Orders.Add(order);
            _resting.Add(order);
            _byHandle.Add(order.Handle, order);
            return order.Handle;
        }

        public bool Cancel(long handle)
        {
            if (!_byHandle.TryGetValue(handle, out var order) || order.Status != BacktestOrderStatus.Open)
            {
                return false;
            }
            order.Status = BacktestOrderStatus.Canceled;
            return true;
        }

        public void Log(string message) => Logs.Add(new BacktestLogLine(Clock, message));

        /// <summary>Matches every order that was open before this bar, oldest first.</summary>
        public IReadOnlyList<StrategyFill> Match(Kline bar)
        {
            // Drop final orders first; the rest were all placed before this bar (during earlier bars), and a
            // snapshot keeps orders placed from on_fill on this bar out of this bar's matching.
            _resting.RemoveAll(o => o.Status != BacktestOrderStatus.Open);
            if (_resting.Count == 0)
            {
                return Array.Empty<StrategyFill>();
            }
            var fills = new List<StrategyFill>();
            foreach (var order in _resting.ToArray())
            {
                if (FillPrice(order.Request, bar) is not { } price)
                {
                    continue;
                }
                var quantity = order.Request.Quantity;
                var notional = price * quantity;
                var fee = notional * options.FeeRate;
                if (order.Request.Side == OrderSide.Buy)
                {
                    if (QuoteBalance < notional + fee)
                    {
                        order.Reject($"insufficient quote balance: need {notional + fee}, have {QuoteBalance}");
                        continue;
                    }
                    QuoteBalance -= notional + fee;
                    Position += quantity;
                }
                else
                {
                    if (Position < quantity)
                    {
                        order.Reject($"insufficient position: need {quantity}, have {Position}");
                        continue;
                    }
                    QuoteBalance += notional - fee;
                    Position -= quantity;
                }
                order.Status = BacktestOrderStatus.Filled;
                Fills.Add(new BacktestFill(order.Handle, bar.OpenTime, order.Request.Side, order.Request.Type, price, quantity, fee));
                fills.Add(new StrategyFill(order.Handle, order.Request.Side, price, quantity, fee));
            }
            return fills;
        }

        private static decimal? FillPrice(StrategyOrderRequest request, Kline bar) => request switch
        {
            { Type: OrderType.Market } => bar.Open,
            { Type: OrderType.Limit, Side: OrderSide.Buy, Price: { } limit } when bar.Low <= limit => Math.Min(bar.Open, limit),
            { Type: OrderType.Limit, Side: OrderSide.Sell, Price: { } limit } when bar.High >= limit => Math.Max(bar.Open, limit),
            _ => null,
        };
    }

    private sealed class SimulatedOrder(long handle, DateTimeOffset placedAt, StrategyOrderRequest request)
    {
        public long Handle { get; } = handle;

        public DateTimeOffset PlacedAt { get; } = placedAt;

        public StrategyOrderRequest Request { get; } = request;

        public BacktestOrderStatus Status { get; set; } = BacktestOrderStatus.Open;

        public string? RejectReason { get; private set; }

        public void Reject(string reason)
        {
            Status = BacktestOrderStatus.Rejected;
            RejectReason = reason;
        }

        public BacktestOrder ToRecord() =>
            new(Handle, PlacedAt, Request.Side, Request.Type, Request.Quantity, Request.Price, Status, RejectReason);
    }
}
