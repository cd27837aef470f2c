using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Orders;
using static QuantTrader.Trading.Tests.Build;

namespace QuantTrader.Trading.Tests;

public sealed class OrderValidatorTests
{
    private static IReadOnlyList<string> Fields(OrderRequest order, decimal? referencePrice = 100m) =>
        [.. OrderValidator.Validate(order, BtcUsdt, referencePrice).Select(e => e.Field)];

    [Fact]
    public void A_well_formed_order_of_every_type_is_valid()
    {
        Assert.Empty(Fields(Market(OrderSide.Buy, 0.1m)));
        Assert.Empty(Fields(Limit(OrderSide.Sell, 0.1m, 100.01m)));
        Assert.Empty(Fields(Order(OrderSide.Buy, OrderType.StopMarket, 0.1m, stopPrice: 105m)));
        Assert.Empty(Fields(Order(OrderSide.Sell, OrderType.StopLimit, 0.1m, price: 94m, stopPrice: 95m)));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("0.000015")] // not on the 0.00001 step
    public void Bad_quantity_names_quantity(string quantity) =>
        Assert.Equal(["quantity"], Fields(Limit(OrderSide.Buy, decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture), 100m)));

    [Fact]
    public void Limit_types_need_a_positive_price_on_the_tick()
    {
        Assert.Equal(["price"], Fields(Order(OrderSide.Buy, OrderType.Limit, 1m)));
        Assert.Equal(["price"], Fields(Order(OrderSide.Buy, OrderType.Limit, 1m, price: 0m)));
        Assert.Equal(["price"], Fields(Order(OrderSide.Buy, OrderType.Limit, 1m, price: 100.005m)));
        Assert.Equal(["price"], Fields(Order(OrderSide.Buy, OrderType.StopLimit, 1m, stopPrice: 100m)));
    }

    [Fact]
    public void Values_beyond_the_bound_are_refused_before_their_notional_could_overflow_a_decimal()
    {
        // 1e15 × 1e14 = 1e29 is more than decimal holds: the minimum-notional check must never get to multiply them.
        Assert.Equal(["quantity", "price"], Fields(Limit(OrderSide.Buy, 1e14m, 1e15m)));
        Assert.Equal(["stopPrice"], Fields(Order(OrderSide.Buy, OrderType.StopMarket, 1m, stopPrice: 1e15m)));
        Assert.Empty(Fields(Limit(OrderSide.Buy, OrderValidator.MaxValue, OrderValidator.MaxValue)));
    }

    [Fact]
    public void Stop_types_need_a_positive_stop_price_on_the_tick()
    {
        Assert.Equal(["stopPrice"], Fields(Order(OrderSide.Buy, OrderType.StopMarket, 1m)));
        Assert.Equal(["stopPrice"], Fields(Order(OrderSide.Buy, OrderType.StopLimit, 1m, price: 100m)));
        Assert.Equal(["stopPrice"], Fields(Order(OrderSide.Buy, OrderType.StopMarket, 1m, stopPrice: -5m)));
        Assert.Equal(["stopPrice"], Fields(Order(OrderSide.Buy, OrderType.StopMarket, 1m, stopPrice: 100.001m)));
    }

    [Fact]
    public void Prices_an_order_type_does_not_take_are_refused()
    {
        Assert.Equal(["price"], Fields(Order(OrderSide.Buy, OrderType.Market, 1m, price: 100m)));
        Assert.Equal(["stopPrice"], Fields(Order(OrderSide.Buy, OrderType.Limit, 1m, price: 100m, stopPrice: 100m)));
    }

    [Fact]
    public void Minimum_notional_is_checked_at_the_price_the_order_would_trade()
    {
        Assert.Equal(["quantity"], Fields(Limit(OrderSide.Buy, 0.04m, 100m))); // 4 < 5
        Assert.Equal(["quantity"], Fields(Market(OrderSide.Buy, 0.04m), referencePrice: 100m));
        Assert.Empty(Fields(Market(OrderSide.Buy, 0.04m), referencePrice: null)); // unknown price: not checked here
        Assert.Empty(Fields(Limit(OrderSide.Buy, 0.05m, 100m)));
    }

    [Fact]
    public void Wrong_market_and_undefined_enums_name_their_field()
    {
        Assert.Equal(["symbol"], Fields(Market(OrderSide.Buy, 1m) with { Symbol = "ETHUSDT" }));
        Assert.Equal(["exchange"], Fields(Market(OrderSide.Buy, 1m) with { Exchange = "okx" }));
        Assert.Contains("side", Fields(Market(OrderSide.Buy, 1m) with { Side = (OrderSide)7 }));
        Assert.Contains("timeInForce", Fields(Market(OrderSide.Buy, 1m) with { TimeInForce = (TimeInForce)7 }));
    }

    [Fact]
    public void A_client_order_id_longer_than_the_bound_is_refused_naming_it()
    {
        var longest = new string('x', OrderValidator.MaxClientOrderIdLength);
        Assert.Empty(Fields(Limit(OrderSide.Buy, 0.05m, 100m) with { ClientOrderId = longest }));
        Assert.Equal(["clientOrderId"], Fields(Limit(OrderSide.Buy, 0.05m, 100m) with { ClientOrderId = longest + "x" }));
    }

    [Fact]
    public void An_empty_client_order_id_or_one_with_control_characters_is_refused_naming_it()
    {
        Assert.Equal(["clientOrderId"], Fields(Limit(OrderSide.Buy, 0.05m, 100m) with { ClientOrderId = "" }));
        Assert.Equal(["clientOrderId"], Fields(Limit(OrderSide.Buy, 0.05m, 100m) with { ClientOrderId = "line\nbreak" }));
    }

    [Fact]
    public void Without_rules_any_positive_grid_is_accepted()
    {
        var free = BtcUsdt with { Rules = InstrumentRules.None };
        Assert.Empty(OrderValidator.Validate(Limit(OrderSide.Buy, 0.123456789m, 1.23456789m), free));
    }
}
