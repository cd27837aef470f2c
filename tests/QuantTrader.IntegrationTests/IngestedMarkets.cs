using System.Net.Http.Json;
using System.Text.Json;
using NATS.Client.JetStream;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// What the exchange simulator printed against what the ingestor published on MARKET_RAW, market by market, and who is
/// connected to which market (the simulator's own record of its sessions).
/// </summary>
public sealed class IngestedMarkets(INatsJSContext js, HttpClient simulator)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    public sealed record Published(Trade Trade, string? MessageId, string? TraceParent);

    public async Task<List<Published>> ReadPublishedAsync(string exchange, string symbol) =>
        [.. (await MarketStream.ReadTradesAsync(js, Subjects.MarketRaw(exchange, symbol)))
            .Select(m => new Published(m.Value, m.Header("Nats-Msg-Id"), m.Header("traceparent")))];

    public async Task<long> LastRecordedIdAsync(string exchange, string symbol)
    {
        var recorded = await simulator.GetFromJsonAsync<Trade[]>($"/control/trades?exchange={exchange}&symbol={symbol}", MarketStream.Json);
        return recorded!.Last().TradeId;
    }

    /// <summary>The newest id on market.raw, once the feed is flowing.</summary>
    public async Task<long> LastPublishedIdAsync(string exchange, string symbol) =>
        (await Eventually.ReturnsAsync(async () => (await ReadPublishedAsync(exchange, symbol)).LastOrDefault(), Wait, $"{exchange} {symbol} trades")).Trade.TradeId;

    /// <summary>
    /// Every recorded trade with an id in the window is on market.raw exactly once, in id order, with identical fields;
    /// waits (bounded) for the window to be complete.
    /// </summary>
    public async Task<List<Published>> AssertPublishedMatchesRecordAsync(string exchange, string symbol, long fromId, long toId)
    {
        List<Published> window = [];
        await Eventually.SucceedsAsync(async () =>
        {
            var all = (await simulator.GetFromJsonAsync<Trade[]>($"/control/trades?exchange={exchange}&symbol={symbol}", MarketStream.Json))!;
            // The whole window has been printed (and so must all be published), not just a prefix of it.
            Assert.True(all[^1].TradeId >= toId, $"the simulator is at {all[^1].TradeId}, waiting for {toId}");
            var recorded = all.Where(t => t.TradeId >= fromId && t.TradeId <= toId).ToList();
            var published = await ReadPublishedAsync(exchange, symbol);
            // Nothing before the ingestor's very first trade is ours (on a first start it does not backfill history).
            var start = Math.Max(fromId, published.Count > 0 ? published[0].Trade.TradeId : fromId);
            recorded = [.. recorded.Where(t => t.TradeId >= start)];
            window = [.. published.Where(p => p.Trade.TradeId >= fromId && p.Trade.TradeId <= toId)];
            Assert.NotEmpty(recorded);
            Assert.Equal(recorded, window.Select(p => p.Trade).ToList());
        }, Wait);

        var ids = window.Select(p => p.Trade.TradeId).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        return window;
    }

    /// <summary>How many open simulator connections subscribe to the market (Binance: its stream; OKX: its instrument).</summary>
    public async Task<int> OpenSubscriptionsAsync(string exchange, string exchangeSymbol)
    {
        var sessions = await simulator.GetFromJsonAsync<JsonElement[]>($"/control/connections?exchange={exchange}");
        return sessions!.Count(s => s.GetProperty("closedAt").ValueKind == JsonValueKind.Null
            && s.GetProperty("subscriptions").EnumerateArray().Select(x => x.GetString() ?? "").Any(name => exchange == "okx"
                ? name == exchangeSymbol
                : name.StartsWith(exchangeSymbol.ToLowerInvariant() + "@", StringComparison.OrdinalIgnoreCase)));
    }
}
