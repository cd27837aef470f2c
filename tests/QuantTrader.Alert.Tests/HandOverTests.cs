using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Rules;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Alert.Tests;

/// <summary>What a new owner of a partition takes over from the previous one: firing ids and the engine's memory.</summary>
public sealed class HandOverTests
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static AlertRule Rule(ConditionType type, decimal value, TimeSpan? window = null) => new()
    {
        Id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
        UserId = Guid.NewGuid(),
        Exchange = "binance",
        Symbol = "BTCUSDT",
        Condition = new AlertCondition(type, value, window),
        Repeat = RepeatMode.Every,
    };

    [Fact]
    public void A_firing_id_depends_only_on_the_rule_and_its_trigger()
    {
        var rule = Guid.NewGuid();
        var trade = new Trade("binance", "BTCUSDT", 42, 101m, 1m, TakerSide.Buy, T0);
        var id = Triggers.FiringId(rule, Triggers.Trade(trade));
        Assert.Equal(id, Triggers.FiringId(rule, "binance:BTCUSDT:42"));
        Assert.NotEqual(id, Triggers.FiringId(rule, "binance:BTCUSDT:43"));
        Assert.NotEqual(id, Triggers.FiringId(Guid.NewGuid(), "binance:BTCUSDT:42"));
        Assert.Equal(8, id.Version);
        Assert.Equal("binance:BTCUSDT:1m:1709251200000",
            Triggers.Kline(new Kline("binance", "BTCUSDT", "1m", T0, T0.AddMinutes(1).AddMilliseconds(-1), 1m, 1m, 1m, 1m, 1m, 1m, 1, 1m, 1m, true)));
    }

    [Fact]
    public void A_new_owner_recalling_the_memory_sees_a_crossing_that_straddles_the_hand_over()
    {
        var before = new AlertEngine();
        before.Add(Rule(ConditionType.PriceCrossesAbove, 100m));
        var sink = new EvaluationSink();
        before.OnTrade("binance", "BTCUSDT", 99m, T0, sink);

        // Without the memory the first trade after the hand-over would only set the side; with it, it crosses.
        var after = new AlertEngine();
        after.Recall(before.Remember());
        after.Add(Rule(ConditionType.PriceCrossesAbove, 100m));
        after.ForgetRecalled();
        after.OnTrade("binance", "BTCUSDT", 101m, T0.AddSeconds(1), sink);
        Assert.Single(sink.Firings);
    }

    [Fact]
    public void A_new_owner_recalling_the_memory_measures_a_percent_change_from_prices_it_never_saw()
    {
        var window = TimeSpan.FromSeconds(30);
        var before = new AlertEngine();
        before.Add(Rule(ConditionType.PercentChange, 5m, window));
        var sink = new EvaluationSink();
        before.OnTrade("binance", "BTCUSDT", 100m, T0, sink);

        var after = new AlertEngine();
        after.Recall(before.Remember());
        after.Add(Rule(ConditionType.PercentChange, 5m, window));
        after.ForgetRecalled();
        after.OnTrade("binance", "BTCUSDT", 106m, T0.AddSeconds(31), sink);
        Assert.Equal(6m, Assert.Single(sink.Firings).Value);
    }
}
