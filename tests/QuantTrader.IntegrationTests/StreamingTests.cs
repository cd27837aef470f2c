using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using QuantTrader.Contracts.MarketData;
using static QuantTrader.IntegrationTests.PaperTradingKit;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The streaming API (docs/streaming.md) through the real gateway, with real WebSocket frames: market data from the
/// simulator and the bus, a user's fills from the paper engine, and the limits that protect the gateway.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class StreamingTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static DateTimeOffset FutureMinute() =>
        new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(5);

    [Fact]
    public async Task A_trade_injected_through_the_simulator_arrives_on_its_trades_channel()
    {
        await using var client = await StreamClient.ConnectAsync(system);
        await client.WaitForAsync("welcome");
        await client.SubscribeAsync("trades.binance.BTCUSDT");
        await client.WaitForAsync("subscribed", "trades.binance.BTCUSDT");

        using var simulator = new HttpClient { BaseAddress = system.ServiceEndpoint("exchange-simulator"), Timeout = Wait };
        var recorded = await simulator.GetFromJsonAsync<Trade[]>("/control/trades?exchange=binance&symbol=BTCUSDT", MarketStream.Json);
        var price = recorded!.Last().Price;
        using var injected = await simulator.PostAsJsonAsync("/control/trades", new { exchange = "binance", symbol = "BTCUSDT", price, quantity = 0.00777m, side = "sell" });
        injected.EnsureSuccessStatusCode();
        var body = await injected.Content.ReadFromJsonAsync<JsonElement>();
        var tradeId = (body.ValueKind == JsonValueKind.Array ? body[0] : body).GetProperty("tradeId").GetInt64();

        var frame = await client.WaitForAsync(f => StreamClient.Is(f, "trades", "trades.binance.BTCUSDT")
            && f.GetProperty("data").EnumerateArray().Any(t => t.GetProperty("tradeId").GetInt64() == tradeId), "the injected trade");
        var trade = frame.GetProperty("data").EnumerateArray().Single(t => t.GetProperty("tradeId").GetInt64() == tradeId);
        Assert.Equal(("binance", "BTCUSDT", price, 0.00777m, "sell"), (trade.GetProperty("exchange").GetString(), trade.GetProperty("symbol").GetString(),
            trade.GetProperty("price").GetDecimal(), trade.GetProperty("quantity").GetDecimal(), trade.GetProperty("side").GetString()));
    }

    [Fact]
    public async Task A_candles_channel_carries_the_open_klines_updates_and_then_its_close()
    {
        await using var bus = await MarketBus.ConnectAsync(system);
        var symbol = MarketBus.NewSymbol();
        var channel = $"candles.binance.1m.{symbol}";
        await using var client = await StreamClient.ConnectAsync(system);
        await client.SubscribeAsync(channel);
        await client.WaitForAsync("subscribed", channel);

        var window = FutureMinute();
        await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 100m, 1m, TakerSide.Buy, window.AddSeconds(1)));
        await bus.PublishTradeAsync(new Trade("binance", symbol, 2, 104m, 2m, TakerSide.Sell, window.AddSeconds(2)));
        var open = await client.WaitForAsync(f => StreamClient.Is(f, "candle", channel)
            && !f.GetProperty("data").GetProperty("closed").GetBoolean() && f.GetProperty("data").GetProperty("volume").GetDecimal() == 3m, "the open kline's update");
        Assert.Equal(window, open.GetProperty("data").GetProperty("openTime").GetDateTimeOffset());
        Assert.Equal(104m, open.GetProperty("data").GetProperty("high").GetDecimal());

        await bus.PublishTradeAsync(new Trade("binance", symbol, 3, 101m, 1m, TakerSide.Buy, window.AddMinutes(1).AddSeconds(1)));
        var closed = (await client.WaitForAsync(f => StreamClient.Is(f, "candle", channel) && f.GetProperty("data").GetProperty("closed").GetBoolean(), "the closed kline"))
            .GetProperty("data");
        Assert.Equal((window, 100m, 104m, 100m, 104m, 3m), (closed.GetProperty("openTime").GetDateTimeOffset(), closed.GetProperty("open").GetDecimal(),
            closed.GetProperty("high").GetDecimal(), closed.GetProperty("low").GetDecimal(), closed.GetProperty("close").GetDecimal(), closed.GetProperty("volume").GetDecimal()));
    }

    [Fact]
    public async Task An_unknown_key_is_refused_and_the_connection_closed_with_4001()
    {
        await using var client = await StreamClient.ConnectAsync(system);
        await client.AuthenticateAsync("qt_not-a-real-key-at-all");

        var error = await client.WaitForAsync("error");
        Assert.Equal("unauthorized", error.GetProperty("code").GetString());
        Assert.Equal((WebSocketCloseStatus)4001, await client.Closed.WaitAsync(Wait));
        Assert.Empty(client.OfType("authenticated"));
    }

    [Fact]
    public async Task A_private_channel_before_auth_is_refused_while_bad_and_public_names_get_their_own_answers()
    {
        await using var client = await StreamClient.ConnectAsync(system);
        await client.SubscribeAsync("fills", "candles.binance.7m.BTCUSDT", "trades.nasdaq.BTCUSDT", "trades.binance.ETHUSDT");

        var refused = await client.WaitForAsync("error", "fills");
        Assert.Equal("unauthenticated", refused.GetProperty("code").GetString());
        var interval = await client.WaitForAsync("error", "candles.binance.7m.BTCUSDT");
        Assert.Equal("unknown-channel", interval.GetProperty("code").GetString());
        Assert.Contains("interval", interval.GetProperty("message").GetString());
        var exchange = await client.WaitForAsync("error", "trades.nasdaq.BTCUSDT");
        Assert.Contains("exchange", exchange.GetProperty("message").GetString());
        await client.WaitForAsync("subscribed", "trades.binance.ETHUSDT");

        // Still open and answering.
        await client.SendAsync(new { type = "ping", id = 7 });
        Assert.Equal(7, (await client.WaitForAsync("pong")).GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task A_user_only_ever_sees_their_own_fills()
    {
        await using var kit = await ConnectAsync(system);
        var (userA, keyA, clientA) = await system.CreateUserAsync();
        var (userB, keyB, clientB) = await system.CreateUserAsync();
        await using var streamA = await AuthenticatedAsync(keyA, "fills");
        await using var streamB = await AuthenticatedAsync(keyB, "fills");

        await kit.TradeAsync("okx", "ADAUSDT", 0.5m, 10m);
        var (statusA, orderA) = await PlaceAsync(clientA, new { exchange = "okx", symbol = "ADAUSDT", side = "buy", type = "market", quantity = 20m });
        var (statusB, orderB) = await PlaceAsync(clientB, new { exchange = "okx", symbol = "ADAUSDT", side = "buy", type = "market", quantity = 30m });
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (statusA, statusB));
        await kit.TradeAsync("okx", "ADAUSDT", 0.51m, 1000m);

        await streamA.WaitForAsync(f => StreamClient.Is(f, "fill", "fills") && OrderOf(f) == orderA.GetProperty("id").GetGuid(), "A's fill");
        await streamB.WaitForAsync(f => StreamClient.Is(f, "fill", "fills") && OrderOf(f) == orderB.GetProperty("id").GetGuid(), "B's fill");
        // A foreign fill would have come with the user's own (the same print made both): there is none.
        await streamA.SendAsync(new { type = "ping", id = "after" });
        await streamB.SendAsync(new { type = "ping", id = "after" });
        await streamA.WaitForAsync("pong");
        await streamB.WaitForAsync("pong");
        Assert.All(streamA.OfType("fill"), f => Assert.Equal(userA, f.GetProperty("data").GetProperty("userId").GetGuid()));
        Assert.All(streamB.OfType("fill"), f => Assert.Equal(userB, f.GetProperty("data").GetProperty("userId").GetGuid()));
    }

    [Fact]
    public async Task A_client_that_reconnects_with_since_gets_the_fill_it_missed()
    {
        await using var kit = await ConnectAsync(system);
        var (_, key, client) = await system.CreateUserAsync();
        ulong seen;
        await using (var first = await AuthenticatedAsync(key, "fills"))
        {
            await kit.TradeAsync("okx", "ADAUSDT", 0.5m, 10m);
            var (_, order) = await PlaceAsync(client, new { exchange = "okx", symbol = "ADAUSDT", side = "buy", type = "market", quantity = 20m });
            await kit.TradeAsync("okx", "ADAUSDT", 0.5m, 1000m);
            var fill = await first.WaitForAsync(f => StreamClient.Is(f, "fill", "fills") && OrderOf(f) == order.GetProperty("id").GetGuid(), "the first fill");
            seen = fill.GetProperty("seq").GetUInt64();
        }

        // Disconnected: this fill happens while nobody listens.
        var (_, missed) = await PlaceAsync(client, new { exchange = "okx", symbol = "ADAUSDT", side = "buy", type = "market", quantity = 20m });
        await kit.TradeAsync("okx", "ADAUSDT", 0.5m, 1000m);
        await Eventually.SucceedsAsync(async () =>
            Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement>("/api/v1/fills")).GetArrayLength()), Wait);

        await using var again = await StreamClient.ConnectAsync(system);
        await again.AuthenticateAsync(key);
        await again.SendAsync(new { type = "subscribe", channels = new[] { "fills" }, since = new Dictionary<string, ulong> { ["fills"] = seen } });
        Assert.Equal(seen, (await again.WaitForAsync("subscribed", "fills")).GetProperty("seq").GetUInt64());
        var replayed = await again.WaitForAsync("fill", "fills");
        Assert.Equal(missed.GetProperty("id").GetGuid(), OrderOf(replayed));
        Assert.True(replayed.GetProperty("seq").GetUInt64() > seen);
    }

    [Fact]
    public async Task A_client_that_never_reads_is_closed_with_4003_while_another_keeps_receiving()
    {
        await using var kit = await ConnectAsync(system);
        var symbol = MarketBus.NewSymbol();
        var channel = $"trades.binance.{symbol}";
        await using var reader = await StreamClient.ConnectAsync(system);
        await reader.SubscribeAsync(channel);
        await reader.WaitForAsync("subscribed", channel);
        await using var stalled = await StreamClient.ConnectAsync(system, read: false);
        await stalled.SubscribeAsync(channel);
        await stalled.ReadUntilAsync("subscribed", channel);

        // ~2.6 MB of trades: more than the 1 MiB send buffer and every socket buffer between the gateway and the client.
        const int messages = 100, perMessage = 200;
        for (var m = 0; m < messages; m++)
        {
            await kit.TradesAsync("binance", symbol, [.. Enumerable.Range(0, perMessage).Select(i => (100m + i / 100m, 1.5m))]);
        }

        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(messages * perMessage, reader.OfType("trades").Sum(f => f.GetProperty("data").GetArrayLength()));
            return Task.CompletedTask;
        }, Wait);
        Assert.False(reader.Closed.IsCompleted);

        stalled.StartReading();
        Assert.Equal((WebSocketCloseStatus)4003, await stalled.Closed.WaitAsync(Wait));
        Assert.Equal("slow consumer", stalled.CloseReason);
        Assert.True(stalled.OfType("trades").Sum(f => f.GetProperty("data").GetArrayLength()) < messages * perMessage);
    }

    [Fact]
    public async Task The_plans_subscription_and_connection_limits_are_enforced()
    {
        var (_, key, _) = await system.CreateUserAsync();
        await using var client = await AuthenticatedAsync(key);
        var limits = (await client.WaitForAsync("authenticated")).GetProperty("limits");
        var allowed = limits.GetProperty("subscriptions").GetInt32();
        Assert.Equal(50, allowed); // the free plan

        var channels = Enumerable.Range(0, allowed + 1).Select(i => $"trades.binance.LIMIT{i}USDT").ToArray();
        await client.SubscribeAsync(channels);
        var refused = await client.WaitForAsync("error", channels[^1]);
        Assert.Equal("subscription-limit", refused.GetProperty("code").GetString());
        Assert.Equal(allowed, client.OfType("subscribed").Count);

        // The free plan's two connections: this one and one more; a third is closed with 4004.
        await using var second = await AuthenticatedAsync(key);
        await using var third = await StreamClient.ConnectAsync(system);
        await third.AuthenticateAsync(key);
        Assert.Equal("connection-limit", (await third.WaitForAsync("error")).GetProperty("code").GetString());
        Assert.Equal((WebSocketCloseStatus)4004, await third.Closed.WaitAsync(Wait));
    }

    [Fact]
    public async Task Revoking_the_key_closes_its_stream_with_4007_and_the_key_no_longer_authenticates()
    {
        var (_, oldKey, client) = await system.CreateUserAsync();
        await using var stream = await AuthenticatedAsync(oldKey, "fills", "portfolio");
        var portfolio = await stream.WaitForAsync("portfolio", "portfolio");
        Assert.True(portfolio.GetProperty("data").TryGetProperty("balances", out _), portfolio.GetRawText());

        using var created = await client.PostAsync("/api/v1/accounts/me/keys", null);
        var newKey = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
        var keys = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me/keys");
        var oldId = keys.EnumerateArray().Single(k => oldKey.StartsWith(k.GetProperty("prefix").GetString()!, StringComparison.Ordinal)).GetProperty("id").GetGuid();
        using var revoked = await new HttpClient { BaseAddress = system.Gateway.BaseAddress, DefaultRequestHeaders = { { "Authorization", $"Bearer {newKey}" } } }
            .DeleteAsync($"/api/v1/accounts/me/keys/{oldId}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        Assert.Equal((WebSocketCloseStatus)4007, await stream.Closed.WaitAsync(Wait));
        await using var again = await StreamClient.ConnectAsync(system);
        await again.AuthenticateAsync(oldKey);
        Assert.Equal((WebSocketCloseStatus)4001, await again.Closed.WaitAsync(Wait));
    }

    private async Task<StreamClient> AuthenticatedAsync(string apiKey, params string[] channels)
    {
        var client = await StreamClient.ConnectAsync(system);
        await client.AuthenticateAsync(apiKey);
        await client.WaitForAsync("authenticated");
        if (channels.Length > 0)
        {
            await client.SubscribeAsync(channels);
            foreach (var channel in channels)
            {
                await client.WaitForAsync("subscribed", channel);
            }
        }
        return client;
    }

    private static Guid OrderOf(JsonElement fill) => fill.GetProperty("data").TryGetProperty("orderId", out var id)
        ? id.GetGuid()
        : throw new InvalidOperationException("Not a fill: " + fill.GetRawText());
}
