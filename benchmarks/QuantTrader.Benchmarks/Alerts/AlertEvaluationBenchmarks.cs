using BenchmarkDotNet.Attributes;
using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Rules;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Benchmarks.Alerts;

/// <summary>
/// Issue 4: alert evaluation with 1 M live rules, goal: a trade with no rule firing in under 1 µs.
/// <para>Rules (seeded, realistic mix): 1 000 000 over 1 000 binance markets, 10 % of them on one hot market (BTCUSDT),
/// the rest spread evenly. 40 % price_above/price_below and 30 % price_crosses_above/below with thresholds 0.5–30 %
/// away from the market's price on the side that makes sense; 15 % percent_change over 5m, 1h or 1d of ±1–10 %;
/// 15 % indicator rules — rsi(14) crosses above 70 / below 30 on 1m, 5m or 1h, and ema(20) above/below a level
/// 10–30 % away on 1m or 1h. 80 % repeat once, 20 % every with a 60 s cooldown.</para>
/// <para>Input: trades that wander one tick around each market's price and closed klines that alternate up and down
/// (RSI stays near 50), so nothing fires and every iteration measures the same state. Setup checks that claim and
/// throws when a rule fires. Trade and kline times advance across invocations, as they do live.</para>
/// Baseline: the floor of an index for a trade that reaches nothing — a dictionary lookup of the market and two
/// decimal comparisons with its nearest thresholds.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class AlertEvaluationBenchmarks
{
    private const int RuleCount = 1_000_000;
    private const int MarketCount = 1_000;
    private const int Batch = 1_000;
    private const string Hot = "BTCUSDT";
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly AlertEngine _engine = new();
    private readonly EvaluationSink _sink = new();
    private readonly Dictionary<(string, string), (decimal Low, decimal High)> _nearest = [];
    private string[] _symbols = [];
    private decimal[] _prices = [];
    private long _tradeStep;
    private int _minute;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(4);
        _symbols = [Hot, .. Enumerable.Range(1, MarketCount - 1).Select(i => $"S{i:D4}USDT")];
        _prices = [.. _symbols.Select((_, i) => i == 0 ? 60_000m : Math.Round(10m + (decimal)random.NextDouble() * 5_000m, 2))];
        var users = Enumerable.Range(0, 50_000).Select(_ => Guid.NewGuid()).ToArray();
        for (var n = 0; n < RuleCount; n++)
        {
            var m = n % 10 == 0 ? 0 : 1 + random.Next(MarketCount - 1);
            var price = _prices[m];
            var away = 0.005m + ((decimal)random.NextDouble() * 0.295m);
            var up = random.Next(2) == 0;
            var level = Math.Round(up ? price * (1 + away) : price * (1 - away), 2);
            var kind = random.Next(100);
            AlertCondition condition = kind switch
            {
                < 40 => new AlertCondition(up ? ConditionType.PriceAbove : ConditionType.PriceBelow, level),
                < 70 => new AlertCondition(up ? ConditionType.PriceCrossesAbove : ConditionType.PriceCrossesBelow, level),
                < 85 => new AlertCondition(ConditionType.PercentChange, (up ? 1 : -1) * (1 + random.Next(10)),
                    Window: random.Next(3) switch { 0 => TimeSpan.FromMinutes(5), 1 => TimeSpan.FromHours(1), _ => TimeSpan.FromDays(1) }),
                < 93 => new AlertCondition(ConditionType.Indicator, up ? 70 : 30,
                    Indicator: new IndicatorSpec("rsi", random.Next(3) switch { 0 => "1m", 1 => "5m", _ => "1h" }, new Dictionary<string, string> { ["period"] = "14" }, "value"),
                    Operator: up ? IndicatorOperator.CrossesAbove : IndicatorOperator.CrossesBelow),
                _ => new AlertCondition(ConditionType.Indicator, Math.Round(price * (up ? 1.1m + away : 0.9m - away / 2), 2),
                    Indicator: new IndicatorSpec("ema", random.Next(2) == 0 ? "1m" : "1h", new Dictionary<string, string> { ["period"] = "20" }, "value"),
                    Operator: up ? IndicatorOperator.Above : IndicatorOperator.Below),
            };
            var every = random.Next(5) == 0;
            _engine.Add(new AlertRule
            {
                Id = Guid.NewGuid(),
                UserId = users[random.Next(users.Length)],
                Exchange = "binance",
                Symbol = _symbols[m],
                Condition = condition,
                Repeat = every ? RepeatMode.Every : RepeatMode.Once,
                Cooldown = every ? TimeSpan.FromSeconds(60) : TimeSpan.Zero,
            });
        }

        // Live state: 30 closed klines per market and interval warm the indicators up (and give crossing rules their
        // side), a first trade per market places the price crossings, and the percent windows get their history.
        for (var i = 0; i < 30; i++)
        {
            for (var m = 0; m < MarketCount; m++)
            {
                foreach (var interval in new[] { "1m", "5m", "1h" })
                {
                    _engine.OnClosedKline(Kline(m, interval, i), _sink);
                }
            }
        }

        _minute = 30;
        for (var m = 0; m < MarketCount; m++)
        {
            _nearest[("binance", _symbols[m])] = (_prices[m] * 0.995m, _prices[m] * 1.005m);
        }

        TradesOnHotMarket();
        TradesAcrossMarkets();
        KlinesOnHotMarket();
        if (_engine.Count != RuleCount || _sink.Firings.Count > 0)
        {
            throw new InvalidOperationException($"The input must fire nothing: {RuleCount - _engine.Count} rules fired in setup.");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "Baseline: market lookup + 2 decimal compares")]
    public int Floor()
    {
        var reached = 0;
        for (var i = 0; i < Batch; i++)
        {
            var m = i % MarketCount;
            var (low, high) = _nearest[("binance", _symbols[m])];
            var price = Wander(m, i);
            reached += price <= low || price >= high ? 1 : 0;
        }

        return reached;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "Trade on the hot market (100k rules), none fires (goal < 1 us)")]
    public int TradesOnHotMarket()
    {
        var t = T0.AddDays(2);
        for (var i = 0; i < Batch; i++)
        {
            var step = ++_tradeStep;
            _engine.OnTrade("binance", Hot, Wander(0, step), t.AddTicks(step * TimeSpan.TicksPerMillisecond * 50), _sink);
        }

        return _sink.Firings.Count;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "Trade on each of 1000 markets (1M rules), none fires (goal < 1 us)")]
    public int TradesAcrossMarkets()
    {
        var t = T0.AddDays(2);
        for (var i = 0; i < Batch; i++)
        {
            var step = ++_tradeStep;
            var m = i % MarketCount;
            _engine.OnTrade("binance", _symbols[m], Wander(m, step), t.AddTicks(step * TimeSpan.TicksPerMillisecond * 50), _sink);
        }

        return _sink.Firings.Count;
    }

    [Benchmark(Description = "Closed 1m kline of the hot market (its rsi and ema groups), none fires")]
    public int KlinesOnHotMarket()
    {
        _engine.OnClosedKline(Kline(0, "1m", _minute++), _sink);
        return _sink.Firings.Count;
    }

    /// <summary>The market's price, one tick up or down or unchanged: reaches no threshold (all ≥ 0.5 % away).</summary>
    private decimal Wander(int market, long step) => _prices[market] + ((step % 3) - 1) * 0.01m;

    /// <summary>Closes alternate one tick up and down, so RSI stays near 50 and ema near the price.</summary>
    private Kline Kline(int market, string interval, int index)
    {
        var length = KlineIntervals.All[interval];
        var open = T0 + (length * index);
        var close = _prices[market] + (index % 2 == 0 ? 0.01m : -0.01m);
        return new Kline("binance", _symbols[market], interval, open, open + length - TimeSpan.FromMilliseconds(1),
            close, close, close, close, 1m, close, 1, 0m, 0m, Closed: true);
    }
}
