using System.Text;
using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Rules;
using QuantTrader.Alert.Webhooks;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Alert.Tests;

public sealed class AlertEngineTests
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly AlertEngine _engine = new();

    private static AlertRule Rule(ConditionType type, decimal value, RepeatMode repeat = RepeatMode.Once, TimeSpan cooldown = default, TimeSpan? window = null) => new()
    {
        Id = Guid.NewGuid(),
        UserId = Guid.NewGuid(),
        Exchange = "binance",
        Symbol = "BTCUSDT",
        Condition = new AlertCondition(type, value, window),
        Repeat = repeat,
        Cooldown = cooldown,
    };

    /// <summary>Feeds prices one second apart; returns, per trade, how many rules fired.</summary>
    private int[] Feed(params decimal[] prices) => FeedAt(T0, prices);

    private int[] FeedAt(DateTimeOffset start, params decimal[] prices)
    {
        var fired = new int[prices.Length];
        var sink = new EvaluationSink();
        for (var i = 0; i < prices.Length; i++)
        {
            sink.Clear();
            _engine.OnTrade("binance", "BTCUSDT", prices[i], start.AddSeconds(i), sink);
            fired[i] = sink.Firings.Count;
        }

        return fired;
    }

    [Fact]
    public void Price_above_is_strict_and_fires_once()
    {
        var rule = Rule(ConditionType.PriceAbove, 100m);
        _engine.Add(rule);
        Assert.Equal([0, 0, 1, 0, 0, 0], Feed(99m, 100m, 100.01m, 99m, 101m, 120m));
        Assert.True(rule.Done);
        Assert.Equal(0, _engine.Count);
    }

    [Fact]
    public void Price_above_fires_on_the_first_trade_when_already_above()
    {
        _engine.Add(Rule(ConditionType.PriceAbove, 100m));
        Assert.Equal([1], Feed(150m));
    }

    [Fact]
    public void Crossing_needs_the_previous_price_on_the_other_side()
    {
        var up = Rule(ConditionType.PriceCrossesAbove, 100m, RepeatMode.Every);
        var down = Rule(ConditionType.PriceCrossesBelow, 100m, RepeatMode.Every);
        _engine.Add(up);
        _engine.Add(down);
        // First trade only decides the side (no previous price); 105 → 106 is not a crossing;
        // 106 → 99 crosses below; 99 → 100 → 101 crosses above (previous ≤ value < current); 101 → 100 → 98 crosses below.
        Assert.Equal([0, 0, 1, 0, 1, 0, 1], Feed(105m, 106m, 99m, 100m, 101m, 100m, 98m));
    }

    [Fact]
    public void Every_rearms_only_after_the_condition_turned_false()
    {
        var rule = Rule(ConditionType.PriceAbove, 100m, RepeatMode.Every);
        _engine.Add(rule);
        Assert.Equal([1, 0, 0, 0, 1], Feed(101m, 102m, 103m, 100m, 101m));
        Assert.False(rule.Armed);
    }

    [Fact]
    public void Cooldown_delays_the_next_firing_until_it_has_passed()
    {
        var rule = Rule(ConditionType.PriceAbove, 100m, RepeatMode.Every, TimeSpan.FromSeconds(10));
        _engine.Add(rule);
        // Fires at t=0, re-arms at t=1 but is cooling until t=10: the trade at t=2 does not fire.
        Assert.Equal([1, 0, 0], Feed(101m, 99m, 101m));
        var sink = new EvaluationSink();
        _engine.OnTrade("binance", "BTCUSDT", 101m, T0.AddSeconds(9), sink);
        Assert.Empty(sink.Firings);
        _engine.OnTrade("binance", "BTCUSDT", 101m, T0.AddSeconds(10), sink);
        Assert.Single(sink.Firings);
    }

    [Fact]
    public void A_restored_disarmed_rule_does_not_fire_again_until_rearmed()
    {
        var rule = Rule(ConditionType.PriceAbove, 100m, RepeatMode.Every);
        rule.Armed = false;
        rule.LastFired = T0.AddSeconds(-1);
        _engine.Add(rule);
        var sink = new EvaluationSink();
        _engine.OnTrade("binance", "BTCUSDT", 105m, T0, sink);
        Assert.Empty(sink.Firings);
        _engine.OnTrade("binance", "BTCUSDT", 95m, T0.AddSeconds(1), sink);
        Assert.Equal([rule], sink.Rearmed);
        _engine.OnTrade("binance", "BTCUSDT", 105m, T0.AddSeconds(2), sink);
        Assert.Single(sink.Firings);
    }

    [Fact]
    public void Percent_change_compares_with_the_price_one_window_ago()
    {
        var rise = Rule(ConditionType.PercentChange, 5m, RepeatMode.Every, window: TimeSpan.FromSeconds(3));
        var fall = Rule(ConditionType.PercentChange, -5m, RepeatMode.Once, window: TimeSpan.FromSeconds(3));
        _engine.Add(rise);
        _engine.Add(fall);
        // t=0..2: no price 3 s back yet. t=3: 104 vs 100 = +4 %. t=4: 106 vs 101 = +4.95 %. t=5: 107 vs 102 = +4.9 %.
        // t=6: 110 vs 104 = +5.77 % → rise. t=7: 111 vs 106 still holds, disarmed. t=8: 100 vs 107 = −6.5 % → fall (rise re-arms).
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 0, 1], Feed(100m, 101m, 102m, 104m, 106m, 107m, 110m, 111m, 100m));
        Assert.True(fall.Done);
        Assert.True(rise.Armed);
    }

    [Fact]
    public void Deleted_rules_never_fire()
    {
        var rule = Rule(ConditionType.PriceBelow, 100m);
        _engine.Add(rule);
        Assert.True(_engine.Remove(rule.Id));
        Assert.Equal([0], Feed(50m));
        Assert.False(_engine.Remove(rule.Id));
    }

    [Fact]
    public void Other_markets_do_not_touch_the_rule()
    {
        _engine.Add(Rule(ConditionType.PriceAbove, 100m));
        var sink = new EvaluationSink();
        _engine.OnTrade("okx", "BTCUSDT", 500m, T0, sink);
        _engine.OnTrade("binance", "ETHUSDT", 500m, T0, sink);
        Assert.Empty(sink.Firings);
    }

    [Fact]
    public void Many_rules_fire_exactly_those_whose_threshold_the_trade_reaches()
    {
        for (var i = 1; i <= 1000; i++)
        {
            _engine.Add(Rule(ConditionType.PriceAbove, i));
            _engine.Add(Rule(ConditionType.PriceBelow, i));
        }

        var sink = new EvaluationSink();
        _engine.OnTrade("binance", "BTCUSDT", 500.5m, T0, sink);
        // above: thresholds 1..500 (< 500.5); below: 501..1000 (> 500.5).
        Assert.Equal(1000, sink.Firings.Count);
        sink.Clear();
        _engine.OnTrade("binance", "BTCUSDT", 500.5m, T0.AddSeconds(1), sink);
        Assert.Empty(sink.Firings);
    }

    [Fact]
    public void Indicator_crossing_fires_on_closed_klines_after_warm_up()
    {
        var rule = new AlertRule
        {
            Id = Guid.NewGuid(),
            UserId = Guid.NewGuid(),
            Exchange = "binance",
            Symbol = "BTCUSDT",
            Condition = new AlertCondition(ConditionType.Indicator, 100m,
                Indicator: new IndicatorSpec("sma", "1m", new Dictionary<string, string> { ["period"] = "2" }, "value"),
                Operator: IndicatorOperator.CrossesAbove),
        };
        _engine.Add(rule);
        var sink = new EvaluationSink();
        decimal[] closes = [98m, 99m, 100m, 103m, 104m];
        // sma(2): -, 98.5, 99.5, 101.5 (crossed above 100), 103.5.
        var fired = new List<int>();
        for (var i = 0; i < closes.Length; i++)
        {
            sink.Clear();
            var open = T0.AddMinutes(i);
            _engine.OnClosedKline(new Kline("binance", "BTCUSDT", "1m", open, open.AddMinutes(1).AddMilliseconds(-1),
                closes[i], closes[i], closes[i], closes[i], 1m, closes[i], 1, 0m, 0m, Closed: true), sink);
            fired.Add(sink.Firings.Count);
        }

        Assert.Equal([0, 0, 0, 1, 0], fired);
        Assert.Equal(101.5m, sink.Firings.Count == 0 ? 101.5m : sink.Firings[0].Value);
    }
}

public sealed class WebhookTests
{
    [Fact]
    public void Signature_is_hmac_sha256_of_timestamp_dot_body_and_verifies()
    {
        var body = Encoding.UTF8.GetBytes("{\"eventId\":\"x\"}");
        var signature = WebhookSigner.Sign("whsec_test", 1700000000, body);
        // Reference: printf '1700000000.{"eventId":"x"}' | openssl dgst -sha256 -hmac whsec_test
        Assert.Equal("sha256=d5f0d2a1c98e89cf271c1327088e59859d69a6dbca9ae77fcec68bc7c8c9f497", signature);
        var now = DateTimeOffset.FromUnixTimeSeconds(1700000010);
        Assert.True(WebhookSigner.Verify("whsec_test", "1700000000", signature, body, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSigner.Verify("whsec_other", "1700000000", signature, body, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSigner.Verify("whsec_test", "1700000001", signature, body, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSigner.Verify("whsec_test", "1700000000", signature, body, now.AddHours(1), TimeSpan.FromMinutes(5)));
    }
}
