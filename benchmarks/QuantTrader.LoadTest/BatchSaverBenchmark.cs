using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Persistence.Ingest;
using QuantTrader.Persistence.Sinks;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.LoadTest;

/// <summary>One run of <see cref="BatchSaverBenchmark"/>: raw COPY before and after the saver, and the saver.</summary>
public sealed record BatchSaverResult(
    int Rows, double RawBeforePerSecond, double RawAfterPerSecond, double SaverPerSecond, TimeSpan SaverElapsed,
    long Batches, long Stored, long Duplicates, long DeadLettered, double PreloadPerSecond, double IndexedCopyPerSecond,
    int Messages, int TradesPerMessage, double ClientCpuSeconds, double NatsCpuSeconds, double PostgresCpuSeconds)
{
    /// <summary>The raw ceiling of the run: the mean of the COPY before and the COPY after the saver.</summary>
    public double RawPerSecond => (RawBeforePerSecond + RawAfterPerSecond) / 2;

    public double Ratio => SaverPerSecond / RawPerSecond;
}

/// <summary>
/// Issue 7's benchmark, isolated from the rest of the system: sustained rows/s through the persistence service's batch
/// saver (NATS → COPY → ack) against raw binary COPY of the same rows in the same run. It starts its own
/// <c>nats-server -js</c> and its own PostgreSQL (<see cref="LocalPostgres"/>: the QuantTrader schema, trades
/// partitioned by pg_partman), preloads N trades into MARKET_RAW (real configuration; 10 symbols on 2 exchanges,
/// consecutive ids, times over the last hour so they land in pg_partman's daily partitions), then runs the real saver
/// — <see cref="JetStreamSink{TRow}"/> with <see cref="TradeSink"/>, the service's own classes and default
/// <see cref="PersistenceOptions"/> (5,000 rows / 200 ms) — and times it from its start until every message is
/// committed and acked; the same saver and consumer have stored (then emptied) 20,000 other trades first, as warm-up. It then checks that the stream's consumer has nothing pending or unacked, that
/// <c>trades</c> holds exactly N rows with no duplicate key and that nothing was dead-lettered, and throws otherwise.
/// The raw side is one Npgsql binary COPY of the same N trades into a plain table shaped like <c>trades</c> (no keys,
/// no indexes), measured before and after the saver (the run's ceiling is their mean, so a change in the machine's
/// load during the run shows as a gap between the two).
/// </summary>
public static class BatchSaverBenchmark
{
    private const int PublishBatch = 1024;

    /// <summary>
    /// Rows each side handles before it is measured: the saver stores this many other trades, the raw COPY copies
    /// this many rows twice. Tiered compilation only reaches its optimized code after a method has run a while and a
    /// background compile has caught up; with 20,000 rows the raw COPY measured before the saver ran at a third of the
    /// speed of the same COPY after it (JIT, not the database), and the saver paid its JIT inside the measurement.
    /// A long-running service measures at its steady state, so the benchmark does too.
    /// </summary>
    private const int WarmUpRows = 200_000;

    /// <param name="tradesPerMessage">The ingestor's <c>MarketData:MaxTradesPerMessage</c> (1: one message per trade).</param>
    /// <param name="writers">The saver's <c>Persistence:Writers</c> (default 2).</param>
    public static async Task<BatchSaverResult> RunAsync(int rows, int tradesPerMessage, int writers, CancellationToken ct)
    {
        var trades = Trades(rows, DateTimeOffset.UtcNow.AddHours(-1));
        Console.WriteLine($"starting nats-server and PostgreSQL, migrating the schema …");
        await using var postgres = await LocalPostgres.StartAsync(ct);
        await using var server = await IngestPublishBenchmark.NatsServer.StartAsync(ct);
        await using var nats = new NatsConnection(new NatsOpts { Url = server.Url });
        var js = new NatsJSContext(nats);
        await js.CreateOrUpdateStreamAsync(Streams.MarketRaw(), ct);
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);

        // Warm-up (JIT of NATS.Net, System.Text.Json, Npgsql and the saver's own code; the pool): the same saver,
        // same consumer, over other trades an hour earlier, then emptied. Not counted, as for the raw COPY: without
        // it, the JIT took about a third of the process's CPU during a cold 500k-row run (perf: libclrjit.so 17 %,
        // libcoreclr.so 33 %), which says nothing about sustained throughput.
        var warmUp = Trades(WarmUpRows, DateTimeOffset.UtcNow.AddHours(-2), firstId: 1);
        await PreloadAsync(js, warmUp, tradesPerMessage, ct);
        var (warmElapsed, _, _) = await SaverAsync(js, dataSource, WarmUpRows, writers, ct);
        Console.WriteLine($"batch saver warm-up: {WarmUpRows / warmElapsed.TotalSeconds:N0} rows/s cold ({WarmUpRows:N0} rows, not counted)");
        await using (var empty = dataSource.CreateCommand("TRUNCATE trades"))
        {
            await empty.ExecuteNonQueryAsync(ct);
        }

        Console.WriteLine($"preloading {rows:N0} trades into MARKET_RAW …");
        var (preload, messages) = await PreloadAsync(js, trades, tradesPerMessage, ct);
        Console.WriteLine($"preloaded in {messages:N0} messages (at most {tradesPerMessage} trades each) at {preload:N0} trades/s");

        // Warm-up (JIT, the connection pool, the catalog): not counted.
        await RawCeilings.BinaryCopyRowsPerSecondAsync(dataSource, trades[..Math.Min(rows, WarmUpRows)], ct);
        await RawCeilings.BinaryCopyRowsPerSecondAsync(dataSource, trades[..Math.Min(rows, WarmUpRows)], ct);
        var rawBefore = await RawCeilings.BinaryCopyRowsPerSecondAsync(dataSource, trades, ct);
        Console.WriteLine($"raw binary COPY (before): {rawBefore:N0} rows/s");

        // CPU of the three parties while the saver runs: this process (the saver), its nats-server, its PostgreSQL
        // (postmaster and backends), all started by this run under the temporary directory.
        var processes = new ProcessStats(repositoryRoot: "\0", dataDirectory: Path.GetTempPath());
        processes.Start();
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var (elapsed, batches, deadLettered) = await SaverAsync(js, dataSource, rows, writers, ct);
        clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientCpu;
        var cpu = processes.Finish(elapsed).ToDictionary(p => p.Name, p => p.Cores * elapsed.TotalSeconds);
        var saver = rows / elapsed.TotalSeconds;
        Console.WriteLine($"batch saver: {saver:N0} rows/s ({elapsed.TotalSeconds:0.00} s, {batches} batches); CPU s: saver {clientCpu.TotalSeconds:0.00}, " +
            $"nats-server {cpu.GetValueOrDefault("nats-server"):0.00}, postgres {cpu.GetValueOrDefault("postgres"):0.00}");

        var (stored, duplicates) = await CountAsync(dataSource, ct);
        var rawAfter = await RawCeilings.BinaryCopyRowsPerSecondAsync(dataSource, trades, ct);
        Console.WriteLine($"raw binary COPY (after): {rawAfter:N0} rows/s");
        // Not the goal's baseline, a reference: what the keys and indexes alone cost, without partitions or the saver.
        var indexed = await RawCeilings.BinaryCopyRowsPerSecondAsync(dataSource, trades, ct, withKeysAndIndexes: true);
        Console.WriteLine($"binary COPY into a table with trades' primary key and indexes: {indexed:N0} rows/s");

        var result = new BatchSaverResult(rows, rawBefore, rawAfter, saver, elapsed, batches, stored, duplicates, deadLettered, preload, indexed,
            messages, tradesPerMessage, clientCpu.TotalSeconds, cpu.GetValueOrDefault("nats-server"), cpu.GetValueOrDefault("postgres"));
        if (stored != rows || duplicates != 0 || deadLettered != 0)
        {
            throw new InvalidOperationException($"The saver's result is wrong: {result}");
        }
        return result;
    }

    /// <summary>10 symbols on 2 exchanges, round robin, consecutive trade ids per market, 1 ms apart from <paramref name="start"/>.</summary>
    private static Trade[] Trades(int count, DateTimeOffset start, long firstId = 1_000_000)
    {
        var markets = SystemUnderTest.Exchanges.SelectMany(e => SystemUnderTest.Symbols.Select(s => (Exchange: e, Symbol: s))).ToArray();
        var trades = new Trade[count];
        for (var i = 0; i < count; i++)
        {
            var (exchange, symbol) = markets[i % markets.Length];
            trades[i] = new Trade(exchange, symbol, firstId + i / markets.Length, 60_000m + (i % 1000) * 0.01m,
                0.001m + (i % 7) * 0.0001m, i % 2 == 0 ? TakerSide.Buy : TakerSide.Sell, start.AddMilliseconds(i));
        }
        return trades;
    }

    /// <summary>
    /// Publishes as the ingestor does: trades taken in the ingestor pipeline's batches (<see cref="PublishBatch"/>, its
    /// most at once), each batch grouped into messages of one market (<see cref="TradeMessages.Group"/>, at most
    /// <paramref name="tradesPerMessage"/>), JSON of the wire contract, its subject, its message id; acks awaited per
    /// batch. With 20 markets round robin that is ~51 trades per message — what the ingestor sends when it is behind;
    /// a quiet feed sends one per message.
    /// </summary>
    private static async Task<(double TradesPerSecond, int Messages)> PreloadAsync(NatsJSContext js, Trade[] trades, int tradesPerMessage, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var futures = new List<NatsJSPublishConcurrentFuture>(PublishBatch);
        var messages = 0;
        for (var i = 0; i < trades.Length; i += PublishBatch)
        {
            futures.Clear();
            foreach (var message in TradeMessages.Group(trades[i..Math.Min(i + PublishBatch, trades.Length)], tradesPerMessage))
            {
                futures.Add(await js.PublishConcurrentAsync(Subjects.MarketRaw(message[0].Exchange, message[0].Symbol),
                    TradeMessages.Encode(message), opts: new NatsJSPubOpts { MsgId = TradeMessages.MessageId(message) }, cancellationToken: ct));
                messages++;
            }
            foreach (var future in futures)
            {
                await using (future)
                {
                    var ack = await future.GetResponseAsync(ct);
                    ack.EnsureSuccess();
                    if (ack.Duplicate)
                    {
                        throw new InvalidOperationException("A preloaded message was a duplicate: the stream would hold fewer than N trades.");
                    }
                }
            }
        }
        return (trades.Length / watch.Elapsed.TotalSeconds, messages);
    }

    /// <summary>
    /// The real saver, timed from its start until its batches have committed and acked every message (the
    /// batch-size histogram is recorded after a batch's acks are sent); then the consumer must show nothing pending
    /// and nothing awaiting an ack.
    /// </summary>
    private static async Task<(TimeSpan Elapsed, long Batches, long DeadLettered)> SaverAsync(NatsJSContext js, NpgsqlDataSource dataSource, int rows, int writers, CancellationToken ct)
    {
        long committed = 0, batches = 0, deadLettered = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == QuantTraderTelemetry.MeterName
                && instrument.Name is "quanttrader.persistence.batch_size" or "quanttrader.persistence.dead_lettered")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            Interlocked.Increment(ref batches);
            if (Interlocked.Add(ref committed, value) >= rows)
            {
                done.TrySetResult();
            }
        });
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref deadLettered, value));
        meters.Start();

        var sink = new TradeSink();
        var saver = new JetStreamSink<Trade>(sink, js, dataSource, new DeadLetters(js, NullLogger<DeadLetters>.Instance),
            Options.Create(new PersistenceOptions { Writers = writers }), NullLogger<JetStreamSink<Trade>>.Instance);
        var watch = Stopwatch.StartNew();
        await saver.StartAsync(ct);
        try
        {
            await done.Task.WaitAsync(TimeSpan.FromMinutes(30), ct);
            var elapsed = watch.Elapsed;

            // Acks are sent without waiting for a reply: give the server a moment to have processed them all.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                var info = (await js.GetConsumerAsync("MARKET_RAW", sink.Durable, ct)).Info;
                if (info.NumPending == 0 && info.NumAckPending == 0)
                {
                    break;
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"The consumer still has {info.NumPending} pending and {info.NumAckPending} unacked messages.");
                }
                await Task.Delay(50, ct);
            }
            return (elapsed, Interlocked.Read(ref batches), Interlocked.Read(ref deadLettered));
        }
        finally
        {
            await saver.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<(long Stored, long Duplicates)> CountAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var count = dataSource.CreateCommand(
            "SELECT count(*), count(*) - count(DISTINCT (exchange, symbol, trade_id)) FROM trades");
        await using var reader = await count.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}

/// <summary>The docs/benchmarks.md rows of a batch-saver run.</summary>
public static class BatchSaverReport
{
    public static string Markdown(BatchSaverResult r, string command)
    {
        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv, $"""
            Command: `{command}`

            | benchmark | result | rate | ratio | goal | met? |
            | --- | ---: | ---: | ---: | --- | --- |
            | baseline: raw binary COPY of the same {r.Rows:N0} rows (mean of before / after) | {1e9 / r.RawPerSecond:N0} ns/row | {r.RawPerSecond:N0} rows/s ({r.RawBeforePerSecond:N0} / {r.RawAfterPerSecond:N0}) | 1.00 | | |
            | reference: the same COPY into a table with trades' primary key and index (not partitioned) | {1e9 / r.IndexedCopyPerSecond:N0} ns/row | {r.IndexedCopyPerSecond:N0} rows/s | {r.IndexedCopyPerSecond / r.RawPerSecond:0.00} | | |
            | **batch saver: NATS → COPY → ack** ({r.Batches} batches, {r.SaverElapsed.TotalSeconds:0.00} s) | **{1e9 / r.SaverPerSecond:N0} ns/row** | **{r.SaverPerSecond:N0} rows/s** | **{r.Ratio:0.00}** | ≥ 0.35 of raw | **{(r.Ratio >= 0.35 ? "met" : "missed")}** |

            Checked: {r.Stored:N0} rows stored of {r.Rows:N0}, {r.Duplicates} duplicated, {r.DeadLettered} dead-lettered, consumer with 0 pending and 0 unacked. CPU per row during the saver: saver process {r.ClientCpuSeconds * 1e6 / r.Rows:0.0} µs, nats-server {r.NatsCpuSeconds * 1e6 / r.Rows:0.0} µs, PostgreSQL {r.PostgresCpuSeconds * 1e6 / r.Rows:0.0} µs. Preload: {r.Messages:N0} JetStream messages (at most {r.TradesPerMessage} trades each, grouped as the ingestor does), {r.PreloadPerSecond:N0} trades/s.
            """);
    }
}
