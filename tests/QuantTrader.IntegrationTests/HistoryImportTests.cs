using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// POST /api/v1/imports with the Binance public-data CSVs in tests/fixtures/binance-public-data (real trades, see its
/// README): the import completes with the right row counts, trades land on market.history with their ids, klines in
/// the klines table, and only the owner can see the import. Importing is an operator right: these tests import as the
/// system's operators (SystemFixture.CreateOperatorAsync); ImportSafetyTests shows everyone else refused.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class HistoryImportTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static string Fixture(string name) =>
        Path.Combine(AppContext.BaseDirectory, "fixtures", "binance-public-data", name);

    /// <summary>A symbol no other test uses, registered through base/quote (the import's unknown-symbol path).</summary>
    internal static (string Symbol, string Base) FreshSymbol()
    {
        // Six letters A–Z from random bytes (26^6 ≈ 3 × 10^8): four hex letters of a GUID gave at most 6^4 = 1,296 names,
        // and one CI run drew the same symbol for two imports, so one test counted the other's trades.
        var letters = new string([.. RandomNumberGenerator.GetBytes(6).Select(x => (char)('A' + x % 26))]);
        var b = "T" + letters;
        return (b + "USDT", b);
    }

    [Fact]
    public async Task AggTrades_csv_with_a_bad_row_completes_and_its_trades_are_on_market_history()
    {
        var (_, _, client) = await system.CreateOperatorAsync();
        var (symbol, b) = FreshSymbol();
        var status = await ImportAsync(client, "binance-aggtrades", symbol, b, "ETHUSDT-aggTrades-2021-04-04-sample.csv");

        Assert.Equal("completed", status.GetProperty("status").GetString());
        Assert.Equal(40, status.GetProperty("rows").GetInt64());
        Assert.Equal(1, status.GetProperty("rejectedRows").GetInt64());
        Assert.StartsWith("line 12: price 'not-a-price' is not a number", status.GetProperty("firstError").GetString());

        var trades = await HistoryAsync(symbol, 40);
        Assert.Equal(291477091, trades[0].Trade.TradeId);
        Assert.Equal(2064.74m, trades[0].Trade.Price);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1617566591985), trades[0].Trade.Time);
        // Imported trades are published in batches (one message per up to 200 trades); ReadTradesAsync checked the ids.
        Assert.StartsWith($"history:binance:{symbol}:291477091", trades[0].MessageId);
        Assert.Equal(trades.Select(t => t.Trade.TradeId).Order(), trades.Select(t => t.Trade.TradeId));
    }

    [Fact]
    public async Task Trades_csv_without_header_and_with_microseconds_imports_every_row()
    {
        var (_, _, client) = await system.CreateOperatorAsync();
        var (symbol, b) = FreshSymbol();
        var status = await ImportAsync(client, "binance-trades", symbol, b, "ETHUSDT-trades-2021-04-04-sample-us.csv");

        Assert.Equal("completed", status.GetProperty("status").GetString());
        Assert.Equal(20, status.GetProperty("rows").GetInt64());
        Assert.Equal(0, status.GetProperty("rejectedRows").GetInt64());
        var trades = await HistoryAsync(symbol, 20);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1617566591985), trades[0].Trade.Time);
    }

    [Fact]
    public async Task Klines_csv_is_stored_as_closed_klines()
    {
        var (_, _, client) = await system.CreateOperatorAsync();
        var (symbol, b) = FreshSymbol();
        var status = await ImportAsync(client, "binance-klines", symbol, b, "BTCUSDT-1m-2021-04-04-sample.csv");
        Assert.Equal("completed", status.GetProperty("status").GetString());
        Assert.Equal(1, status.GetProperty("rows").GetInt64());

        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var cmd = db.CreateCommand("SELECT interval, close, trades, closed FROM klines WHERE exchange = 'binance' AND symbol = $1");
        cmd.Parameters.Add(new() { Value = symbol });
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("1m", reader.GetString(0));
        Assert.Equal(57999.99m, reader.GetDecimal(1));
        Assert.Equal(1020, reader.GetInt64(2));
        Assert.True(reader.GetBoolean(3));
    }

    [Fact]
    public async Task Only_the_owner_sees_an_import_and_a_key_is_required()
    {
        var (_, _, owner) = await system.CreateOperatorAsync();
        var (_, _, other) = await system.CreateUserAsync();
        var (symbol, b) = FreshSymbol();
        var status = await ImportAsync(owner, "binance-klines", symbol, b, "BTCUSDT-1m-2021-04-04-sample.csv");
        var id = status.GetProperty("id").GetGuid();

        using var foreign = await other.GetAsync($"/api/v1/imports/{id}");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using var anonymous = await system.Gateway.PostAsync("/api/v1/imports?exchange=binance&symbol=BTCUSDT&format=binance-trades", new StringContent("1,2,3"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Theory]
    [InlineData("exchange=kraken&symbol=BTCUSDT&format=binance-trades", "exchange")]
    [InlineData("exchange=binance&symbol=BTCUSDT&format=csv", "format")]
    [InlineData("exchange=binance&symbol=NEWCOINUSDT&format=binance-trades", "base")]
    public async Task Invalid_requests_are_problems_naming_the_field(string query, string field)
    {
        var (_, _, client) = await system.CreateOperatorAsync();
        using var response = await client.PostAsync($"/api/v1/imports?{query}", new StringContent("1,2,1,2,1617566591985,true,true"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_file_larger_than_a_default_request_limit_streams_through_the_gateway_and_the_ingestor()
    {
        // ~40 MB: above Kestrel's 30 MB default and the old 64 MiB-for-all-uploads idea of "large" is what real daily
        // files exceed. Ten good rows, then rows with a bad price, which cost parsing but no publishing.
        var (_, _, client) = await system.CreateOperatorAsync();
        var (symbol, b) = FreshSymbol();
        var path = Path.GetTempFileName();
        try
        {
            await using (var writer = new StreamWriter(path))
            {
                for (var i = 1; i <= 10; i++)
                {
                    await writer.WriteLineAsync($"{i},100.5,0.25,{i},{i},{1617566591985 + i},true,true");
                }
                for (var i = 11; i <= 900_000; i++)
                {
                    await writer.WriteLineAsync($"{i},not-a-price,0.25,{i},{i},{1617566591985 + i},true,true");
                }
            }
            Assert.True(new FileInfo(path).Length > 30_000_000);

            var status = await ImportFileAsync(client, "binance-aggtrades", symbol, b, path);

            Assert.Equal("completed", status.GetProperty("status").GetString());
            Assert.Equal(10, status.GetProperty("rows").GetInt64());
            Assert.Equal(899_990, status.GetProperty("rejectedRows").GetInt64());
            Assert.Equal(10, (await HistoryAsync(symbol, 10)).Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Klines_of_an_imported_trades_file_can_all_be_read_as_soon_as_it_says_completed()
    {
        // 20 hours of one trade every 20 s, inside one UTC day: 3,600 trades, 1,200 one-minute windows. The kline service
        // builds the klines after the trades are published; "completed" must wait for them (a client once read 480 of
        // 3,560 bars right after it).
        var (_, _, client) = await system.CreateOperatorAsync();
        var (symbol, b) = FreshSymbol();
        var start = new DateTimeOffset(2021, 4, 4, 0, 0, 0, TimeSpan.Zero);
        const int Trades = 3_600;
        var path = Path.GetTempFileName();
        try
        {
            await using (var writer = new StreamWriter(path))
            {
                for (var i = 0; i < Trades; i++)
                {
                    var price = (2000m + (i % 50)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    await writer.WriteLineAsync($"{i + 1},{price},0.5,{i + 1},{i + 1},{start.AddSeconds(20 * i).ToUnixTimeMilliseconds()},false,true");
                }
            }

            var status = await ImportFileAsync(client, "binance-aggtrades", symbol, b, path);
            Assert.Equal("completed", status.GetProperty("status").GetString());

            // Read at once, no waiting: every window of every interval is there.
            await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
            await using var cmd = db.CreateCommand("SELECT interval, count(*), sum(trades) FROM klines WHERE exchange = 'binance' AND symbol = $1 GROUP BY interval");
            cmd.Parameters.Add(new() { Value = symbol });
            var stored = new Dictionary<string, (long Klines, long Trades)>();
            await using (var reader = await cmd.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    stored[reader.GetString(0)] = (reader.GetInt64(1), (long)reader.GetDecimal(2));
                }
            }

            var expected = new Dictionary<string, long> { ["1m"] = 1200, ["3m"] = 400, ["5m"] = 240, ["15m"] = 80, ["30m"] = 40, ["1h"] = 20, ["4h"] = 5, ["1d"] = 1 };
            Assert.Equal(expected, stored.ToDictionary(s => s.Key, s => s.Value.Klines));
            Assert.All(stored.Values, s => Assert.Equal(Trades, s.Trades));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Task<JsonElement> ImportAsync(HttpClient client, string format, string symbol, string b, string fixture) =>
        ImportFileAsync(client, format, symbol, b, Fixture(fixture));

    /// <summary>Uploads the file through the gateway and waits until the import is completed or failed.</summary>
    private static async Task<JsonElement> ImportFileAsync(HttpClient client, string format, string symbol, string b, string path)
    {
        await using var file = File.OpenRead(path);
        using var response = await client.PostAsync(
            $"/api/v1/imports?exchange=binance&symbol={symbol}&format={format}&base={b}&quote=USDT", new StreamContent(file));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("importId").GetGuid();

        return await Eventually.ReturnsAsync(async () =>
        {
            var status = await client.GetFromJsonAsync<JsonElement>($"/api/v1/imports/{id}");
            return status.GetProperty("status").GetString() is "completed" or "failed" ? (object)status : null;
        }, Wait, "the import to finish") is JsonElement done ? done : default;
    }

    private sealed record Published(Trade Trade, string? MessageId);

    private async Task<List<Published>> HistoryAsync(string symbol, int expected)
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        var js = nats.CreateJetStreamContext();
        List<Published> trades = [];
        await Eventually.SucceedsAsync(async () =>
        {
            trades = [.. (await MarketStream.ReadTradesAsync(js, Subjects.MarketHistory("binance", symbol), idPrefix: "history:"))
                .Select(m => new Published(m.Value, m.Header("Nats-Msg-Id")))];
            Assert.Equal(expected, trades.Count);
        }, Wait);
        Assert.Equal(expected, trades.Count);
        return trades;
    }
}
