using System.Text.Json;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Persistence.Ingest;

namespace QuantTrader.Persistence.Sinks;

/// <summary>
/// The current (open) kline of each market and interval in <c>klines</c>, from the kline service's updates on core
/// NATS (<see cref="Subjects.MarketCandleAll"/>; docs/klines.md). Only the newest update per kline is kept between
/// writes, and each write is one upsert batch through <see cref="KlineSink"/> — whose conflict rule never lets an open
/// kline replace a closed one, whichever path arrives first. Best effort by design: an update lost while this service
/// or PostgreSQL is away is superseded by the next one (a second later), and the closed kline, which is what history
/// and indicators read, comes through MARKET_KLINE with the batch saver's guarantees.
/// </summary>
public sealed class OpenKlineSaver(
    INatsConnection nats,
    NpgsqlDataSource dataSource,
    IOptions<PersistenceOptions> options,
    ILogger<OpenKlineSaver> logger) : BackgroundService
{
    private readonly KlineSink _sink = new();
    private readonly Lock _gate = new();
    private Dictionary<(string, string, string, DateTimeOffset), StoredKline> _latest = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writing = WriteLoopAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var msg in nats.SubscribeAsync<byte[]>(Subjects.MarketCandleAll, cancellationToken: stoppingToken))
                {
                    if (_sink.Decode(msg.Subject, msg.Data) is { Row: { Kline: var kline } row, PoisonReason: null })
                    {
                        lock (_gate)
                        {
                            _latest[(kline.Exchange, kline.Symbol, kline.Interval, kline.OpenTime)] = row;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Subscription to open kline updates failed; resubscribing in 1 s");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        await writing;
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.Value.BatchDelay);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                Dictionary<(string, string, string, DateTimeOffset), StoredKline> batch;
                lock (_gate)
                {
                    if (_latest.Count == 0)
                    {
                        continue;
                    }
                    batch = _latest;
                    _latest = [];
                }
                try
                {
                    await using var connection = await dataSource.OpenConnectionAsync(ct);
                    await _sink.WriteAsync(connection, [.. batch.Values], ct);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    // Superseded by the next update anyway; the closed klines have their own, durable path.
                    logger.LogWarning(ex, "Storing {Count} open kline updates failed; the next updates replace them", batch.Count);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
