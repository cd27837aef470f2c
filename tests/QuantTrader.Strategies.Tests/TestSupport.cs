using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;

namespace QuantTrader.Strategies.Tests;

/// <summary>An <see cref="IStrategyHost"/> that records everything and fills market orders at once.</summary>
internal sealed class RecordingHost : IStrategyHost
{
    private long _nextHandle = 1;

    public List<StrategyOrderRequest> Orders { get; } = [];

    public List<long> Cancels { get; } = [];

    public List<string> Logs { get; } = [];

    public decimal Position { get; set; }

    public decimal QuoteBalance { get; set; } = 10_000m;

    /// <summary>Price at which market orders fill immediately, updating <see cref="Position"/>; null leaves the position alone.</summary>
    public decimal? ImmediateFillPrice { get; set; }

    public Func<StrategyOrderRequest, long>? OnPlace { get; set; }

    public long PlaceOrder(StrategyOrderRequest request)
    {
        Orders.Add(request);
        if (OnPlace is not null)
        {
            return OnPlace(request);
        }
        if (ImmediateFillPrice is { } price && request.Type == OrderType.Market)
        {
            var signed = request.Side == OrderSide.Buy ? request.Quantity : -request.Quantity;
            Position += signed;
            QuoteBalance -= signed * price;
        }
        return _nextHandle++;
    }

    public bool Cancel(long handle)
    {
        Cancels.Add(handle);
        return true;
    }

    public void Log(string message) => Logs.Add(message);
}

internal static class Strategies
{
    private static string PathOf(string relative) => Path.Combine(AppContext.BaseDirectory, "strategies", relative);

    public static byte[] Bytes(string relative) => File.ReadAllBytes(PathOf(relative));

    public static string Text(string relative) => File.ReadAllText(PathOf(relative));

    public static byte[] SmaCrossover => Bytes("sma-crossover/build/sma-crossover.wasm");

    public static byte[] RsiMeanReversion => Bytes("rsi-mean-reversion/build/rsi-mean-reversion.wasm");

    public static string BuyAndHold => Text("wat/buy-and-hold.wat");

    public static string SmaCrossoverWat => Text("wat/sma-crossover.wat");

    public static string Hostile(string name) => Text($"wat/hostile/{name}.wat");
}

internal static class Klines
{
    public static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>One-minute closed klines whose open is the previous close and whose range is ±0.5% around the move.</summary>
    public static List<Kline> FromCloses(IEnumerable<decimal> closes, decimal volume = 10m)
    {
        var result = new List<Kline>();
        decimal? previous = null;
        var i = 0;
        foreach (var close in closes)
        {
            var open = previous ?? close;
            var high = Math.Max(open, close) * 1.005m;
            var low = Math.Min(open, close) * 0.995m;
            var openTime = Start.AddMinutes(i++);
            result.Add(new Kline("binance", "BTCUSDT", "1m", openTime, openTime.AddMinutes(1).AddMilliseconds(-1),
                open, high, low, close, volume, volume * close, 100, volume / 2, volume / 2 * close, true));
            previous = close;
        }
        return result;
    }

    /// <summary>A deterministic wavy series (no randomness) long enough for several SMA crossovers.</summary>
    public static List<Kline> Wave(int count)
    {
        var closes = Enumerable.Range(0, count)
            .Select(i => Math.Round(100m + 10m * (decimal)Math.Sin(i / 15.0) + 3m * (decimal)Math.Sin(i / 4.0), 2));
        return FromCloses(closes);
    }
}
