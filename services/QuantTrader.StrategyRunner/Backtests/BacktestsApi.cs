using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Performance;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;
using QuantTrader.ServiceDefaults.Queries;
using QuantTrader.Strategies.Backtesting;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.StrategyRunner.Api;
using QuantTrader.StrategyRunner.Storage;
using QuantTrader.Trading;
using PerformanceEquityPoint = QuantTrader.Performance.EquityPoint;

namespace QuantTrader.StrategyRunner.Backtests;

/// <summary>
/// Exchange, symbol and interval default to the strategy's own. Fees default to the caller's paper account's maker
/// and taker rates; <c>feeRate</c> sets both, <c>makerFeeRate</c>/<c>takerFeeRate</c> one each (they win over it).
/// </summary>
public sealed record BacktestRequest(
    Guid? StrategyId,
    string? Exchange,
    string? Symbol,
    string? Interval,
    DateTimeOffset? From,
    DateTimeOffset? To,
    decimal? InitialBalance,
    decimal? FeeRate,
    decimal? MakerFeeRate = null,
    decimal? TakerFeeRate = null);

public sealed record BacktestFaultView(string Reason, string Message, string Call);

public sealed record BacktestResponse(
    Guid StrategyId,
    string Exchange,
    string Symbol,
    string Interval,
    DateTimeOffset From,
    DateTimeOffset To,
    decimal InitialBalance,
    decimal FeeRate,
    decimal MakerFeeRate,
    decimal TakerFeeRate,
    BacktestSource Source,
    string SourceDetail,
    long Prints,
    int Bars,
    IReadOnlyList<BacktestFill> Fills,
    IReadOnlyList<BacktestOrder> Orders,
    IReadOnlyList<Strategies.Backtesting.EquityPoint> EquityCurve,
    PerformanceReport Statistics,
    decimal FinalQuoteBalance,
    decimal FinalPosition,
    decimal FinalEquity,
    BacktestFaultView? Fault,
    IReadOnlyList<BacktestLogLine> Logs,
    ulong Fuel,
    BacktestStop? Stopped);

public static class BacktestsApi
{
    /// <summary>Bars per backtest: a larger range is refused with a hint to narrow it (the response holds every bar's equity).</summary>
    public const int MaxBars = 100_000;

    public static WebApplication MapBacktestsApi(this WebApplication app)
    {
        app.MapPost("/api/v1/backtests", RunAsync)
            .WithTags("Backtests")
            .RequireCaller()
            .WithSummary("Run one of your strategies over stored closed klines [from, to) on the paper engine's own matching, ledger and fees: on the market's stored trades print by print when they cover the range, else on each bar split into four prints (source says which). "
                + "Fees are your paper account's maker/taker rates unless feeRate, makerFeeRate or takerFeeRate override them. Fills, orders, equity curve and statistics; the same request gives byte-identical output. "
                + "Budgets per plan: backtestFuel fuel per run (stopped says so when used up) and concurrentBacktests at once (429 beyond). A run stops when its client goes away.");
        return app;
    }

    private static async Task<IResult> RunAsync(BacktestRequest request, HttpContext http, StrategyStore store, KlineHistory history,
        TradeHistory trades, AccountFeeRates accountFees, BacktestMarkets markets, BacktestSlots slots, ILogger<KlineHistory> logger, CancellationToken ct)
    {
        if (request.StrategyId is not { } strategyId)
        {
            return ProblemResults.Validation("strategyId", "strategyId is required.");
        }
        if (request.From is not { } from)
        {
            return ProblemResults.Validation("from", "from is required (ISO-8601, e.g. 2024-01-01T00:00:00Z).");
        }
        if (request.To is not { } to)
        {
            return ProblemResults.Validation("to", "to is required (ISO-8601, e.g. 2024-02-01T00:00:00Z).");
        }
        if (to <= from)
        {
            return ProblemResults.Validation("to", "to must be after from.");
        }
        var initialBalance = request.InitialBalance ?? 10_000m;
        if (initialBalance <= 0 || initialBalance > 1_000_000_000_000m)
        {
            return ProblemResults.Validation("initialBalance", "initialBalance must be positive and at most 1e12.");
        }
        foreach (var (field, rate) in new[] { ("feeRate", request.FeeRate), ("makerFeeRate", request.MakerFeeRate), ("takerFeeRate", request.TakerFeeRate) })
        {
            if (rate is < 0 or >= 0.1m)
            {
                return ProblemResults.Validation(field, $"{field} is a fraction of the notional: at least 0 and below 0.1 (0.001 = 0.1%).");
            }
        }
        var caller = http.GetCaller();
        var strategy = await store.FindAsync(caller.UserId, strategyId, ct);
        if (strategy is null)
        {
            return ProblemResults.NotFound("The strategy");
        }
        var exchange = string.IsNullOrWhiteSpace(request.Exchange) ? strategy.Exchange : request.Exchange.Trim().ToLowerInvariant();
        if (!StrategiesApi.Exchanges.Contains(exchange))
        {
            return ProblemResults.Validation("exchange", $"exchange must be one of: {string.Join(", ", StrategiesApi.Exchanges)}.");
        }
        var symbol = string.IsNullOrWhiteSpace(request.Symbol) ? strategy.Symbol : request.Symbol.Trim().ToUpperInvariant().Replace("-", "", StringComparison.Ordinal);
        var interval = string.IsNullOrWhiteSpace(request.Interval) ? strategy.Interval : request.Interval.Trim();
        if (!KlineIntervals.All.TryGetValue(interval, out var barLength))
        {
            return ProblemResults.Validation("interval", $"interval must be one of: {string.Join(", ", KlineIntervals.All.Keys)}.");
        }

        // The plan's HistoryDays, counted back from the market's newest closed kline (HistoryWindow).
        var horizon = HistoryWindow.Horizon(await history.NewestAsync(exchange, symbol, interval, ct), caller.Limits.HistoryDays);
        if (HistoryWindow.Refusal("from", from, horizon, caller.Limits.HistoryDays, caller) is { } tooOld)
        {
            return tooOld;
        }

        // The slot covers reading the klines too: that is work for the database on the caller's behalf.
        using var slot = slots.TryAcquire(caller.UserId, caller.Limits.ConcurrentBacktests);
        if (slot is null)
        {
            http.Response.Headers.RetryAfter = "5";
            return ProblemResults.Problem(StatusCodes.Status429TooManyRequests, "concurrency-limit", "Too many backtests at once.",
                $"Your {caller.Plan} plan runs {caller.Limits.ConcurrentBacktests} backtest{(caller.Limits.ConcurrentBacktests == 1 ? "" : "s")} at a time; wait for the running one to finish or upgrade your plan.",
                new Dictionary<string, object?> { ["limit"] = "concurrentBacktests" });
        }

        var klines = await history.ReadAsync(exchange, symbol, interval, from, to, MaxBars, ct);
        if (klines.Count > MaxBars)
        {
            return ProblemResults.Validation("to", $"The range holds more than {MaxBars} {interval} klines; narrow it or use a longer interval.");
        }
        var moduleBytes = await store.GetModuleAsync(strategy.Id, ct);
        var fees = await FeesAsync(request, accountFees, caller.UserId, ct);
        var coverage = await trades.CoverAsync(exchange, symbol, klines, barLength, ct);
        var options = new BacktestOptions
        {
            InitialBalance = initialBalance,
            Fees = fees,
            Market = markets.Find(exchange, symbol),
            FuelBudget = (ulong)Math.Max(0, caller.Limits.BacktestFuel),
        };

        // CPU-bound and synchronous (wasm under fuel): off the request thread. The request's token reaches the run,
        // so a client that goes away (or the gateway's timeout) stops it at the next bar and frees the slot.
        BacktestResult result;
        try
        {
            result = await Task.Run(() =>
            {
                using var module = StrategyModule.Load(moduleBytes, options.Engine);
                return coverage.Covered && klines.Count > 0
                    ? Backtester.RunOnTrades(module, strategy.Parameters, klines,
                        trades.Read(exchange, symbol, klines[0].OpenTime, klines[^1].OpenTime + barLength), options, ct)
                    : Backtester.Run(module, strategy.Parameters, klines, options, ct);
            }, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            logger.LogInformation("Backtest of strategy {StrategyId} by {UserId} cancelled: the client went away", strategy.Id, caller.UserId);
            return Results.Empty;
        }
        if (result.Stopped is { } stopped)
        {
            logger.LogInformation("Backtest of strategy {StrategyId} by {UserId} stopped by its {Limit} budget after {Bars} bars", strategy.Id, caller.UserId, stopped.Limit, result.BarsProcessed);
        }
        var statistics = PerformanceCalculator.Compute(
            result.EquityCurve.Select(p => new PerformanceEquityPoint(p.Time, p.Equity)).ToList(),
            ClosedTradePnls(result.Fills),
            PerformanceOptions.ForBarInterval(barLength));
        logger.LogInformation("Backtest of strategy {StrategyId} over {Bars} {Interval} klines of {Exchange} {Symbol} on {Source} ({Prints} prints): {Fills} fills, final equity {Equity}",
            strategy.Id, result.BarsProcessed, interval, exchange, symbol, result.Source, result.Prints, result.Fills.Count, result.FinalEquity);

        return TypedResults.Ok(new BacktestResponse(strategy.Id, exchange, symbol, interval, from, to, initialBalance,
            request.FeeRate ?? fees.Taker, fees.Maker, fees.Taker, result.Source,
            coverage.Detail, result.Prints,
            result.BarsProcessed, result.Fills, result.Orders, result.EquityCurve, statistics,
            result.FinalQuoteBalance, result.FinalPosition, result.FinalEquity,
            result.Fault is { } f ? new BacktestFaultView(StrategyStore.FaultReasonName(f.Reason), f.Message, f.Call) : null,
            result.Logs, result.TotalFuel, result.Stopped));
    }

    /// <summary>The request's rates where it gives them (makerFeeRate/takerFeeRate, else feeRate), the account's for the rest.</summary>
    private static async Task<FeeRates> FeesAsync(BacktestRequest request, AccountFeeRates accountFees, Guid userId, CancellationToken ct)
    {
        var (maker, taker) = (request.MakerFeeRate ?? request.FeeRate, request.TakerFeeRate ?? request.FeeRate);
        if (maker is null || taker is null)
        {
            var account = await accountFees.ReadAsync(userId, ct);
            (maker, taker) = (maker ?? account.Maker, taker ?? account.Taker);
        }
        return new FeeRates(maker.Value, taker.Value);
    }

    /// <summary>
    /// Realised PnL of every sell at average cost (fees included: a buy's fee goes into the cost, a sell's is
    /// subtracted from the proceeds). Spot and long-only, as the backtester is, so every sell closes (part of) a trade.
    /// </summary>
    public static IReadOnlyList<decimal> ClosedTradePnls(IReadOnlyList<BacktestFill> fills)
    {
        var pnls = new List<decimal>();
        decimal position = 0, cost = 0;
        foreach (var fill in fills)
        {
            if (fill.Side == OrderSide.Buy)
            {
                position += fill.Quantity;
                cost += fill.Price * fill.Quantity + fill.Fee;
            }
            else if (position > 0)
            {
                var quantity = Math.Min(fill.Quantity, position);
                var averageCost = cost / position;
                pnls.Add(fill.Price * quantity - fill.Fee - averageCost * quantity);
                cost -= averageCost * quantity;
                position -= quantity;
            }
        }
        return pnls;
    }
}
