using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Rules;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Alert.Tests;

/// <summary>
/// Percent-change rules are indexed per market and window, indicator rules per market, interval and indicator: these
/// check that the index gives the same answers as evaluating every rule would, and touches nothing else.
/// </summary>
public sealed class AlertIndexTests
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly AlertEngine _engine = new();

    private static AlertRule Percent(decimal value, TimeSpan window, RepeatMode repeat = RepeatMode.Once, string symbol = "BTCUSDT") => new()
    {
        Id = Guid.NewGuid(),
        UserId = Guid.NewGuid(),
        Exchange = "binance",
        Symbol = symbol,
        Condition = new AlertCondition(ConditionType.PercentChange, value, window),
        Repeat = repeat,
    };

    private static AlertRule Sma(int period, IndicatorOperator op, decimal value, string interval = "1m", RepeatMode repeat = RepeatMode.Once,
        string symbol = "BTCUSDT", string periodKey = "period", TimeSpan cooldown = default) => new()
    {
        Id = Guid.NewGuid(),
        UserId = Guid.NewGuid(),
        Exchange = "binance",
        Symbol = symbol,
        Condition = new AlertCondition(ConditionType.Indicator, value,
            Indicator: new IndicatorSpec("sma", interval, new Dictionary<string, string> { [periodKey] = $"{period}" }, "value"),
            Operator: op),
        Repeat = repeat,
        Cooldown = cooldown,
    };

    private static Kline Bar(string interval, int index, decimal close, string symbol = "BTCUSDT")
    {
        var length = KlineIntervals.All[interval];
        var open = T0 + (length * index);
        return new Kline("binance", symbol, interval, open, open + length - TimeSpan.FromMilliseconds(1),
            close, close, close, close, 1m, close, 1, 0m, 0m, Closed: true);
    }

    private List<Firing> Klines(params Kline[] klines)
    {
        var fired = new List<Firing>();
        var sink = new EvaluationSink();
        foreach (var kline in klines)
        {
            sink.Clear();
            _engine.OnClosedKline(kline, sink);
            fired.AddRange(sink.Firings);
        }

        return fired;
    }

    private List<Firing> Trades(params (int Second, decimal Price)[] trades)
    {
        var fired = new List<Firing>();
        var sink = new EvaluationSink();
        foreach (var (second, price) in trades)
        {
            sink.Clear();
            _engine.OnTrade("binance", "BTCUSDT", price, T0.AddSeconds(second), sink);
            fired.AddRange(sink.Firings);
        }

        return fired;
    }

    [Fact]
    public void Percent_rules_of_one_window_fire_exactly_those_whose_threshold_the_change_reaches()
    {
        var rises = Enumerable.Range(1, 10).Select(i => Percent(i, TimeSpan.FromSeconds(10))).ToList();
        var falls = Enumerable.Range(1, 10).Select(i => Percent(-i, TimeSpan.FromSeconds(10))).ToList();
        foreach (var rule in rises.Concat(falls))
        {
            _engine.Add(rule);
        }

        // +5 % exactly over 10 s: thresholds 1..5 fire ("at least", inclusive), 6..10 and every fall do not.
        var fired = Trades((0, 100m), (10, 105m));
        Assert.Equal(rises.Take(5).Select(r => r.Id).Order(), fired.Select(f => f.Rule.Id).Order());
        Assert.All(fired, f => Assert.Equal(5m, f.Value));

        // 105 → 94.5 is −10 % against the price 10 s back: every fall fires, −10 % included.
        fired = Trades((20, 94.5m));
        Assert.Equal(falls.Select(r => r.Id).Order(), fired.Select(f => f.Rule.Id).Order());
    }

    [Fact]
    public void Each_window_compares_with_its_own_reference_price()
    {
        var short5 = Percent(5m, TimeSpan.FromSeconds(5));
        var long5 = Percent(5m, TimeSpan.FromSeconds(60));
        _engine.Add(short5);
        _engine.Add(long5);
        // t=60: 60 s back the price was 100 (+6 %), 5 s back it was 104 (+1.9 %): only the long window fires.
        var fired = Trades((0, 100m), (55, 104m), (60, 106m));
        Assert.Equal([long5.Id], fired.Select(f => f.Rule.Id));
    }

    [Fact]
    public void Every_percent_rule_rearms_when_the_change_falls_below_its_threshold()
    {
        var rule = Percent(5m, TimeSpan.FromSeconds(1), RepeatMode.Every);
        _engine.Add(rule);
        // t=1 +5 % fires; t=2 +4.76 % re-arms; t=3 +9.1 % fires again.
        Assert.Equal(2, Trades((0, 100m), (1, 105m), (2, 110m), (3, 120m)).Count);
    }

    [Fact]
    public void Rules_with_the_same_indicator_share_it_and_fire_by_their_own_thresholds()
    {
        var above100 = Sma(2, IndicatorOperator.CrossesAbove, 100m);
        var above102 = Sma(2, IndicatorOperator.CrossesAbove, 102m, periodKey: "PERIOD"); // same indicator, other key case
        var below99 = Sma(2, IndicatorOperator.Below, 99m);
        _engine.Add(above100);
        Assert.False(_engine.NeedsWarmup(above102));
        _engine.Add(above102);
        _engine.Add(below99);

        // sma(2): -, 98.5 (below 99 fires: level, once), 99.5, 101.5 (crosses 100), 103.5 (crosses 102).
        var fired = Klines(Bar("1m", 0, 98m), Bar("1m", 1, 99m), Bar("1m", 2, 100m), Bar("1m", 3, 103m), Bar("1m", 4, 104m));
        Assert.Equal([below99.Id, above100.Id, above102.Id], fired.Select(f => f.Rule.Id));
        Assert.Equal([98.5m, 101.5m, 103.5m], fired.Select(f => f.Value!.Value));
        Assert.Equal([99m, 103m, 104m], fired.Select(f => f.Price));
        Assert.Equal(0, _engine.Count);
    }

    [Fact]
    public void A_rule_joining_a_warm_group_takes_its_side_from_the_current_value()
    {
        var first = Sma(1, IndicatorOperator.Above, 1_000m);
        _engine.Add(first);
        Klines(Bar("1m", 0, 105m));

        // The shared sma(1) is at 105, above 100: a crossing rule added now starts on the far side and fires only
        // after the value went back to or below 100 and up again.
        var crossing = Sma(1, IndicatorOperator.CrossesAbove, 100m);
        Assert.False(_engine.NeedsWarmup(crossing));
        _engine.Add(crossing);
        Assert.Empty(Klines(Bar("1m", 1, 106m)));
        Assert.Empty(Klines(Bar("1m", 2, 99m)));
        Assert.Equal([crossing.Id], Klines(Bar("1m", 3, 101m)).Select(f => f.Rule.Id));
    }

    [Fact]
    public void Klines_of_other_intervals_and_markets_do_not_feed_the_group()
    {
        var hourly = Sma(2, IndicatorOperator.CrossesAbove, 100m, interval: "1h");
        var eth = Sma(2, IndicatorOperator.CrossesAbove, 100m, symbol: "ETHUSDT");
        _engine.Add(hourly);
        _engine.Add(eth);

        // 1m BTC klines far above 100 must not reach the 1h group or the ETH group.
        Assert.Empty(Klines(Bar("1m", 0, 500m), Bar("1m", 1, 500m), Bar("1m", 2, 500m)));
        // 1h: sma(2) 90 → 95 → 105 crosses above only with the hourly closes alone.
        Assert.Equal([hourly.Id], Klines(Bar("1h", 0, 90m), Bar("1h", 1, 90m), Bar("1h", 2, 100m), Bar("1h", 3, 110m)).Select(f => f.Rule.Id));
        Assert.Equal([eth.Id], Klines(Bar("1m", 0, 90m, "ETHUSDT"), Bar("1m", 1, 90m, "ETHUSDT"), Bar("1m", 2, 120m, "ETHUSDT")).Select(f => f.Rule.Id));
    }

    [Fact]
    public void An_indicator_level_rule_every_waits_for_its_cooldown()
    {
        var rule = Sma(1, IndicatorOperator.Above, 100m, repeat: RepeatMode.Every, cooldown: TimeSpan.FromMinutes(3));
        _engine.Add(rule);
        // Fires at bar 0, re-arms at bar 1, bar 2 is inside the cooldown (3 min after bar 0's close), bar 3 fires.
        var fired = Klines(Bar("1m", 0, 101m), Bar("1m", 1, 99m), Bar("1m", 2, 101m), Bar("1m", 3, 101m));
        Assert.Equal([Bar("1m", 0, 0m).CloseTime, Bar("1m", 3, 0m).CloseTime], fired.Select(f => f.Time));
    }

    [Fact]
    public void Removing_the_last_rule_of_a_group_drops_it()
    {
        var rule = Sma(2, IndicatorOperator.Above, 100m);
        Assert.True(_engine.NeedsWarmup(rule));
        _engine.Add(rule);
        Assert.False(_engine.NeedsWarmup(Sma(2, IndicatorOperator.Below, 5m)));
        Assert.True(_engine.Remove(rule.Id));
        Assert.True(_engine.NeedsWarmup(Sma(2, IndicatorOperator.Below, 5m)));
        Assert.Empty(Klines(Bar("1m", 0, 500m), Bar("1m", 1, 500m)));

        var percent = Percent(1m, TimeSpan.FromSeconds(1));
        _engine.Add(percent);
        Assert.True(_engine.Remove(percent.Id));
        Assert.Empty(Trades((0, 100m), (1, 200m)));
    }
}
