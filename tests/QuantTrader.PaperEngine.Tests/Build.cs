using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Engine;
using QuantTrader.Trading;
using QuantTrader.Trading.Orders;

namespace QuantTrader.PaperEngine.Tests;

/// <summary>Small builders so each test reads as the scenario it checks.</summary>
internal static class Build
{
    public static readonly DateTimeOffset T0 = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly Instrument BtcUsdt = new("binance", "BTCUSDT", "BTC", "USDT", new InstrumentRules(0.01m, 0.00001m, 5m));

    public static readonly Instrument EthUsdt = new("binance", "ETHUSDT", "ETH", "USDT", new InstrumentRules(0.01m, 0.0001m, 5m));

    public static readonly Guid Alice = new("00000000-0000-0000-0000-00000000000a");

    public static PaperEngineOptions Options(Action<PaperEngineOptions>? change = null)
    {
        var options = new PaperEngineOptions();
        change?.Invoke(options);
        return options;
    }

    public static PaperExchange Exchange() => new([BtcUsdt, EthUsdt]);

    public static Trade Trade(long id, decimal price, decimal quantity = 1m, string symbol = "BTCUSDT") =>
        new("binance", symbol, id, price, quantity, TakerSide.Buy, T0.AddSeconds(id));

    public static OrderRequest Limit(OrderSide side, decimal quantity, decimal price, Guid? user = null) =>
        new(Guid.NewGuid(), user ?? Alice, null, null, "binance", "BTCUSDT", side, OrderType.Limit, TimeInForce.Gtc, quantity, price, null, T0);

    public static ApplicationLifetime Lifetime() => new(NullLogger<ApplicationLifetime>.Instance);

    public static IOptions<PaperEngineOptions> Wrap(PaperEngineOptions options) => Microsoft.Extensions.Options.Options.Create(options);
}
