using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using QuantTrader.Indicators;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The indicators endpoint over stored klines. In this branch persistence does not yet store market.kline into
/// the klines table, so the test inserts the rows itself (the table of migration 0003); after the merge the
/// real flow fills the same table.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class IndicatorsApiTests(SystemFixture system)
{
    private static readonly DateTimeOffset Start = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static List<IndicatorBar> Series(int count)
    {
        var bars = new List<IndicatorBar>();
        var price = 100m;
        for (var i = 0; i < count; i++)
        {
            // Deterministic zig-zag with drift: enough movement for every indicator.
            var close = price + (((i * 7) % 11) - 5) * 0.37m + (i % 3 == 0 ? 0.5m : -0.2m);
            var high = Math.Max(price, close) + 0.25m + (i % 5) * 0.1m;
            var low = Math.Min(price, close) - 0.3m - (i % 4) * 0.05m;
            bars.Add(new IndicatorBar(Start.AddMinutes(i), price, high, low, close, 10m + (i % 13)));
            price = close;
        }

        return bars;
    }

    private async Task InsertAsync(string symbol, IReadOnlyList<IndicatorBar> bars)
    {
        await using var dataSource = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var batch = dataSource.CreateBatch();
        foreach (var bar in bars)
        {
            var command = new NpgsqlBatchCommand("""
                INSERT INTO klines (exchange, symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume,
                                    trades, taker_buy_volume, taker_buy_quote_volume, closed)
                VALUES ('binance', $1, '1m', $2, $3, $4, $5, $6, $7, $8, $9, 1, 0, 0, true)
                """);
            command.Parameters.Add(new() { Value = symbol });
            command.Parameters.Add(new() { Value = bar.Time });
            command.Parameters.Add(new() { Value = bar.Time.AddMinutes(1).AddMilliseconds(-1) });
            command.Parameters.Add(new() { Value = bar.Open });
            command.Parameters.Add(new() { Value = bar.High });
            command.Parameters.Add(new() { Value = bar.Low });
            command.Parameters.Add(new() { Value = bar.Close });
            command.Parameters.Add(new() { Value = bar.Volume });
            command.Parameters.Add(new() { Value = bar.Volume * bar.Close });
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync();
    }

    private static List<(DateTimeOffset Time, IReadOnlyDictionary<string, double> Values)> Expected(string name, Dictionary<string, string> parameters, IEnumerable<IndicatorBar> bars)
    {
        var indicator = IndicatorCatalog.Create(name, parameters);
        var points = new List<(DateTimeOffset, IReadOnlyDictionary<string, double>)>();
        foreach (var bar in bars)
        {
            if (indicator.Update(bar))
            {
                points.Add((bar.Time, new Dictionary<string, double>(indicator.Outputs)));
            }
        }

        return points;
    }

    [Theory]
    [InlineData("rsi", "period=14")]
    [InlineData("macd", "fast=12&slow=26&signal=9")]
    [InlineData("bb", "period=20&stdDev=2")]
    [InlineData("obv", "")]
    public async Task Values_equal_the_library_over_the_whole_series(string name, string query)
    {
        var symbol = MarketBus.NewSymbol();
        var bars = Series(300);
        await InsertAsync(symbol, bars);
        var parameters = query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var expected = Expected(name, parameters, bars);

        // From the middle of the series: the endpoint warms up on the klines before 'from'.
        var from = Start.AddMinutes(200);
        var url = $"/api/v1/markets/binance/{symbol}/indicators/{name}?interval=1m&from={from:yyyy-MM-ddTHH:mm:ssZ}&limit=50" + (query.Length > 0 ? "&" + query : "");
        var points = await system.Gateway.GetFromJsonAsync<JsonElement>(url);
        var wanted = expected.Where(p => p.Time >= from).Take(50).ToList();
        Assert.Equal(wanted.Count, points.GetArrayLength());
        foreach (var (point, want) in points.EnumerateArray().Zip(wanted))
        {
            Assert.Equal(want.Time, point.GetProperty("time").GetDateTimeOffset());
            foreach (var (key, value) in want.Values)
            {
                Assert.Equal(value, point.GetProperty(key).GetDouble(), 9);
            }
        }

        // Without 'from': the newest points; warm-up points are never listed.
        var newest = await system.Gateway.GetFromJsonAsync<JsonElement>($"/api/v1/markets/binance/{symbol}/indicators/{name}?limit=5" + (query.Length > 0 ? "&" + query : ""));
        Assert.Equal(expected.TakeLast(5).Select(p => p.Time), newest.EnumerateArray().Select(p => p.GetProperty("time").GetDateTimeOffset()));
    }

    [Theory]
    [InlineData("nope", "", "name")]
    [InlineData("rsi", "period=0", "period")]
    [InlineData("rsi", "length=3", "length")]
    [InlineData("rsi", "interval=2m", "interval")]
    [InlineData("rsi", "from=yesterday", "from")]
    public async Task Bad_requests_name_the_field(string name, string query, string field)
    {
        using var response = await system.Gateway.GetAsync($"/api/v1/markets/binance/BTCUSDT/indicators/{name}?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }
}
