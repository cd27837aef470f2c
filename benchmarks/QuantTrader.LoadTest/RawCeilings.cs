using System.Diagnostics;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.LoadTest;

/// <summary>
/// What this machine can do at best, measured in the same run as the system: JetStream publish with NATS.Net
/// (concurrent publishes, acks awaited) and Npgsql binary COPY of trade rows. The system's figures are then
/// reported as ratios to these, which stay meaningful on a noisy shared machine.
/// </summary>
public static class RawCeilings
{
    public static async Task<double> JetStreamPublishPerSecondAsync(string natsUrl, int count, CancellationToken ct)
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = natsUrl });
        var js = new NatsJSContext(nats);
        var stream = $"LOADTEST_CEILING_{Guid.NewGuid():N}";
        await js.CreateStreamAsync(new StreamConfig(stream, [$"loadtest.{stream}.>"]) { Storage = StreamConfigStorage.File }, ct);
        try
        {
            var payloads = Trades(count).Select(t => JsonSerializer.SerializeToUtf8Bytes(t, ContractsJsonContext.Wire.Trade)).ToArray();
            var watch = Stopwatch.StartNew();
            const int batch = 1_000;
            for (var i = 0; i < payloads.Length; i += batch)
            {
                var futures = new List<NatsJSPublishConcurrentFuture>(batch);
                for (var j = i; j < Math.Min(i + batch, payloads.Length); j++)
                {
                    futures.Add(await js.PublishConcurrentAsync($"loadtest.{stream}.BTCUSDT", payloads[j],
                        opts: new NatsJSPubOpts { MsgId = $"ceiling:{j}" }, cancellationToken: ct));
                }
                foreach (var future in futures)
                {
                    await using (future)
                    {
                        (await future.GetResponseAsync()).EnsureSuccess();
                    }
                }
            }
            return payloads.Length / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            await js.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    public static async Task<double> BinaryCopyRowsPerSecondAsync(string connectionString, int count, CancellationToken ct)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        return await BinaryCopyRowsPerSecondAsync(dataSource, [.. Trades(count)], ct);
    }

    /// <summary>
    /// Binary COPY of exactly these trades, in one COPY, into a plain (unpartitioned) table shaped like <c>trades</c>:
    /// without keys or indexes, or with <paramref name="withKeysAndIndexes"/> its primary key and indexes too.
    /// </summary>
    public static async Task<double> BinaryCopyRowsPerSecondAsync(NpgsqlDataSource dataSource, IReadOnlyList<Trade> trades, CancellationToken ct, bool withKeysAndIndexes = false)
    {
        var table = $"loadtest_copy_{Guid.NewGuid():N}";
        await using (var create = dataSource.CreateCommand($"CREATE TABLE {table} (LIKE trades INCLUDING DEFAULTS{(withKeysAndIndexes ? " INCLUDING INDEXES" : "")})"))
        {
            await create.ExecuteNonQueryAsync(ct);
        }
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var watch = Stopwatch.StartNew();
            using (var writer = connection.BeginBinaryImport(
                       $"COPY {table} (exchange, symbol, trade_id, time, price, quantity, side, count) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var t in trades)
                {
                    writer.StartRow();
                    writer.Write(t.Exchange, NpgsqlDbType.Text);
                    writer.Write(t.Symbol, NpgsqlDbType.Text);
                    writer.Write(t.TradeId, NpgsqlDbType.Bigint);
                    writer.Write(t.Time, NpgsqlDbType.TimestampTz);
                    writer.Write(t.Price, NpgsqlDbType.Numeric);
                    writer.Write(t.Quantity, NpgsqlDbType.Numeric);
                    writer.Write(t.Side == TakerSide.Buy ? "buy" : "sell", NpgsqlDbType.Text);
                    writer.Write(t.Count, NpgsqlDbType.Integer);
                }
                writer.Complete();
            }
            return trades.Count / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            await using var drop = dataSource.CreateCommand($"DROP TABLE IF EXISTS {table}");
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static IEnumerable<Trade> Trades(int count)
    {
        var start = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            yield return new Trade("binance", "BTCUSDT", i + 1, 60_000m + (i % 1000) * 0.01m, 0.001m + (i % 7) * 0.0001m,
                i % 2 == 0 ? TakerSide.Buy : TakerSide.Sell, start.AddMilliseconds(i));
        }
    }
}
