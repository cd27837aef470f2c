using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Trades published on market.raw become klines on market.kline. The trades are placed in a window a few minutes in
/// the future, so the wall clock cannot close it during the test: the window closes exactly when the test sends a
/// trade of the next window, which makes the test deterministic without sleeping.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class KlineTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static DateTimeOffset FutureMinute() =>
        new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(5);

    [Fact]
    public async Task Trades_become_one_closed_kline_with_the_exchange_ohlcv()
    {
        using var cts = new CancellationTokenSource(Wait * 2);
        await using var bus = await MarketBus.ConnectAsync(system);
        var symbol = MarketBus.NewSymbol();
        var window = FutureMinute();
        Trade[] trades =
        [
            new("binance", symbol, 1, 100m, 1m, TakerSide.Buy, window.AddSeconds(1), Count: 3),
            new("binance", symbol, 2, 105m, 2m, TakerSide.Sell, window.AddSeconds(10)),
            new("binance", symbol, 3, 95m, 0.5m, TakerSide.Buy, window.AddSeconds(30), Count: 2),
            new("binance", symbol, 4, 101m, 1m, TakerSide.Sell, window.AddSeconds(59)),
        ];
        foreach (var trade in trades)
        {
            await bus.PublishTradeAsync(trade);
        }

        // A re-sent trade (same Nats-Msg-Id) is dropped by the stream and does not count twice.
        await bus.PublishTradeAsync(trades[1]);
        await bus.PublishTradeAsync(new Trade("binance", symbol, 5, 102m, 1m, TakerSide.Buy, window.AddMinutes(1).AddSeconds(1)));

        var closed = await Eventually.ReturnsAsync(async () =>
            (await bus.KlinesAsync("binance", "1m", symbol, cts.Token)).Where(k => k.Closed).ToList() is { Count: > 0 } c ? c : null,
            Wait, "the closed 1m kline");

        var kline = Assert.Single(closed);
        Assert.Equal(window, kline.OpenTime);
        Assert.Equal(window.AddMinutes(1).AddMilliseconds(-1), kline.CloseTime);
        Assert.Equal((100m, 105m, 95m, 101m), (kline.Open, kline.High, kline.Low, kline.Close));
        Assert.Equal(4.5m, kline.Volume);
        Assert.Equal(100m + 210m + 47.5m + 101m, kline.QuoteVolume);
        Assert.Equal(7, kline.Trades);
        Assert.Equal(1.5m, kline.TakerBuyVolume);
        Assert.Equal(147.5m, kline.TakerBuyQuoteVolume);
    }

    [Fact]
    public async Task Open_klines_are_published_on_their_timer_with_the_latest_state_not_per_trade()
    {
        using var cts = new CancellationTokenSource(Wait * 2);
        await using var bus = await MarketBus.ConnectAsync(system);
        var symbol = MarketBus.NewSymbol();
        var window = FutureMinute();
        var updates = new List<Kline>();
        await using (await bus.ListenToOpenKlinesAsync("binance", "1m", symbol, updates))
        {
            var started = DateTimeOffset.UtcNow;
            const int count = 60;
            for (var i = 0; i < count; i++)
            {
                await bus.PublishTradeAsync(new Trade("binance", symbol, i + 1, 100m + i, 1m, TakerSide.Buy, window.AddMilliseconds(100 * i)));
            }

            // The open 1m kline arrives on its core subject with every trade in it (the latest state wins) …
            var open = await Eventually.ReturnsAsync(() =>
            {
                lock (updates)
                {
                    return Task.FromResult(updates.LastOrDefault(k => !k.Closed && k.Trades == count));
                }
            }, Wait, "the open kline with every trade");
            var elapsed = DateTimeOffset.UtcNow - started;
            Assert.Equal((100m, 100m + count - 1, 100m, 100m + count - 1, (decimal)count), (open.Open, open.High, open.Low, open.Close, open.Volume));

            // … from a timer, at most once per period (Klines:OpenUpdateInterval, 1 s) — not once per trade …
            lock (updates)
            {
                Assert.InRange(updates.Count, 1, 2 + (int)elapsed.TotalSeconds);
                Assert.DoesNotContain(updates, k => k.Closed);
            }
        }

        // … not in MARKET_KLINE, which carries closed klines only (none yet), and stored by persistence as the current one.
        Assert.Empty(await bus.KlinesAsync("binance", "1m", symbol, cts.Token));
        await using var db = Npgsql.NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await Eventually.SucceedsAsync(async () =>
        {
            await using var query = db.CreateCommand("SELECT trades, closed FROM klines WHERE exchange = 'binance' AND symbol = $1 AND interval = '1m'");
            query.Parameters.AddWithValue(symbol);
            await using var reader = await query.ExecuteReaderAsync(cts.Token);
            Assert.True(await reader.ReadAsync(cts.Token));
            Assert.Equal((60L, false), (reader.GetInt64(0), reader.GetBoolean(1)));
        }, Wait);
    }

    [Fact]
    public async Task A_restart_rebuilds_the_open_kline_and_publishes_its_close_once()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var bus = await MarketBus.ConnectAsync(system);
        var symbol = MarketBus.NewSymbol();
        var window = FutureMinute();
        await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 100m, 1m, TakerSide.Buy, window.AddSeconds(1)));
        await bus.PublishTradeAsync(new Trade("binance", symbol, 2, 110m, 1m, TakerSide.Buy, window.AddSeconds(2)));
        // The first minute of the window closes by a trade of the next one, before the restart.
        await bus.PublishTradeAsync(new Trade("binance", symbol, 3, 90m, 1m, TakerSide.Sell, window.AddMinutes(1).AddSeconds(1)));
        await Eventually.ReturnsAsync(async () =>
            (await bus.KlinesAsync("binance", "1m", symbol, cts.Token)).FirstOrDefault(k => k.Closed), Wait, "the first closed kline");

        try
        {
            // A graceful stop (SIGTERM, as on a deployment): the checkpoint and the replay must still agree.
            await ResourceControl.StopAsync(system, "kline");
            // Trades keep arriving while the kline service is down: the replay must pick them up.
            await bus.PublishTradeAsync(new Trade("binance", symbol, 4, 95m, 2m, TakerSide.Buy, window.AddMinutes(1).AddSeconds(20)));
        }
        finally
        {
            // Whatever happened, leave the shared system with a running kline service.
            await ResourceControl.StartAsync(system, "kline");
        }

        await bus.PublishTradeAsync(new Trade("binance", symbol, 5, 97m, 1m, TakerSide.Sell, window.AddMinutes(2).AddSeconds(1)));
        var klines = await Eventually.ReturnsAsync(async () =>
            (await bus.KlinesAsync("binance", "1m", symbol, cts.Token)).Where(k => k.Closed).ToList() is { Count: >= 2 } c ? c : null,
            Wait, "the second closed kline");

        // Each minute closed exactly once, and the one open across the restart has every trade.
        Assert.Equal([window, window.AddMinutes(1)], klines.Select(k => k.OpenTime));
        Assert.Equal((100m, 110m, 100m, 110m, 2m, 2), (klines[0].Open, klines[0].High, klines[0].Low, klines[0].Close, klines[0].Volume, klines[0].Trades));
        Assert.Equal((90m, 95m, 90m, 95m, 3m, 2), (klines[1].Open, klines[1].High, klines[1].Low, klines[1].Close, klines[1].Volume, klines[1].Trades));
    }
}
