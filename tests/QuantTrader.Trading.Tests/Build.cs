using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Trading;
using QuantTrader.Trading.Orders;

namespace QuantTrader.Trading.Tests;

/// <summary>Small builders so each test reads as the scenario it checks.</summary>
internal static class Build
{
    public static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly Instrument BtcUsdt = new("binance", "BTCUSDT", "BTC", "USDT", new InstrumentRules(0.01m, 0.00001m, 5m));

    public static readonly Guid Alice = new("00000000-0000-0000-0000-00000000000a");

    public static readonly Guid Bob = new("00000000-0000-0000-0000-00000000000b");

    private static int _orderCounter;

    public static Guid NewId() => new($"00000000-0000-0000-0001-{Interlocked.Increment(ref _orderCounter):D12}");

    public static OrderRequest Order(
        OrderSide side,
        OrderType type,
        decimal quantity,
        decimal? price = null,
        decimal? stopPrice = null,
        TimeInForce tif = TimeInForce.Gtc,
        Guid? user = null,
        Guid? id = null) =>
        new(id ?? NewId(), user ?? Alice, null, null, "binance", "BTCUSDT", side, type, tif, quantity, price, stopPrice, T0);

    public static OrderRequest Market(OrderSide side, decimal quantity, TimeInForce tif = TimeInForce.Gtc, Guid? user = null) =>
        Order(side, OrderType.Market, quantity, tif: tif, user: user);

    public static OrderRequest Limit(OrderSide side, decimal quantity, decimal price, TimeInForce tif = TimeInForce.Gtc, Guid? user = null) =>
        Order(side, OrderType.Limit, quantity, price, tif: tif, user: user);

    public static Trade Trade(long id, decimal price, decimal quantity) =>
        new("binance", "BTCUSDT", id, price, quantity, TakerSide.Buy, T0.AddSeconds(id));
}
