using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Rules;

namespace QuantTrader.Alert.Tests;

public sealed class BucketedPriceWindowTests
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_reference_is_the_last_price_at_or_before_one_window_ago()
    {
        var prices = new BucketedPriceWindow(TimeSpan.FromSeconds(30));
        prices.Add(T0, 100m);
        prices.Add(T0.AddSeconds(10), 110m);

        Assert.Null(prices.ReferenceFor(T0.AddSeconds(29)));
        Assert.Equal(100m, prices.ReferenceFor(T0.AddSeconds(30)));
        Assert.Equal(100m, prices.ReferenceFor(T0.AddSeconds(39)));
        Assert.Equal(110m, prices.ReferenceFor(T0.AddSeconds(40)));
        Assert.Equal(110m, prices.ReferenceFor(T0.AddHours(5)));
    }

    [Fact]
    public void When_the_market_traded_later_in_the_same_step_the_price_before_that_step_is_the_reference()
    {
        // 120 s over 120 buckets: steps of 1 s, (T0, T0 + 1 s] is one step.
        var prices = new BucketedPriceWindow(TimeSpan.FromSeconds(120));
        Assert.Equal(TimeSpan.FromSeconds(1), prices.Step);
        prices.Add(T0.AddMilliseconds(-500), 90m);
        prices.Add(T0.AddMilliseconds(200), 100m);
        prices.Add(T0.AddMilliseconds(800), 200m);

        // One window before T0 + 120.5 s is T0 + 0.5 s: its step also traded at 0.8 s, so the step before answers.
        Assert.Equal(90m, prices.ReferenceFor(T0.AddMilliseconds(120_500)));
        // From T0 + 120.8 s on, the step's last trade is not after the target: exact again.
        Assert.Equal(200m, prices.ReferenceFor(T0.AddMilliseconds(120_800)));
    }

    [Fact]
    public void A_million_trades_over_more_than_a_day_keep_the_window_at_its_fixed_size()
    {
        var prices = new BucketedPriceWindow(TimeSpan.FromDays(1));
        var maxHeld = 0;
        for (var i = 0; i < 1_000_000; i++)
        {
            var time = T0.AddMilliseconds(i * 100L);
            prices.ReferenceFor(time);
            prices.Add(time, 100m + (i % 7));
            maxHeld = Math.Max(maxHeld, prices.Count);
        }

        Assert.InRange(maxHeld, 1, BucketedPriceWindow.Capacity);
    }

    [Fact]
    public void A_one_day_percent_change_rule_fires_correctly_after_a_million_trades_with_bounded_memory()
    {
        var engine = new AlertEngine();
        var rule = new AlertRule
        {
            Id = Guid.NewGuid(),
            UserId = Guid.NewGuid(),
            Exchange = "binance",
            Symbol = "BTCUSDT",
            Condition = new AlertCondition(ConditionType.PercentChange, 10m, TimeSpan.FromDays(1)),
            Repeat = RepeatMode.Once,
        };
        engine.Add(rule);
        var sink = new EvaluationSink();

        // A million trades, 100 ms apart (27.8 h), the price drifting between 100 and 105: never +10 % over a day.
        var time = T0;
        for (var i = 0; i < 1_000_000; i++)
        {
            time = T0.AddMilliseconds(i * 100L);
            engine.OnTrade("binance", "BTCUSDT", 100m + (i % 6), time, sink);
        }

        Assert.Empty(sink.Firings);
        Assert.InRange(engine.RememberedPrices, 1, BucketedPriceWindow.Capacity);

        // 116 against a day-old price of at most 105: at least +10.5 % → fires, with the change as the value.
        engine.OnTrade("binance", "BTCUSDT", 116m, time.AddSeconds(1), sink);
        var fired = Assert.Single(sink.Firings);
        Assert.Equal(rule.Id, fired.Rule.Id);
        Assert.True(fired.Value >= 10.4m, $"change {fired.Value}");
    }
}
