using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Real captured exchange sessions (tests/fixtures/exchange-captures) replayed by the simulator over its Binance and
/// OKX WebSockets, through the real ingestor, onto market.raw: every captured trade of the simulator's markets arrives
/// with the capture's id, price, quantity, side and time, exactly once and in order. The expected trades are read from
/// the capture file here, independently of the simulator's reader.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ReplayTests(SystemFixture system) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private NatsConnection _nats = null!;
    private INatsJSContext _js = null!;
    private HttpClient _simulator = null!;

    public async Task InitializeAsync()
    {
        _nats = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        _js = _nats.CreateJetStreamContext();
        _simulator = new HttpClient { BaseAddress = system.ServiceEndpoint("exchange-simulator"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _simulator.Dispose();
        await _nats.DisposeAsync();
    }

    private static string Capture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "exchange-captures", name);

    [Fact]
    public async Task A_replayed_Binance_capture_arrives_on_market_raw_with_the_captured_trades_exactly_once()
    {
        const string file = "cryptofeed_BINANCE-ee25be_kline1m_aggTrade_2021-04-04.txt";
        var expected = BinanceAggTrades(Capture(file));
        Assert.Equal(1227, expected["BTCUSDT"].Count);
        Assert.Equal(506, expected["ETHUSDT"].Count);
        // Connected and subscribed before the replay starts (a replayed frame nobody subscribed to is gone).
        await LastPublishedAsync("binance", "BTCUSDT");
        await LastPublishedAsync("binance", "ETHUSDT");

        var job = await ReplayAsync("binance", file, speed: 20);
        var markets = job.GetProperty("markets").EnumerateArray().ToDictionary(m => m.GetProperty("symbol").GetString()!);
        Assert.Equal(expected["BTCUSDT"][0].TradeId, markets["BTCUSDT"].GetProperty("firstTradeId").GetInt64());
        Assert.Equal(expected["BTCUSDT"][^1].TradeId, markets["BTCUSDT"].GetProperty("lastTradeId").GetInt64());
        Assert.Equal(expected["ETHUSDT"].Count, markets["ETHUSDT"].GetProperty("prints").GetInt64());
        // DOTUSDT is in the capture but not listed by the simulator: its frames only go to sessions subscribed to it.
        Assert.Contains("DOTUSDT", job.GetProperty("otherSymbols").EnumerateArray().Select(s => s.GetString()));

        await AssertReplayedExactlyOnceAsync("binance", "BTCUSDT", expected["BTCUSDT"]);
        await AssertReplayedExactlyOnceAsync("binance", "ETHUSDT", expected["ETHUSDT"]);
        await AssertCompletedAsync(job, framesSent: 1910 + 118);
        // The market goes on after the replay, from the replayed ids.
        await Eventually.SucceedsAsync(async () => Assert.True((await LastPublishedAsync("binance", "BTCUSDT")).TradeId > expected["BTCUSDT"][^1].TradeId), Wait);
    }

    [Fact]
    public async Task A_replayed_Okx_capture_arrives_on_market_raw_with_the_captured_trades_exactly_once()
    {
        const string file = "cryptofeed_OKX_ws_trades_2022-05-13.txt";
        var expected = OkxTrades(Capture(file), "BTC-USDT", "BTCUSDT");
        Assert.NotEmpty(expected);
        await LastPublishedAsync("okx", "BTCUSDT");

        var job = await ReplayAsync("okx", file, speed: 20);
        var btc = job.GetProperty("markets").EnumerateArray().Single();
        Assert.Equal("BTCUSDT", btc.GetProperty("symbol").GetString());
        Assert.Equal(expected.Count, btc.GetProperty("prints").GetInt64());
        // Swaps and futures of the capture are not spot markets of the simulator.
        Assert.Equal(["BTC-USD-220527", "UNI-USD-SWAP"], job.GetProperty("otherSymbols").EnumerateArray().Select(s => s.GetString()!));

        await AssertReplayedExactlyOnceAsync("okx", "BTCUSDT", expected);
        await AssertCompletedAsync(job, framesSent: 74);
    }

    [Fact]
    public async Task A_replay_that_would_go_back_in_trade_ids_or_names_no_file_is_refused_with_the_reason()
    {
        // Ids at or below what the market already printed would all be dropped as duplicates downstream: 409, not a silent no-op.
        var last = await LastPublishedAsync("binance", "SOLUSDT");
        var csv = $"{last.TradeId},150.5,0.1,{last.TradeId},{last.TradeId},1617566591985,False,True\n";
        using var back = await _simulator.PostAsync("/control/replay?exchange=binance&format=binance-aggtrades&symbol=SOLUSDT&speed=0", new StringContent(csv));
        Assert.Equal(HttpStatusCode.Conflict, back.StatusCode);
        Assert.Contains("duplicate", await back.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var noSymbol = await _simulator.PostAsync("/control/replay?exchange=binance&format=binance-trades", new StringContent("1,2,3,4,5,False,True\n"));
        Assert.Equal(HttpStatusCode.BadRequest, noSymbol.StatusCode);
        Assert.Equal("symbol", (await noSymbol.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());

        using var path = await _simulator.PostAsJsonAsync("/control/replay", new { exchange = "binance", file = "../../etc/passwd" });
        Assert.Equal(HttpStatusCode.BadRequest, path.StatusCode);
        Assert.Equal("file", (await path.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    private async Task<JsonElement> ReplayAsync(string exchange, string file, double speed)
    {
        using var body = new StreamContent(File.OpenRead(Capture(file)));
        using var response = await _simulator.PostAsync(
            string.Create(CultureInfo.InvariantCulture, $"/control/replay?exchange={exchange}&speed={speed}"), body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task AssertCompletedAsync(JsonElement job, long framesSent)
    {
        var id = job.GetProperty("id").GetGuid();
        await Eventually.SucceedsAsync(async () =>
        {
            var status = await _simulator.GetFromJsonAsync<JsonElement>($"/control/replay/{id}");
            Assert.Equal("completed", status.GetProperty("status").GetString());
            Assert.Equal(framesSent, status.GetProperty("framesSent").GetInt64());
        }, Wait);
    }

    /// <summary>The captured trades, in the capture's id range on market.raw: the same list (fields, order), each once.</summary>
    private async Task AssertReplayedExactlyOnceAsync(string exchange, string symbol, List<Trade> expected)
    {
        var (first, last) = (expected[0].TradeId, expected[^1].TradeId);
        List<MarketStream.Message<Trade>> window = [];
        await Eventually.SucceedsAsync(async () =>
        {
            var all = await MarketStream.ReadTradesAsync(_js, Subjects.MarketRaw(exchange, symbol));
            window = [.. all.Where(m => m.Value.TradeId >= first && m.Value.TradeId <= last)];
            Assert.Equal(expected, window.Select(m => m.Value).ToList());
        }, Wait);
        // Each message's Nats-Msg-Id (the trade id, or first-last for several trades) is checked by ReadTradesAsync.
    }

    private async Task<Trade> LastPublishedAsync(string exchange, string symbol) =>
        (await Eventually.ReturnsAsync(async () => (await MarketStream.ReadTradesAsync(_js, Subjects.MarketRaw(exchange, symbol))).LastOrDefault()?.Value,
            Wait, $"{exchange} {symbol} trades"));

    /// <summary>Binance aggTrade frames of the capture as QuantTrader publishes them: id = a, count = l − f + 1.</summary>
    private static Dictionary<string, List<Trade>> BinanceAggTrades(string path)
    {
        var trades = new Dictionary<string, List<Trade>>();
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
            var data = doc.RootElement.GetProperty("data");
            if (data.GetProperty("e").GetString() != "aggTrade")
            {
                continue;
            }

            var symbol = data.GetProperty("s").GetString()!;
            var trade = new Trade("binance", symbol, data.GetProperty("a").GetInt64(), Dec(data.GetProperty("p")), Dec(data.GetProperty("q")),
                data.GetProperty("m").GetBoolean() ? TakerSide.Sell : TakerSide.Buy,
                DateTimeOffset.FromUnixTimeMilliseconds(data.GetProperty("T").GetInt64()),
                (int)(data.GetProperty("l").GetInt64() - data.GetProperty("f").GetInt64() + 1));
            (trades.TryGetValue(symbol, out var list) ? list : trades[symbol] = []).Add(trade);
        }

        return trades;
    }

    /// <summary>OKX trades entries of one instrument (this capture has no aggregated entries: one trade each).</summary>
    private static List<Trade> OkxTrades(string path, string instId, string symbol)
    {
        var trades = new List<Trade>();
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
            if (!doc.RootElement.TryGetProperty("data", out var data) || doc.RootElement.GetProperty("arg").GetProperty("instId").GetString() != instId)
            {
                continue;
            }

            foreach (var e in data.EnumerateArray())
            {
                Assert.False(e.TryGetProperty("count", out _));
                trades.Add(new Trade("okx", symbol, long.Parse(e.GetProperty("tradeId").GetString()!, CultureInfo.InvariantCulture),
                    Dec(e.GetProperty("px")), Dec(e.GetProperty("sz")), e.GetProperty("side").GetString() == "sell" ? TakerSide.Sell : TakerSide.Buy,
                    DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(e.GetProperty("ts").GetString()!, CultureInfo.InvariantCulture))));
            }
        }

        return trades;
    }

    private static decimal Dec(JsonElement e) => decimal.Parse(e.GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture);
}
