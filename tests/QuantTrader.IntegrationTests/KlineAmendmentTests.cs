using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Amended closes (docs/klines.md, "Closing and the late-trade rule"): the wall clock closes a minute, then trades of
/// that minute arrive late on market.raw — as an ingestor's REST backfill delivers them after a hand-over — and the
/// stored kline still ends up equal to a recomputation from all its trades: MARKET_KLINE holds the original close and
/// one amendment (its own header and message id), and persistence stores the amendment.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class KlineAmendmentTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Late_trades_of_a_minute_the_clock_closed_amend_its_kline_once_and_the_stored_kline_equals_all_its_trades()
    {
        using var cts = new CancellationTokenSource(Wait * 3);
        await using var bus = await MarketBus.ConnectAsync(system);
        var symbol = MarketBus.NewSymbol();
        // The minute that just ended: the clock closes it within Klines:AllowedLateness (2 s) of its end.
        var minute = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(-1);
        Trade[] inTime =
        [
            new("binance", symbol, 1, 100m, 1m, TakerSide.Buy, minute.AddSeconds(5), Count: 2),
            new("binance", symbol, 2, 104m, 0.5m, TakerSide.Sell, minute.AddSeconds(20)),
            new("binance", symbol, 3, 98m, 2m, TakerSide.Buy, minute.AddSeconds(30)),
        ];
        // One message: the clock cannot close the minute between them.
        await bus.PublishTradesAsync(inTime);

        var original = (await Eventually.ReturnsAsync(async () =>
            await ClosedAsync(bus, symbol, minute, cts.Token) is { Count: > 0 } c ? c : null, Wait, "the minute's close by the clock"))[0];
        Assert.Null(original.Amendment);
        Assert.Equal(Recompute(minute, inTime), original.Kline);

        // The backfill of the gap: later trades of the same minute, after its close, in one batch.
        Trade[] late =
        [
            new("binance", symbol, 4, 107m, 1.5m, TakerSide.Sell, minute.AddSeconds(45)),
            new("binance", symbol, 5, 101m, 3m, TakerSide.Buy, minute.AddSeconds(58), Count: 3),
        ];
        await bus.PublishTradesAsync(late);

        var closes = await Eventually.ReturnsAsync(async () =>
            await ClosedAsync(bus, symbol, minute, cts.Token) is { Count: >= 2 } c ? c : null, Wait, "the amended close");
        Trade[] all = [.. inTime, .. late];
        // The original close and exactly one amendment (numbered 1) carrying every trade.
        Assert.Equal([null, "1"], closes.Select(c => c.Amendment));
        Assert.Equal(Recompute(minute, all), closes[1].Kline);

        // Stored: the amendment replaced the original close.
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await Eventually.SucceedsAsync(async () =>
        {
            await using var query = db.CreateCommand("""
                SELECT open, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, closed, amendment
                FROM klines WHERE exchange = 'binance' AND symbol = $1 AND interval = '1m' AND open_time = $2
                """);
            query.Parameters.AddWithValue(symbol);
            query.Parameters.AddWithValue(minute);
            await using var reader = await query.ExecuteReaderAsync(cts.Token);
            Assert.True(await reader.ReadAsync(cts.Token));
            var expected = Recompute(minute, all);
            Assert.Equal(
                (expected.Open, expected.High, expected.Low, expected.Close, expected.Volume, expected.QuoteVolume, expected.Trades,
                    expected.TakerBuyVolume, expected.TakerBuyQuoteVolume, true, 1),
                (reader.GetDecimal(0), reader.GetDecimal(1), reader.GetDecimal(2), reader.GetDecimal(3), reader.GetDecimal(4), reader.GetDecimal(5),
                    reader.GetInt64(6), reader.GetDecimal(7), reader.GetDecimal(8), reader.GetBoolean(9), reader.GetInt32(10)));
        }, Wait);

        // Still one amendment: nothing re-publishes it (a replay would carry the same message id and be dropped).
        Assert.Equal(2, (await ClosedAsync(bus, symbol, minute, cts.Token)).Count);
    }

    [Fact]
    public async Task Persistence_keeps_the_highest_amendment_whatever_order_a_redelivery_brings_the_versions_in()
    {
        using var cts = new CancellationTokenSource(Wait * 2);
        await using var bus = await MarketBus.ConnectAsync(system);
        var symbol = MarketBus.NewSymbol();
        var minute = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(-30);
        Kline Version(decimal close, long trades) =>
            new("binance", symbol, "1m", minute, minute.AddMinutes(1).AddMilliseconds(-1), 100m, 120m, 90m, close, trades, trades * 100m, trades, 0m, 0m, Closed: true);

        // The newest version first, then the older ones (a redelivered original close, a replayed first amendment).
        await PublishClosedAsync(bus, Version(102m, 5), amendment: 2);
        await PublishClosedAsync(bus, Version(101m, 4), amendment: 1);
        await PublishClosedAsync(bus, Version(100m, 3), amendment: 0);
        Assert.Equal((102m, 5L, 2), await StoredAsync(symbol, minute, expectedAmendment: 2, cts.Token));

        // A later amendment still replaces it.
        await PublishClosedAsync(bus, Version(103m, 6), amendment: 3);
        Assert.Equal((103m, 6L, 3), await StoredAsync(symbol, minute, expectedAmendment: 3, cts.Token));
    }

    private static async Task PublishClosedAsync(MarketBus bus, Kline kline, int amendment)
    {
        var headers = new NatsHeaders();
        var id = $"{kline.Exchange}:{kline.Symbol}:{kline.Interval}:{kline.OpenTime.ToUnixTimeMilliseconds()}:closed";
        if (amendment > 0)
        {
            headers[KlineHeaders.Amendment] = amendment.ToString(System.Globalization.CultureInfo.InvariantCulture);
            id += $":{amendment}";
        }

        var ack = await bus.Js.PublishAsync(Subjects.MarketKline(kline.Exchange, kline.Interval, kline.Symbol),
            JsonSerializer.SerializeToUtf8Bytes(kline, ContractsJsonContext.Wire.Kline), headers: headers, opts: new NatsJSPubOpts { MsgId = id });
        ack.EnsureSuccess();
    }

    /// <summary>
    /// The stored close, trade count and amendment once persistence has read every message published so far: a marker
    /// kline (the next minute) published now is stored only after them (one durable consumer, written in stream order).
    /// </summary>
    private async Task<(decimal Close, long Trades, int Amendment)> StoredAsync(string symbol, DateTimeOffset minute, int expectedAmendment, CancellationToken ct)
    {
        var marker = minute.AddMinutes(1 + expectedAmendment);
        await using var bus = await MarketBus.ConnectAsync(system);
        await PublishClosedAsync(bus, new Kline("binance", symbol, "1m", marker, marker.AddMinutes(1).AddMilliseconds(-1), 1m, 1m, 1m, 1m, 1m, 1m, 1, 0m, 0m, Closed: true), amendment: 0);
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var stored = await Eventually.ReturnsAsync(async () =>
        {
            await using var query = db.CreateCommand("""
                SELECT k.close, k.trades, COALESCE(k.amendment, 0) FROM klines k
                WHERE k.exchange = 'binance' AND k.symbol = $1 AND k.interval = '1m' AND k.open_time = $2
                  AND EXISTS (SELECT 1 FROM klines m WHERE m.exchange = 'binance' AND m.symbol = $1 AND m.interval = '1m' AND m.open_time = $3)
                """);
            query.Parameters.AddWithValue(symbol);
            query.Parameters.AddWithValue(minute);
            query.Parameters.AddWithValue(marker);
            await using var reader = await query.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? new StoredVersion(reader.GetDecimal(0), reader.GetInt64(1), reader.GetInt32(2)) : null;
        }, Wait, "the kline and the marker after it stored");
        return (stored.Close, stored.Trades, stored.Amendment);
    }

    private sealed record StoredVersion(decimal Close, long Trades, int Amendment);

    /// <summary>The closed 1m klines of the minute in MARKET_KLINE, in stream order, with their amendment header.</summary>
    private static async Task<List<(string? Amendment, Kline Kline)>> ClosedAsync(MarketBus bus, string symbol, DateTimeOffset minute, CancellationToken ct) =>
    [
        .. (await bus.KlineMessagesAsync("binance", "1m", symbol, ct))
            .Where(m => m.Kline.Closed && m.Kline.OpenTime == minute)
            .Select(m => (m.Headers?.TryGetValue(KlineHeaders.Amendment, out var n) == true ? n.ToString() : null, m.Kline)),
    ];

    /// <summary>The closed 1m kline of these trades, computed here from scratch (trade-id order, Binance's fields).</summary>
    private static Kline Recompute(DateTimeOffset minute, IReadOnlyList<Trade> trades)
    {
        var ordered = trades.OrderBy(t => t.TradeId).ToList();
        var buys = ordered.Where(t => t.Side == TakerSide.Buy).ToList();
        return new Kline("binance", ordered[0].Symbol, "1m", minute, minute.AddMinutes(1).AddMilliseconds(-1),
            ordered[0].Price, ordered.Max(t => t.Price), ordered.Min(t => t.Price), ordered[^1].Price,
            ordered.Sum(t => t.Quantity), ordered.Sum(t => t.Price * t.Quantity), ordered.Sum(t => (long)t.Count),
            buys.Sum(t => t.Quantity), buys.Sum(t => t.Price * t.Quantity), Closed: true);
    }
}
