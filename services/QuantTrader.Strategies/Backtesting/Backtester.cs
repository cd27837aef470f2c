using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Trading;

namespace QuantTrader.Strategies.Backtesting;

/// <summary>
/// Runs a strategy over closed klines on a simulated clock, with the paper engine's own matching, ledger and fees
/// (<see cref="BacktestVenue"/>): every order type and time in force it knows, maker/taker rates, a print's quantity
/// consumed by the fills on it, decimal throughout (docs/backtesting.md, docs/matching.md).
/// <list type="bullet">
/// <item>The prints are the market's stored trades (<see cref="RunOnTrades"/>) or, without them, each bar's four
/// prints of the <see cref="BarPrints"/> model (<see cref="Run(StrategyModule, string?, IReadOnlyList{Kline}, BacktestOptions?, CancellationToken)"/>);
/// <see cref="BacktestResult.Source"/> names which.</item>
/// <item>Per bar: the bar's prints are matched one by one (each fill goes to <c>on_fill</c> right after its print),
/// then the bar goes to <c>on_kline</c>, then equity is marked to the bar's close. An order placed while the strategy
/// handles a bar or a fill fills only on later prints (the paper engine's "only later prints" rule), so an order
/// placed on bar <c>i</c> meets bar <c>i+1</c>'s prints first; orders placed on the last bar never fill.</item>
/// <item>Spot: a buy locks quote and a sell locks base when it is placed, as on paper; an order the engine refuses
/// is recorded as rejected with its reason.</item>
/// </list>
/// Everything is decimal arithmetic over the inputs and fuel-limited wasm, so the same inputs give byte-identical
/// <see cref="BacktestResult.ToCanonicalJson"/> output. A strategy fault ends the run early with
/// <see cref="BacktestResult.Fault"/> set; it is never thrown. Using up <see cref="BacktestOptions.FuelBudget"/>
/// ends it early with <see cref="BacktestResult.Stopped"/> set; cancellation is checked before every bar and every
/// 4,096 prints (a call into the strategy is itself bounded by its fuel and deadline) and throws
/// <see cref="OperationCanceledException"/>.
/// </summary>
public static class Backtester
{
    private const int CancellationCheckPrints = 4096;

    /// <exception cref="Validation.StrategyValidationException">The module is not a valid ABI v1 strategy.</exception>
    public static BacktestResult Run(byte[] moduleBytes, string? parameters, IReadOnlyList<Kline> klines, BacktestOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(moduleBytes);
        options ??= new BacktestOptions();
        using var module = StrategyModule.Load(moduleBytes, options.Engine);
        return Run(module, parameters, klines, options, cancellationToken);
    }

    /// <summary>Runs an already compiled module on the bar → prints model (compile once, backtest many parameter sets).</summary>
    public static BacktestResult Run(StrategyModule module, string? parameters, IReadOnlyList<Kline> klines, BacktestOptions? options = null,
        CancellationToken cancellationToken = default) =>
        RunCore(module, parameters, klines, trades: null, options, cancellationToken);

    /// <summary>
    /// Runs on stored trades: <paramref name="trades"/> are the market's prints over the klines' range in trade-id order
    /// (streamed: read once, never held). Each bar's prints are those up to its close time; prints after the last bar
    /// are not read.
    /// </summary>
    public static BacktestResult RunOnTrades(StrategyModule module, string? parameters, IReadOnlyList<Kline> klines, IEnumerable<Trade> trades,
        BacktestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trades);
        return RunCore(module, parameters, klines, trades, options, cancellationToken);
    }

    private static BacktestResult RunCore(StrategyModule module, string? parameters, IReadOnlyList<Kline> klines, IEnumerable<Trade>? trades,
        BacktestOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(klines);
        options ??= new BacktestOptions();
        CheckKlines(klines);

        var venue = new BacktestVenue(MarketOf(klines, options), options.Fees, options.InitialBalance, options.Reservations)
        {
            Clock = klines.Count > 0 ? klines[0].OpenTime : default,
        };
        using var sandbox = StrategySandbox.Create(module, venue, parameters, options.Sandbox with { Instrument = options.Instrument });
        using var stored = trades?.GetEnumerator();
        var pending = stored is not null && stored.MoveNext() ? stored.Current : null;
        var equity = new List<EquityPoint>(klines.Count);
        ulong fuel = sandbox.LastCallFuel;
        var bars = 0;
        var prints = 0L;
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

        void Match(Trade print)
        {
            if (++prints % CancellationCheckPrints == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            venue.Clock = print.Time;
            var fills = venue.OnPrint(print);
            for (var i = 0; i < fills.Count && sandbox.State == StrategyInstanceState.Running && !OverBudget(); i++)
            {
                fuel += sandbox.OnFill(fills[i]).FuelUsed;
            }
        }

        var index = -1L;
        foreach (var kline in klines)
        {
            index++;
            cancellationToken.ThrowIfCancellationRequested();
            if (sandbox.State != StrategyInstanceState.Running || OverBudget())
            {
                break;
            }
            if (stored is null)
            {
                foreach (var print in BarPrints.Of(kline, (index * BarPrints.PerBar) + 1))
                {
                    Match(print);
                }
            }
            else
            {
                while (pending is not null && pending.Time <= kline.CloseTime)
                {
                    Match(pending);
                    pending = stored.MoveNext() ? stored.Current : null;
                }
            }
            venue.Clock = kline.CloseTime;
            if (sandbox.State == StrategyInstanceState.Running && !OverBudget())
            {
                fuel += sandbox.OnKline(kline).FuelUsed;
            }
            bars++;
            var quote = venue.QuoteTotal;
            var position = venue.Position;
            equity.Add(new EquityPoint(kline.CloseTime, kline.Close, quote, position, quote + (position * kline.Close)));
        }

        var lastClose = klines.Count > 0 ? klines[Math.Max(0, bars - 1)].Close : 0m;
        var finalQuote = venue.QuoteTotal;
        var finalPosition = venue.Position;
        return new BacktestResult(
            bars,
            venue.Orders,
            [.. venue.Fills],
            equity,
            [.. venue.Logs],
            finalQuote,
            finalPosition,
            finalQuote + (finalPosition * lastClose),
            sandbox.Fault,
            fuel,
            stopped,
            stored is null ? BacktestSource.Klines : BacktestSource.Trades,
            prints);
    }

    /// <summary>The market of <see cref="BacktestOptions.Market"/>, or one made from the klines and the rounding filters.</summary>
    private static Instrument MarketOf(IReadOnlyList<Kline> klines, BacktestOptions options)
    {
        if (options.Market is { } market)
        {
            return market;
        }
        var (exchange, symbol) = klines.Count > 0 ? (klines[0].Exchange, klines[0].Symbol) : ("backtest", "BASEQUOTE");
        return new Instrument(exchange, symbol, "BASE", "QUOTE",
            new InstrumentRules(options.Instrument.TickSize, options.Instrument.StepSize, 0m));
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
}
