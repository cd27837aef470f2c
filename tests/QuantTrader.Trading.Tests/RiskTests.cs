using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Risk;
using static QuantTrader.Trading.Tests.Build;

namespace QuantTrader.Trading.Tests;

public sealed class RiskTests
{
    private static readonly RiskLimits Limits = new(MaxOrderNotional: 1000m, MaxPositionNotional: 5000m, MaxDailyLoss: 200m, MaxOpenOrders: 3);

    private static RiskCheckRequest Request(
        OrderSide side = OrderSide.Buy, decimal quantity = 1m, decimal price = 100m,
        int openOrders = 0, decimal position = 0m, decimal dailyPnl = 0m) =>
        new(Alice, "binance", "BTCUSDT", side, quantity, price, openOrders, position, dailyPnl);

    [Fact]
    public void An_order_within_every_limit_is_accepted()
    {
        Assert.Equal(new RiskCheckReply(true, null, null), RiskEvaluator.Check(Request(), Limits));
    }

    [Fact]
    public void Order_notional_above_the_limit_names_maxOrderNotional_and_the_numbers()
    {
        var reply = RiskEvaluator.Check(Request(quantity: 10.01m), Limits);

        Assert.False(reply.Accepted);
        Assert.Equal("maxOrderNotional", reply.Limit);
        Assert.Contains("1001", reply.Reason, StringComparison.Ordinal);
        Assert.Contains("1000", reply.Reason, StringComparison.Ordinal);
        Assert.True(RiskEvaluator.Check(Request(quantity: 10m), Limits).Accepted); // exactly at the limit
    }

    [Fact]
    public void Position_growing_past_the_limit_names_maxPositionNotional()
    {
        var reply = RiskEvaluator.Check(Request(quantity: 5m, position: 4600m), Limits);

        Assert.Equal("maxPositionNotional", reply.Limit);
        Assert.Contains("5100", reply.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Orders_that_reduce_a_position_are_allowed_even_above_the_position_and_loss_limits()
    {
        Assert.True(RiskEvaluator.Check(Request(OrderSide.Sell, quantity: 5m, position: 9000m), Limits).Accepted);
        Assert.True(RiskEvaluator.Check(Request(OrderSide.Sell, quantity: 5m, position: 9000m, dailyPnl: -500m), Limits).Accepted);
        Assert.Equal("maxPositionNotional", RiskEvaluator.Check(Request(OrderSide.Sell, quantity: 10m, position: -4500m), Limits).Limit);
    }

    [Fact]
    public void Daily_loss_at_the_limit_names_maxDailyLoss()
    {
        Assert.Equal("maxDailyLoss", RiskEvaluator.Check(Request(dailyPnl: -200m), Limits).Limit);
        Assert.True(RiskEvaluator.Check(Request(dailyPnl: -199.99m), Limits).Accepted);
        Assert.True(RiskEvaluator.Check(Request(dailyPnl: 0m), Limits with { MaxDailyLoss = 0m }).Accepted); // no loss yet
    }

    [Fact]
    public void Too_many_open_orders_names_maxOpenOrders()
    {
        Assert.Equal("maxOpenOrders", RiskEvaluator.Check(Request(openOrders: 3), Limits).Limit);
        Assert.True(RiskEvaluator.Check(Request(openOrders: 2), Limits).Accepted);
    }

    [Fact]
    public void Kill_switch_rejects_everything()
    {
        var reply = RiskEvaluator.Check(Request(), Limits, killSwitch: true);

        Assert.Equal("killSwitch", reply.Limit);
        Assert.NotNull(reply.Reason);
    }

    [Fact]
    public void Clamp_lowers_each_limit_to_the_operator_ceiling()
    {
        var ceiling = new RiskLimits(500m, 10_000m, 100m, 10);

        Assert.Equal(new RiskLimits(500m, 5000m, 100m, 3), Limits.Clamp(ceiling));
        Assert.Equal(Limits, Limits.Clamp(RiskLimits.Unlimited));
    }

    [Fact]
    public void Validate_names_every_field_above_the_ceiling_or_negative()
    {
        var ceiling = new RiskLimits(500m, 10_000m, 100m, 10);

        var errors = new RiskLimits(1000m, -1m, 100m, 11).Validate(ceiling);

        Assert.Equal(["maxOrderNotional", "maxPositionNotional", "maxOpenOrders"], errors.Select(e => e.Field));
        Assert.Empty(Limits.Validate(RiskLimits.Unlimited));
    }
}
