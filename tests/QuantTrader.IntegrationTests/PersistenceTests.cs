using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using QuantTrader.Contracts.Alerts;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The batch saver end to end: real events on JetStream → persistence → PostgreSQL rows (exactly once, whatever is
/// redelivered or re-published), poison messages to the dead-letter subject, and the public query API through the gateway.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class PersistenceTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static string NewSymbol() => "T" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant() + "USDT";

    private static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    private async Task<NpgsqlDataSource> DatabaseAsync() => NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var a in args)
        {
            command.Parameters.Add(new() { Value = a });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Live_and_history_trades_are_stored_once_and_served_oldest_first()
    {
        await using var bus = await Bus.ConnectAsync(system);
        await using var db = await DatabaseAsync();
        var symbol = NewSymbol();
        var now = Now();
        var live = Enumerable.Range(1, 30)
            .Select(i => new Trade("binance", symbol, 1000 + i, 100m + i, 0.5m, i % 2 == 0 ? TakerSide.Buy : TakerSide.Sell, now.AddSeconds(i - 40)))
            .ToList();
        var history = Enumerable.Range(1, 5)
            .Select(i => new Trade("binance", symbol, i, 90m + i, 1m, TakerSide.Buy, now.AddHours(-2).AddMinutes(i)))
            .ToList();

        foreach (var t in history)
        {
            await bus.PublishAsync(Subjects.MarketHistory("binance", symbol), t, "history:" + t.MessageId, ContractsJsonContext.Wire.Trade);
        }
        foreach (var t in live)
        {
            await bus.PublishAsync(Subjects.MarketRaw("binance", symbol), t, t.MessageId, ContractsJsonContext.Wire.Trade);
        }
        // A gap notice travels on the same stream and is not a trade.
        await bus.PublishRawAsync(Subjects.MarketGap("binance", symbol), Encoding.UTF8.GetBytes("""{"fromId":1,"toId":5}"""), $"gap:{symbol}");
        // The same trades again under other message ids (past JetStream's duplicate window, as after a replay).
        foreach (var t in live.Take(10).Concat(history.Take(2)))
        {
            await bus.PublishAsync(Subjects.MarketRaw("binance", symbol), t, "again:" + t.MessageId, ContractsJsonContext.Wire.Trade);
        }

        await Eventually.SucceedsAsync(async () =>
            Assert.Equal(35, await CountAsync(db, "SELECT count(*) FROM trades WHERE exchange = 'binance' AND symbol = $1", symbol)), Wait);
        Assert.Equal(35, await CountAsync(db, "SELECT count(DISTINCT trade_id) FROM trades WHERE symbol = $1", symbol));

        // Without 'from': the newest 'limit', oldest first.
        var newest = await GetArrayAsync($"/api/v1/markets/binance/{symbol}/trades?limit=10");
        Assert.Equal(live.TakeLast(10).Select(t => t.TradeId), newest.Select(t => t.GetProperty("tradeId").GetInt64()));
        var first = newest[0];
        Assert.Equal(live[20].Price, first.GetProperty("price").GetDecimal());
        Assert.Equal(0.5m, first.GetProperty("quantity").GetDecimal());
        Assert.Equal(live[20].Side == TakerSide.Buy ? "buy" : "sell", first.GetProperty("side").GetString());
        Assert.Equal(live[20].Time, first.GetProperty("time").GetDateTimeOffset());
        Assert.EndsWith("Z", first.GetProperty("time").GetString());

        // With 'from' (epoch ms): starts there, ascending; 'to' (ISO-8601) bounds it, inclusive.
        var from = history[0].Time.ToUnixTimeMilliseconds();
        var to = Uri.EscapeDataString(live[4].Time.ToString("O"));
        var range = await GetArrayAsync($"/api/v1/markets/binance/{symbol}/trades?from={from}&to={to}");
        Assert.Equal(history.Select(t => t.TradeId).Concat(live.Take(5).Select(t => t.TradeId)), range.Select(t => t.GetProperty("tradeId").GetInt64()));

        // A limit above the maximum is clamped, not refused.
        var all = await GetArrayAsync($"/api/v1/markets/binance/{symbol.ToLowerInvariant()}/trades?limit=50000");
        Assert.Equal(35, all.Length);
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.GetProperty("time").GetDateTimeOffset() <= p.Second.GetProperty("time").GetDateTimeOffset()));
    }

    [Fact]
    public async Task Trades_have_one_index_and_it_serves_the_range_queries()
    {
        await using var db = await DatabaseAsync();

        // Migration 0103: the primary key (exchange, symbol, time, trade_id) is the only index, on the parent and on
        // every partition (the batch saver pays for each index on every row).
        await using (var indexes = db.CreateCommand(
            "SELECT string_agg(indexdef, '; ') FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'trades'"))
        {
            Assert.Equal("CREATE UNIQUE INDEX trades_pkey ON ONLY public.trades USING btree (exchange, symbol, \"time\", trade_id)",
                await indexes.ExecuteScalarAsync() as string);
        }
        Assert.Equal(0, await CountAsync(db, """
            SELECT count(*) FROM pg_inherits h JOIN pg_index i ON i.indrelid = h.inhrelid
            WHERE h.inhparent = 'trades'::regclass AND NOT (i.indisunique AND pg_get_indexdef(i.indexrelid) LIKE '%(exchange, symbol, "time", trade_id)')
            """));

        // The queries of MarketDataQueries.TradesAsync (newest first without 'from'; a time range with it) are index
        // scans on that key. Sequential scans are switched off so that the plan does not depend on how few rows the
        // test database holds: the point is that the index can serve them.
        await using var connection = await db.OpenConnectionAsync();
        await using (var off = new NpgsqlCommand("SET enable_seqscan = off; SET enable_bitmapscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }
        foreach (var sql in new[]
        {
            "SELECT trade_id FROM trades WHERE exchange = 'binance' AND symbol = 'BTCUSDT' ORDER BY time DESC, trade_id DESC LIMIT 500",
            "SELECT trade_id FROM trades WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND time >= now() - interval '1 hour' AND time <= now() ORDER BY time, trade_id LIMIT 500",
        })
        {
            await using var explain = new NpgsqlCommand("EXPLAIN " + sql, connection);
            var plan = new StringBuilder();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    plan.AppendLine(reader.GetString(0));
                }
            }
            var text = plan.ToString();
            Assert.Contains("_pkey", text);
            Assert.Contains("Index Cond: ((exchange = 'binance'::text) AND (symbol = 'BTCUSDT'::text)", text);
            Assert.DoesNotContain("Seq Scan", text);
        }
    }

    [Fact]
    public async Task Query_parameters_are_validated_with_the_field_named()
    {
        await AssertFieldProblemAsync("/api/v1/markets/kraken/BTCUSDT/trades", "exchange");
        await AssertFieldProblemAsync("/api/v1/markets/binance/BTCUSDT/trades?from=yesterday", "from");
        await AssertFieldProblemAsync("/api/v1/markets/binance/BTCUSDT/trades?from=2024-03-02T00:00:00Z&to=2024-03-01T00:00:00Z", "to");
        await AssertFieldProblemAsync("/api/v1/markets/binance/BTCUSDT/trades?limit=-3", "limit");
        await AssertFieldProblemAsync("/api/v1/markets/binance/BTCUSDT/klines", "interval");
        await AssertFieldProblemAsync("/api/v1/markets/binance/BTCUSDT/klines?interval=2m", "interval");
    }

    [Fact]
    public async Task Open_kline_updates_replace_each_other_and_the_closed_kline_wins()
    {
        await using var bus = await Bus.ConnectAsync(system);
        await using var db = await DatabaseAsync();
        var symbol = NewSymbol();
        var open = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddHours(-3);
        Kline K(DateTimeOffset openTime, decimal close, long trades, bool closed) => new(
            "okx", symbol, "1m", openTime, openTime.AddMinutes(1).AddMilliseconds(-1),
            100m, Math.Max(100m, close), Math.Min(100m, close), close, trades, trades * close, trades, trades / 2m, trades * close / 2m, closed);

        var subject = Subjects.MarketKline("okx", "1m", symbol);
        await bus.PublishAsync(subject, K(open, 101m, 1, false), $"{symbol}:0:1", ContractsJsonContext.Wire.Kline);
        await bus.PublishAsync(subject, K(open, 102m, 2, false), $"{symbol}:0:2", ContractsJsonContext.Wire.Kline);
        await bus.PublishAsync(subject, K(open, 103m, 3, true), $"{symbol}:0:3", ContractsJsonContext.Wire.Kline);
        // A stale open update arriving late must not reopen the closed kline.
        await bus.PublishAsync(subject, K(open, 102m, 2, false), $"{symbol}:0:2:late", ContractsJsonContext.Wire.Kline);
        for (var i = 1; i <= 3; i++)
        {
            await bus.PublishAsync(subject, K(open.AddMinutes(i), 100m + i, i, i < 3), $"{symbol}:{i}", ContractsJsonContext.Wire.Kline);
        }

        await Eventually.SucceedsAsync(async () =>
        {
            Assert.Equal(4, await CountAsync(db, "SELECT count(*) FROM klines WHERE symbol = $1", symbol));
            Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM klines WHERE symbol = $1 AND open_time = $2 AND closed AND trades = 3 AND close = 103", symbol, open));
        }, Wait);

        var klines = await GetArrayAsync($"/api/v1/markets/okx/{symbol}/klines?interval=1m&limit=3");
        Assert.Equal([open.AddMinutes(1), open.AddMinutes(2), open.AddMinutes(3)], klines.Select(k => k.GetProperty("openTime").GetDateTimeOffset()));
        Assert.False(klines[^1].GetProperty("closed").GetBoolean()); // the newest may be open
        var k1 = klines[0];
        foreach (var field in new[] { "openTime", "closeTime", "open", "high", "low", "close", "volume", "quoteVolume", "trades", "closed" })
        {
            Assert.True(k1.TryGetProperty(field, out _), $"kline has no '{field}'");
        }
        Assert.Equal(open.AddMinutes(2).AddMilliseconds(-1), k1.GetProperty("closeTime").GetDateTimeOffset());

        var fromOpen = await GetArrayAsync($"/api/v1/markets/okx/{symbol}/klines?interval=1m&from={Uri.EscapeDataString(open.ToString("O"))}&limit=2");
        Assert.Equal([open, open.AddMinutes(1)], fromOpen.Select(k => k.GetProperty("openTime").GetDateTimeOffset()));
        Assert.True(fromOpen[0].GetProperty("closed").GetBoolean());
        Assert.Equal(3, fromOpen[0].GetProperty("trades").GetInt64());
        Assert.Empty(await GetArrayAsync($"/api/v1/markets/okx/{symbol}/klines?interval=5m"));
    }

    [Fact]
    public async Task Orders_keep_their_latest_state_and_fills_and_alert_events_are_stored_once()
    {
        await using var bus = await Bus.ConnectAsync(system);
        await using var db = await DatabaseAsync();
        var userId = Guid.NewGuid();
        var orderId = Guid.NewGuid();
        var created = Now().AddMinutes(-5);
        OrderEvent State(OrderStatus status, decimal filled, int second) => new(
            orderId, userId, "client-1", Guid.NewGuid(), "binance", "BTCUSDT", OrderSide.Buy, OrderType.Limit, TimeInForce.Gtc,
            2m, 50_000m, null, status, filled, filled > 0 ? 50_000m : 0m, filled * 50m, null, created, created.AddSeconds(second));

        var orderSubject = Subjects.TradingOrder(userId);
        await bus.PublishAsync(orderSubject, State(OrderStatus.New, 0m, 0), $"{orderId}:0", ContractsJsonContext.Wire.OrderEvent);
        await bus.PublishAsync(orderSubject, State(OrderStatus.PartiallyFilled, 1m, 1), $"{orderId}:1", ContractsJsonContext.Wire.OrderEvent);
        await bus.PublishAsync(orderSubject, State(OrderStatus.Filled, 2m, 2), $"{orderId}:2", ContractsJsonContext.Wire.OrderEvent);
        // An old state delivered again later changes nothing.
        await bus.PublishAsync(orderSubject, State(OrderStatus.New, 0m, 0), $"{orderId}:0:again", ContractsJsonContext.Wire.OrderEvent);

        var fill = new FillEvent(Guid.NewGuid(), orderId, userId, null, "binance", "BTCUSDT", OrderSide.Buy, 50_000m, 1m, 50m, "USDT", Liquidity.Maker, 42, created.AddSeconds(1));
        await bus.PublishAsync(Subjects.TradingFill(userId), fill, $"{fill.Id}", ContractsJsonContext.Wire.FillEvent);
        await bus.PublishAsync(Subjects.TradingFill(userId), fill, $"{fill.Id}:again", ContractsJsonContext.Wire.FillEvent);

        var fired = new AlertFired(Guid.NewGuid(), Guid.NewGuid(), userId, "binance", "BTCUSDT", created, 50_000m, null, "BTCUSDT crossed 50000");
        await bus.PublishAsync(Subjects.AlertsFired(userId), fired, $"{fired.EventId}", ContractsJsonContext.Wire.AlertFired);
        await bus.PublishAsync(Subjects.AlertsFired(userId), fired, $"{fired.EventId}:again", ContractsJsonContext.Wire.AlertFired);

        await Eventually.SucceedsAsync(async () =>
        {
            Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM orders WHERE id = $1 AND status = 'filled' AND filled_quantity = 2 AND type = 'limit' AND time_in_force = 'gtc'", orderId));
            Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM fills WHERE order_id = $1 AND liquidity = 'maker' AND fee = 50", orderId));
            Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM alert_events WHERE user_id = $1 AND value IS NULL", userId));
        }, Wait);
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM fills WHERE user_id = $1", userId));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM orders WHERE user_id = $1 AND client_order_id = 'client-1' AND strategy_id IS NOT NULL", userId));
    }

    [Fact]
    public async Task Poison_messages_go_to_the_dead_letter_subject_and_the_stream_keeps_flowing()
    {
        await using var bus = await Bus.ConnectAsync(system);
        await using var db = await DatabaseAsync();
        var symbol = NewSymbol();
        var subject = Subjects.MarketRaw("binance", symbol);
        var now = Now();

        // Not JSON; a trade with a negative price; and one PostgreSQL cannot store (NUL in text), in the same batch as good ones.
        await bus.PublishRawAsync(subject, Encoding.UTF8.GetBytes("{not json"), $"{symbol}:garbage");
        await bus.PublishAsync(subject, new Trade("binance", symbol, 1, -5m, 1m, TakerSide.Buy, now), $"{symbol}:negative", ContractsJsonContext.Wire.Trade);
        await bus.PublishAsync(subject, new Trade("binance", symbol + "\u0000", 2, 5m, 1m, TakerSide.Buy, now), $"{symbol}:nul", ContractsJsonContext.Wire.Trade);
        var good = Enumerable.Range(3, 5).Select(i => new Trade("binance", symbol, i, 10m, 1m, TakerSide.Sell, now.AddMilliseconds(i))).ToList();
        foreach (var t in good)
        {
            await bus.PublishAsync(subject, t, t.MessageId, ContractsJsonContext.Wire.Trade);
        }

        await Eventually.SucceedsAsync(async () =>
            Assert.Equal(5, await CountAsync(db, "SELECT count(*) FROM trades WHERE symbol = $1", symbol)), Wait);

        // The three refused messages are on deadletter.persistence with their reasons, payload unchanged.
        var dead = new Dictionary<string, (string Reason, byte[] Data)>();
        await Eventually.SucceedsAsync(async () =>
        {
            dead.Clear();
            var consumer = await bus.JetStream.CreateOrderedConsumerAsync("DEADLETTER", new NatsJSOrderedConsumerOpts { FilterSubjects = ["deadletter.persistence"] });
            await foreach (var message in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 10_000 }))
            {
                if (message.Headers?[DeadLetterHeaders.OriginalSubject].ToString() == subject)
                {
                    dead[message.Headers[DeadLetterHeaders.OriginalSequence].ToString()] = (message.Headers[DeadLetterHeaders.Reason].ToString(), message.Data ?? []);
                }
            }
            Assert.Equal(3, dead.Count);
        }, Wait);
        Assert.Contains(dead.Values, d => d.Reason.Contains("not a valid Trade", StringComparison.Ordinal) && Encoding.UTF8.GetString(d.Data) == "{not json");
        Assert.Contains(dead.Values, d => d.Reason.Contains("price must be positive", StringComparison.Ordinal));
        Assert.Contains(dead.Values, d => d.Reason.Contains("PostgreSQL refused the row", StringComparison.Ordinal));

        // And the stream keeps flowing: a later trade is stored.
        var later = new Trade("binance", symbol, 100, 11m, 1m, TakerSide.Buy, now.AddSeconds(1));
        await bus.PublishAsync(subject, later, later.MessageId, ContractsJsonContext.Wire.Trade);
        await Eventually.SucceedsAsync(async () =>
            Assert.Equal(6, await CountAsync(db, "SELECT count(*) FROM trades WHERE symbol = $1", symbol)), Wait);
    }

    [Fact]
    public async Task Trades_land_in_daily_partitions_managed_by_pg_partman_with_retention()
    {
        await using var bus = await Bus.ConnectAsync(system);
        await using var db = await DatabaseAsync();

        // pg_partman owns both tables, with the configured retention (Persistence:Retention defaults).
        await using (var config = db.CreateCommand("SELECT parent_table, partition_interval, retention FROM partman.part_config ORDER BY parent_table"))
        await using (var reader = await config.ExecuteReaderAsync())
        {
            var rows = new List<(string, string, string)>();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
            Assert.Equal([("public.klines", "7 days", "365 days"), ("public.trades", "1 day", "30 days")], rows);
        }

        // Premade partitions around today; a trade of today lands in today's partition, not the default one.
        var today = DateTime.UtcNow.Date;
        var todays = $"trades_p{today:yyyy_MM_dd}";
        Assert.True(await CountAsync(db, "SELECT count(*) FROM partman.show_partitions('public.trades') WHERE partition_tablename = $1", todays) == 1, $"{todays} is missing");
        Assert.True(await CountAsync(db, "SELECT count(*) FROM partman.show_partitions('public.trades') WHERE partition_tablename > $1", todays) >= 3, "future partitions are not premade");

        var symbol = NewSymbol();
        var trade = new Trade("binance", symbol, 1, 1m, 1m, TakerSide.Buy, Now());
        await bus.PublishAsync(Subjects.MarketRaw("binance", symbol), trade, trade.MessageId, ContractsJsonContext.Wire.Trade);
        await Eventually.SucceedsAsync(async () =>
        {
            await using var where = db.CreateCommand("SELECT tableoid::regclass::text FROM trades WHERE symbol = $1");
            where.Parameters.Add(new() { Value = symbol });
            Assert.Equal(todays, await where.ExecuteScalarAsync() as string);
        }, Wait);

        // A partition beyond retention (60 days old, retention 30 days) is dropped by partman's maintenance, with its rows.
        var old = new DateTimeOffset(today.AddDays(-60), TimeSpan.Zero);
        var oldPartition = $"trades_p{old:yyyy_MM_dd}";
        await using (var create = db.CreateCommand("SELECT partman.create_partition_time('public.trades', ARRAY[$1::timestamptz])"))
        {
            create.Parameters.Add(new() { Value = old });
            await create.ExecuteNonQueryAsync();
        }
        await using (var insert = db.CreateCommand("INSERT INTO trades (exchange, symbol, trade_id, time, price, quantity, side) VALUES ('binance', $1, 1, $2, 1, 1, 'buy')"))
        {
            insert.Parameters.Add(new() { Value = symbol + "OLD" });
            insert.Parameters.Add(new() { Value = old.AddHours(1) });
            await insert.ExecuteNonQueryAsync();
        }
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM pg_tables WHERE tablename = $1", oldPartition));

        // What the persistence service runs periodically (partman's lock makes concurrent runs skip: retry).
        await Eventually.SucceedsAsync(async () =>
        {
            await using (var maintain = db.CreateCommand("SELECT partman.run_maintenance('public.trades', p_jobmon => false)"))
            {
                await maintain.ExecuteNonQueryAsync();
            }
            Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM pg_tables WHERE tablename = $1", oldPartition));
        }, Wait);
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM trades WHERE symbol = $1", symbol + "OLD"));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM trades WHERE symbol = $1", symbol));
    }

    private async Task<JsonElement[]> GetArrayAsync(string path)
    {
        using var response = await system.Gateway.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement[]>(Json))!;
    }

    private async Task AssertFieldProblemAsync(string path, string field)
    {
        using var response = await system.Gateway.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }
}
