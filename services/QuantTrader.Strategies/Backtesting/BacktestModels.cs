using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Trading;
using QuantTrader.Trading.Accounts;

namespace QuantTrader.Strategies.Backtesting;

public sealed record BacktestOptions
{
    /// <summary>Starting balance in the quote asset; the strategy starts flat (position 0).</summary>
    public decimal InitialBalance { get; init; } = 10_000m;

    /// <summary>
    /// Maker and taker rates, as the paper engine charges them (fraction of the fill's notional, in the quote asset).
    /// The API passes the account's own rates unless the request overrides them.
    /// </summary>
    public FeeRates Fees { get; init; } = FeeRates.Default;

    /// <summary>
    /// The market traded: assets and exchange rules (tick, step, minimum notional) the paper engine validates orders
    /// against. Null: the klines' exchange and symbol, assets named <c>BASE</c> and <c>QUOTE</c>, the tick and step of
    /// <see cref="Instrument"/> and no minimum notional.
    /// </summary>
    public Instrument? Market { get; init; }

    /// <summary>What a market buy locks above the last price, as configured for the paper engine (5 % by default).</summary>
    public ReservationPolicy Reservations { get; init; } = ReservationPolicy.Default;

    /// <summary>Tick and step used to round the strategy's orders before they reach the engine.</summary>
    public InstrumentFilters Instrument { get; init; } = InstrumentFilters.Unrestricted;

    /// <summary>
    /// Sandbox limits. The default keeps the live fuel budget but a generous wall-clock deadline, because only
    /// fuel is deterministic: a backtest that faulted on the clock could not be reproduced byte for byte.
    /// </summary>
    public StrategySandboxOptions Sandbox { get; init; } = StrategySandboxOptions.Default with { CallTimeout = TimeSpan.FromSeconds(5) };

    /// <summary>
    /// Fuel for the whole run (every call together); null for no budget. Checked before each call, so a run
    /// stops within one call's fuel (<see cref="StrategySandboxOptions.FuelPerCall"/>) of it, with
    /// <see cref="BacktestResult.Stopped"/> naming it. Deterministic like the per-call fuel.
    /// </summary>
    public ulong? FuelBudget { get; init; }

    /// <summary>Engine to compile on; <see cref="StrategyEngine.Shared"/> when null.</summary>
    public StrategyEngine? Engine { get; init; }
}

/// <summary>Where a backtest's prints came from.</summary>
public enum BacktestSource
{
    /// <summary>Stored trades, print by print.</summary>
    Trades,

    /// <summary>Klines, each split into four prints (<see cref="BarPrints"/>).</summary>
    Klines,
}

/// <summary>
/// An order's state at the end of the run. <see cref="Open"/> is the paper engine's <c>new</c>: accepted, nothing
/// filled yet (including a stop that has not triggered).
/// </summary>
public enum BacktestOrderStatus { Open, Filled, Canceled, Rejected, PartiallyFilled, Expired }

public sealed record BacktestOrder(
    long Handle,
    DateTimeOffset PlacedAt,
    OrderSide Side,
    OrderType Type,
    decimal Quantity,
    decimal? Price,
    BacktestOrderStatus Status,
    string? RejectReason,
    decimal? StopPrice = null,
    TimeInForce TimeInForce = TimeInForce.Gtc,
    decimal FilledQuantity = 0m,
    decimal AveragePrice = 0m,
    decimal Fees = 0m);

/// <summary>One execution, as the paper engine made it: <paramref name="TradeId"/> is the print it matched.</summary>
public sealed record BacktestFill(
    long Handle,
    DateTimeOffset Time,
    OrderSide Side,
    OrderType Type,
    decimal Price,
    decimal Quantity,
    decimal Fee,
    Liquidity Liquidity,
    long TradeId);

/// <summary>
/// Marked to the bar's close after the strategy has seen the bar. <paramref name="QuoteBalance"/> is the whole quote
/// balance, free and locked by open orders; <paramref name="Position"/> the whole base balance.
/// </summary>
public sealed record EquityPoint(DateTimeOffset Time, decimal Close, decimal QuoteBalance, decimal Position, decimal Equity);

public sealed record BacktestLogLine(DateTimeOffset Time, string Message);

/// <summary>Why a run ended before its last bar without a strategy fault: a budget, named by <paramref name="Limit"/>.</summary>
public sealed record BacktestStop(string Limit, string Message);

public sealed record BacktestResult(
    int BarsProcessed,
    IReadOnlyList<BacktestOrder> Orders,
    IReadOnlyList<BacktestFill> Fills,
    IReadOnlyList<EquityPoint> EquityCurve,
    IReadOnlyList<BacktestLogLine> Logs,
    decimal FinalQuoteBalance,
    decimal FinalPosition,
    decimal FinalEquity,
    StrategyFault? Fault,
    ulong TotalFuel,
    BacktestStop? Stopped,
    BacktestSource Source,
    long Prints)
{
    /// <summary>
    /// The result as UTF-8 JSON with a fixed property order, invariant number formatting and enums as names: the
    /// same module, parameters, klines, prints and options give the same bytes, which is what "deterministic" is
    /// tested on.
    /// </summary>
    public byte[] ToCanonicalJson() => BacktestJson.Serialize(this);
}
