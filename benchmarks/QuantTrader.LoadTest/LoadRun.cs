using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using NATS.Client.Core;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.LoadTest;

/// <summary>The figures of one run, for the report.</summary>
public sealed record LoadResult(
    LoadOptions Options,
    double JetStreamCeiling,
    double CopyCeiling,
    long Expected,
    long Stored,
    long Duplicated,
    TimeSpan DriveTime,
    TimeSpan DrainTime,
    (double P50, double P99, double Max) TradeToStored,
    (double P50, double P99, double Max) TradeToClosedKline,
    (double P50, double P99, double Max) OrderAccepted,
    (double P50, double P99, double Max) TradeToFill,
    IReadOnlyList<(string Name, double Cores, double PeakMiB)> Processes)
{
    /// <summary>The run's trade-id window per market (after the last id before the drive, up to the last id after it).</summary>
    public LoadWindow? Window { get; init; }

    public long Lost => Math.Max(0, Expected - (Stored - Duplicated));
    public double Throughput => (Stored - Duplicated) / (DriveTime + DrainTime).TotalSeconds;
}

/// <summary>The trade ids a run counts, per (exchange, symbol): greater than <c>Start</c>, up to <c>End</c>.</summary>
public sealed record LoadWindow(Dictionary<(string, string), long> Start, Dictionary<(string, string), long> End);

/// <summary>
/// Drives the simulator at the target rate across every symbol on both exchanges, and measures the system
/// end to end: exchange frames → ingestor → JetStream → kline and persistence → PostgreSQL, plus orders and fills.
/// </summary>
public sealed class LoadRun(SystemUnderTest system, LoadOptions options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<LoadResult> RunAsync(CancellationToken ct)
    {
        var natsUrl = await system.ConnectionStringAsync("nats");
        var postgres = await system.ConnectionStringAsync("postgres");
        using var simulator = system.Client("exchange-simulator");
        using var gateway = system.Client("gateway");

        var (jetStream, copy) = (double.NaN, double.NaN);
        // --raw-samples 0: no ceilings (the scaling and max-rate modes drive one system several times and compare the drives).
        if (options.RawSamples > 0)
        {
            Console.WriteLine("measuring raw ceilings (JetStream publish, binary COPY) …");
            jetStream = await RawCeilings.JetStreamPublishPerSecondAsync(natsUrl, options.RawSamples, ct);
            copy = await RawCeilings.BinaryCopyRowsPerSecondAsync(postgres, options.RawSamples, ct);
            Console.WriteLine($"  JetStream publish {jetStream:N0} msg/s, binary COPY {copy:N0} rows/s");
        }

        await using var nats = new NatsConnection(new NatsOpts { Url = natsUrl, SubPendingChannelFullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest });
        await using var dataSource = NpgsqlDataSource.Create(postgres);
        var trader = await TraderAsync(gateway, dataSource, ct);

        var stored = new Percentiles();
        var klines = new Percentiles();
        var accepted = new Percentiles();
        var fills = new Percentiles();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var klineWatch = WatchClosedKlinesAsync(nats, klines, stop.Token);
        var fillWatch = WatchFillsAsync(nats, trader.UserId, fills, stop.Token);
        var storedWatch = SampleStoredLatencyAsync(nats, dataSource, stored, stop.Token);

        var start = await LastTradeIdsAsync(simulator, ct);
        var stats = new ProcessStats(LoadOptions.RepositoryRoot(), system.DataDirectory);
        stats.Start();
        var perSymbol = options.Rate / (SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length);
        Console.WriteLine($"driving {options.Rate:N0} trades/s ({perSymbol:N0}/s on each of {SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length} markets) for {options.DurationSeconds} s …");
        var driveWatch = Stopwatch.StartNew();
        (await simulator.PostAsJsonAsync("/control/rate", new { tradesPerSecond = perSymbol }, ct)).EnsureSuccessStatusCode();

        var orders = PlaceOrdersAsync(trader.Client, accepted, TimeSpan.FromSeconds(options.DurationSeconds), ct);
        while (driveWatch.Elapsed < TimeSpan.FromSeconds(options.DurationSeconds))
        {
            stats.SampleMemory();
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
        (await simulator.PostAsJsonAsync("/control/rate", new { tradesPerSecond = 0 }, ct)).EnsureSuccessStatusCode();
        var driveTime = driveWatch.Elapsed;
        await orders;
        var end = await LastTradeIdsAsync(simulator, ct);
        var expected = start.Sum(kv => end[kv.Key] - kv.Value);

        // Drain: wait until every trade the simulator printed in the window is stored (or nothing moves for 20 s).
        Console.WriteLine($"drained? expecting {expected:N0} trades in PostgreSQL …");
        var drain = Stopwatch.StartNew();
        var (count, distinct) = (0L, 0L);
        var lastChange = Stopwatch.StartNew();
        while (true)
        {
            // Progress is a plain count (an index-only scan); the DISTINCT count sorts every stored row of the run and,
            // every 250 ms, took PostgreSQL CPU from the saver it was waiting for. It runs once everything seems there.
            var now = await CountStoredAsync(dataSource, start, end, ct, distinct: false);
            if (now.Count != count)
            {
                lastChange.Restart();
            }
            count = now.Count;
            if (count >= expected || lastChange.Elapsed > TimeSpan.FromSeconds(20) || drain.Elapsed > 2 * driveTime + TimeSpan.FromSeconds(30))
            {
                (count, distinct) = await CountStoredAsync(dataSource, start, end, ct);
            }
            // Stop when all arrived, when nothing moves any more, or after twice the drive time (the backlog is
            // then the finding: throughput counts only what was stored in drive + drain time).
            if (distinct >= expected || lastChange.Elapsed > TimeSpan.FromSeconds(20) || drain.Elapsed > 2 * driveTime + TimeSpan.FromSeconds(30))
            {
                break;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
        var drainTime = distinct >= expected ? drain.Elapsed : drain.Elapsed - lastChange.Elapsed;
        var processes = stats.Finish(driveTime + drainTime);
        await stop.CancelAsync();
        await Task.WhenAll(klineWatch, fillWatch, storedWatch).ContinueWith(_ => { }, CancellationToken.None);

        return new LoadResult(options, jetStream, copy, expected, count, count - distinct, driveTime, drainTime,
            stored.Summary(), klines.Summary(), accepted.Summary(), fills.Summary(), processes)
        {
            Window = new LoadWindow(start, end),
        };
    }

    public sealed record Trader(Guid UserId, HttpClient Client);

    /// <summary>A user on the team plan (the operator moves it there in the database: the load is not a free-plan load).</summary>
    internal static async Task<Trader> TraderAsync(HttpClient gateway, NpgsqlDataSource db, CancellationToken ct)
    {
        using var response = await gateway.PostAsJsonAsync("/api/v1/accounts", new { email = $"load-{Guid.NewGuid():N}@example.com" }, ct);
        response.EnsureSuccessStatusCode();
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        var userId = created.GetProperty("userId").GetGuid();
        await using (var plan = db.CreateCommand("UPDATE users SET plan = 'team' WHERE id = $1"))
        {
            plan.Parameters.Add(new() { Value = userId });
            await plan.ExecuteNonQueryAsync(ct);
        }
        var client = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", created.GetProperty("apiKey").GetString());
        return new Trader(userId, client);
    }

    /// <summary>
    /// Order placement through gateway → paper engine → risk → accepted, timed per request; every fifth order is
    /// a small market buy, whose fill measures trade → fill event.
    /// </summary>
    private static async Task PlaceOrdersAsync(HttpClient client, Percentiles accepted, TimeSpan over, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var i = 0;
        while (watch.Elapsed < over)
        {
            var market = i % 5 == 0;
            object order = market
                ? new { exchange = "binance", symbol = "BTCUSDT", side = "buy", type = "market", quantity = 0.0002m, timeInForce = "ioc" }
                : new { exchange = "binance", symbol = "ETHUSDT", side = "buy", type = "limit", quantity = 0.01m, price = 100m, timeInForce = "gtc" };
            var sent = Stopwatch.GetTimestamp();
            using var response = await client.PostAsJsonAsync("/api/v1/orders", order, ct);
            if (response.IsSuccessStatusCode)
            {
                accepted.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
            else if (i == 0)
            {
                Console.WriteLine($"  order refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
            i++;
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
    }

    private static async Task WatchClosedKlinesAsync(INatsConnection nats, Percentiles latency, CancellationToken ct)
    {
        await foreach (var message in nats.SubscribeAsync<byte[]>("market.kline.*.1m.>", cancellationToken: ct))
        {
            if (message.Data is { } data && JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.Kline) is { Closed: true } kline)
            {
                latency.Add((DateTimeOffset.UtcNow - kline.CloseTime.AddMilliseconds(1)).TotalMilliseconds);
            }
        }
    }

    private static async Task WatchFillsAsync(INatsConnection nats, Guid userId, Percentiles latency, CancellationToken ct)
    {
        await foreach (var message in nats.SubscribeAsync<byte[]>(Subjects.TradingFill(userId), cancellationToken: ct))
        {
            if (message.Data is { } data && JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.FillEvent) is { } fill)
            {
                latency.Add((DateTimeOffset.UtcNow - fill.Time).TotalMilliseconds);
            }
        }
    }

    /// <summary>
    /// Trade → stored row: every 200th trade seen on market.raw is looked up in PostgreSQL every 50 ms until it is
    /// there; its latency is (first seen in the table − exchange trade time). Resolution: the 50 ms poll.
    /// </summary>
    private static async Task SampleStoredLatencyAsync(INatsConnection nats, NpgsqlDataSource db, Percentiles latency, CancellationToken ct)
    {
        var pending = new ConcurrentDictionary<(string Exchange, string Symbol, long Id), DateTimeOffset>();
        var listen = Task.Run(async () =>
        {
            var n = 0L;
            await foreach (var message in nats.SubscribeAsync<byte[]>(Subjects.MarketRawAll, cancellationToken: ct))
            {
                // Every 200th message (one trade, or several of one market: the first of them stands for the message).
                if (++n % 200 == 0 && message.Data is { Length: > 0 } data && TradeMessages.Decode(data) is [var trade, ..])
                {
                    pending[(trade.Exchange, trade.Symbol, trade.TradeId)] = trade.Time;
                }
            }
        }, ct);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
                var batch = pending.Keys.Take(500).ToArray();
                if (batch.Length == 0)
                {
                    continue;
                }
                // The whole primary key (exchange, symbol, time, trade_id): one index probe per trade. Without the time
                // each probe walked the market's whole key range, and at 50,000 trades/s this query became most of
                // PostgreSQL's CPU — the harness measuring itself.
                await using var query = db.CreateCommand(
                    "SELECT exchange, symbol, trade_id FROM trades t JOIN unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[]) AS s(e, sy, id, at) " +
                    "ON t.exchange = s.e AND t.symbol = s.sy AND t.time = s.at AND t.trade_id = s.id");
                query.Parameters.Add(new() { Value = batch.Select(b => b.Exchange).ToArray() });
                query.Parameters.Add(new() { Value = batch.Select(b => b.Symbol).ToArray() });
                query.Parameters.Add(new() { Value = batch.Select(b => b.Id).ToArray() });
                query.Parameters.Add(new() { Value = batch.Select(b => pending.TryGetValue(b, out var at) ? at : default).ToArray() });
                await using var reader = await query.ExecuteReaderAsync(ct);
                var seen = DateTimeOffset.UtcNow;
                while (await reader.ReadAsync(ct))
                {
                    if (pending.TryRemove((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)), out var time))
                    {
                        latency.Add((seen - time).TotalMilliseconds);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        await listen.ContinueWith(_ => { }, CancellationToken.None);
    }

    private sealed record SimulatorStats(string Exchange, string Symbol, long LastTradeId);

    internal static async Task<Dictionary<(string, string), long>> LastTradeIdsAsync(HttpClient simulator, CancellationToken ct)
    {
        var stats = await simulator.GetFromJsonAsync<List<SimulatorStats>>("/control/stats", Json, ct) ?? [];
        return stats.ToDictionary(s => (s.Exchange, s.Symbol), s => s.LastTradeId);
    }

    /// <summary>Rows stored for the run's trade ids, and how many distinct (a difference is a duplicate; without
    /// <paramref name="distinct"/> the second figure is the count again).</summary>
    internal static async Task<(long Count, long Distinct)> CountStoredAsync(NpgsqlDataSource db,
        Dictionary<(string, string), long> start, Dictionary<(string, string), long> end, CancellationToken ct, bool distinct = true)
    {
        var markets = start.Keys.ToArray();
        await using var query = db.CreateCommand($"""
            SELECT count(*), {(distinct ? "count(DISTINCT (t.exchange, t.symbol, t.trade_id))" : "count(*)")}
            FROM trades t JOIN unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS m(e, s, first_id, last_id)
              ON t.exchange = m.e AND t.symbol = m.s AND t.trade_id > m.first_id AND t.trade_id <= m.last_id
            """);
        query.Parameters.Add(new() { Value = markets.Select(m => m.Item1).ToArray() });
        query.Parameters.Add(new() { Value = markets.Select(m => m.Item2).ToArray() });
        query.Parameters.Add(new() { Value = markets.Select(m => start[m]).ToArray() });
        query.Parameters.Add(new() { Value = markets.Select(m => end[m]).ToArray() });
        await using var reader = await query.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
