using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace QuantTrader.IntegrationTests;

/// <summary>Backtests over klines stored in PostgreSQL (as an import or the live pipeline would leave them).</summary>
[Collection(SystemCollection.Name)]
public sealed class BacktestTests(SystemFixture system)
{
    internal static readonly DateTimeOffset Start = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_backtest_of_the_sma_example_is_byte_identical_when_run_twice()
    {
        var symbol = StrategyFiles.UniqueSymbol();
        await InsertWaveAsync(symbol, 600);
        var (_, _, client) = await system.CreateUserAsync();
        Guid id;
        using (var content = StrategyFiles.Upload(StrategyFiles.SmaWasm, symbol, """{"fast":5,"slow":20,"quantity":0.5}"""))
        using (var created = await client.PostAsync("/api/v1/strategies", content))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }
        var request = new { strategyId = id, exchange = "binance", symbol, interval = "1m", from = Start, to = Start.AddHours(10), initialBalance = 1000m, feeRate = 0.001m };

        var first = await RunAsync(client, request);
        var second = await RunAsync(client, request);
        Assert.Equal(first, second);

        using var result = JsonDocument.Parse(first);
        var root = result.RootElement;
        Assert.Equal(600, root.GetProperty("bars").GetInt32());
        // No stored trades for this market: each bar was split into four prints.
        Assert.Equal("klines", root.GetProperty("source").GetString());
        Assert.Equal(2400, root.GetProperty("prints").GetInt64());
        Assert.Equal(600, root.GetProperty("equityCurve").GetArrayLength());
        Assert.True(root.GetProperty("fills").GetArrayLength() >= 4, "the wave should cross several times");
        Assert.Equal("buy", root.GetProperty("fills")[0].GetProperty("side").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("fault").ValueKind);
        var statistics = root.GetProperty("statistics");
        Assert.Equal(1000m, statistics.GetProperty("startEquity").GetDecimal());
        Assert.Equal(root.GetProperty("finalEquity").GetDecimal(), statistics.GetProperty("endEquity").GetDecimal());
        Assert.Equal(JsonValueKind.Number, statistics.GetProperty("maxDrawdown").ValueKind);
        Assert.True(statistics.GetProperty("trades").GetProperty("numberOfTrades").GetInt32() >= 2);

        // A narrower window sees only its bars.
        using var narrow = JsonDocument.Parse(await RunAsync(client, request with { to = Start.AddMinutes(100) }));
        Assert.Equal(100, narrow.RootElement.GetProperty("bars").GetInt32());
    }

    [Fact]
    public async Task A_backtest_over_a_range_with_stored_trades_runs_print_by_print_on_them_at_the_account_fee_rates()
    {
        var symbol = StrategyFiles.UniqueSymbol();
        var firstTradeId = await InsertWaveWithTradesAsync(symbol, 200);
        var (_, _, client) = await system.CreateUserAsync();
        Guid id;
        using (var content = StrategyFiles.Upload(StrategyFiles.SmaWasm, symbol, """{"fast":5,"slow":20,"quantity":0.5}"""))
        using (var created = await client.PostAsync("/api/v1/strategies", content))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }

        var body = await RunAsync(client, new { strategyId = id, exchange = "binance", symbol, interval = "1m", from = Start, to = Start.AddMinutes(200), initialBalance = 1000m });

        using var result = JsonDocument.Parse(body);
        var root = result.RootElement;
        Assert.Equal("trades", root.GetProperty("source").GetString());
        Assert.Equal(800, root.GetProperty("prints").GetInt64());
        // A user without a paper account pays the paper engine's default rates.
        Assert.Equal((0.001m, 0.001m), (root.GetProperty("makerFeeRate").GetDecimal(), root.GetProperty("takerFeeRate").GetDecimal()));
        var fills = root.GetProperty("fills").EnumerateArray().ToList();
        Assert.True(fills.Count >= 2, $"the wave should cross: {body}");
        foreach (var fill in fills)
        {
            // Market orders: takers at the price of a stored print, on the print's own trade id.
            Assert.Equal("taker", fill.GetProperty("liquidity").GetString());
            Assert.InRange(fill.GetProperty("tradeId").GetInt64(), firstTradeId, firstTradeId + 799);
            Assert.Equal(0.5m, fill.GetProperty("quantity").GetDecimal());
            Assert.Equal(fill.GetProperty("price").GetDecimal() * 0.5m * 0.001m, fill.GetProperty("fee").GetDecimal());
        }
    }

    [Fact]
    public async Task A_bad_backtest_request_is_a_400_naming_the_field()
    {
        var (_, _, client) = await system.CreateUserAsync();
        Guid id;
        using (var content = StrategyFiles.Upload(StrategyFiles.SmaWat, StrategyFiles.UniqueSymbol()))
        using (var created = await client.PostAsync("/api/v1/strategies", content))
        {
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }
        foreach (var (body, field) in new (object, string)[]
        {
            (new { from = Start, to = Start.AddHours(1) }, "strategyId"),
            (new { strategyId = id, from = Start.AddHours(1), to = Start }, "to"),
            (new { strategyId = id, from = Start, to = Start.AddHours(1), feeRate = 0.5m }, "feeRate"),
            (new { strategyId = id, from = Start, to = Start.AddHours(1), interval = "2m" }, "interval"),
        })
        {
            using var response = await client.PostAsJsonAsync("/api/v1/backtests", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
    }

    /// <summary>
    /// Klines of a wave with four stored trades each (open, low, high, close; quantity 1 each), as the kline service
    /// would have built them from the trades. Returns the first trade id.
    /// </summary>
    private async Task<long> InsertWaveWithTradesAsync(string symbol, int count)
    {
        const long firstTradeId = 5_000_000;
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var batch = db.CreateBatch();
        decimal previous = 100m;
        var tradeId = firstTradeId;
        for (var i = 0; i < count; i++)
        {
            var close = Math.Round(100m + 10m * (decimal)Math.Sin(i / 15.0) + 3m * (decimal)Math.Sin(i / 4.0), 2);
            var (open, high, low) = (previous, Math.Max(previous, close) + 0.2m, Math.Min(previous, close) - 0.2m);
            var openTime = Start.AddMinutes(i);
            var kline = new NpgsqlBatchCommand("""
                INSERT INTO klines (exchange, symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume,
                                    trades, taker_buy_volume, taker_buy_quote_volume, closed)
                VALUES ('binance', $1, '1m', $2, $3, $4, $5, $6, $7, 4, $8, 4, 2, $9, true)
                """);
            foreach (var value in new object[] { symbol, openTime, openTime.AddMinutes(1).AddMilliseconds(-1), open, high, low, close, open + low + high + close, high + close })
            {
                kline.Parameters.Add(new() { Value = value });
            }
            batch.BatchCommands.Add(kline);
            foreach (var (price, second) in new[] { (open, 1), (low, 15), (high, 30), (close, 59) })
            {
                var trade = new NpgsqlBatchCommand("""
                    INSERT INTO trades (exchange, symbol, trade_id, time, price, quantity, side, count)
                    VALUES ('binance', $1, $2, $3, $4, 1, 'buy', 1)
                    """);
                foreach (var value in new object[] { symbol, tradeId++, openTime.AddSeconds(second), price })
                {
                    trade.Parameters.Add(new() { Value = value });
                }
                batch.BatchCommands.Add(trade);
            }
            previous = close;
        }
        await batch.ExecuteNonQueryAsync();
        return firstTradeId;
    }

    private static async Task<string> RunAsync(HttpClient client, object request)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/backtests", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return body;
    }

    /// <summary>A deterministic wave of closed one-minute klines, written straight into the klines table.</summary>
    private Task InsertWaveAsync(string symbol, int count) => InsertWaveAsync(system, symbol, count);

    internal static async Task InsertWaveAsync(SystemFixture system, string symbol, int count)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var batch = db.CreateBatch();
        decimal previous = 100m;
        for (var i = 0; i < count; i++)
        {
            var close = Math.Round(100m + 10m * (decimal)Math.Sin(i / 15.0) + 3m * (decimal)Math.Sin(i / 4.0), 2);
            var open = previous;
            var openTime = Start.AddMinutes(i);
            var command = new NpgsqlBatchCommand("""
                INSERT INTO klines (exchange, symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume,
                                    trades, taker_buy_volume, taker_buy_quote_volume, closed)
                VALUES ('binance', $1, '1m', $2, $3, $4, $5, $6, $7, 10, $8, 100, 5, $9, true)
                """);
            command.Parameters.Add(new() { Value = symbol });
            command.Parameters.Add(new() { Value = openTime });
            command.Parameters.Add(new() { Value = openTime.AddMinutes(1).AddMilliseconds(-1) });
            command.Parameters.Add(new() { Value = open });
            command.Parameters.Add(new() { Value = Math.Max(open, close) * 1.002m });
            command.Parameters.Add(new() { Value = Math.Min(open, close) * 0.998m });
            command.Parameters.Add(new() { Value = close });
            command.Parameters.Add(new() { Value = 10m * close });
            command.Parameters.Add(new() { Value = 5m * close });
            batch.BatchCommands.Add(command);
            previous = close;
        }
        await batch.ExecuteNonQueryAsync();
    }
}
