using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;

namespace QuantTrader.Strategies.Backtesting;

public sealed record BacktestOptions
{
    /// <summary>Starting balance in the quote asset; the strategy starts flat (position 0).</summary>
    public decimal InitialBalance { get; init; } = 10_000m;

    /// <summary>Fee as a fraction of the fill's notional, charged in the quote asset on every fill.</summary>
    public decimal FeeRate { get; init; } = 0.001m;

    /// <summary>Tick and step used to round the strategy's orders, as the live order path would.</summary>
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

public enum BacktestOrderStatus { Open, Filled, Canceled, Rejected }

public sealed record BacktestOrder(
    long Handle,
    DateTimeOffset PlacedAt,
    OrderSide Side,
    OrderType Type,
    decimal Quantity,
    decimal? Price,
    BacktestOrderStatus Status,
    string? RejectReason);

public sealed record BacktestFill(
    long Handle,
    DateTimeOffset Time,
    OrderSide Side,
    OrderType Type,
    decimal Price,
    decimal Quantity,
    decimal Fee);

/// <summary>Marked to the bar's close after the strategy has seen the bar.</summary>
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
    BacktestStop? Stopped = null)
{
    /// <summary>
    /// The result as UTF-8 JSON with a fixed property order, invariant number formatting and enums as names: the
    /// same module, parameters, klines and options give the same bytes, which is what "deterministic" is tested on.
    /// </summary>
    public byte[] ToCanonicalJson() => BacktestJson.Serialize(this);
}
