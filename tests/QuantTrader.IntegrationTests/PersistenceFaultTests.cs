using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Persistence.Ingest;
using QuantTrader.Persistence.Sinks;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The batch saver with PostgreSQL unreachable: a second saver (its own durable consumer on the real MARKET_RAW) writes
/// through a port that refuses connections, then relays to the real PostgreSQL.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class PersistenceFaultTests(SystemFixture system)
{
    [Fact]
    public async Task While_PostgreSQL_is_unreachable_nothing_is_acked_and_retries_back_off_until_it_is_back()
    {
        await using var bus = await Bus.ConnectAsync(system);
        var symbol = "F" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant() + "USDT";
        var subject = Subjects.MarketRaw("binance", symbol);
        var now = DateTimeOffset.UtcNow;
        for (var i = 1; i <= 20; i++)
        {
            var t = new Trade("binance", symbol, i, 10m + i, 1m, TakerSide.Buy, now.AddMilliseconds(i));
            await bus.PublishAsync(subject, t, t.MessageId, ContractsJsonContext.Wire.Trade);
        }

        var real = new NpgsqlConnectionStringBuilder(await system.ConnectionStringAsync("postgres"));
        await using var relay = new TcpRelay(real.Host!, real.Port);
        var viaRelay = new NpgsqlConnectionStringBuilder(real.ConnectionString) { Host = "127.0.0.1", Port = relay.Port, Timeout = 2 };
        await using var dataSource = NpgsqlDataSource.Create(viaRelay.ConnectionString);

        long retries = 0, committedMessages = 0;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == QuantTraderTelemetry.MeterName && instrument.Name is "quanttrader.persistence.retries" or "quanttrader.persistence.batch_size")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "quanttrader.persistence.retries")
            {
                Interlocked.Add(ref retries, value);
            }
        });
        meters.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "quanttrader.persistence.batch_size")
            {
                Interlocked.Add(ref committedMessages, value);
            }
        });
        meters.Start();

        var durable = $"fault-test-{Guid.NewGuid():N}";
        var saver = new JetStreamSink<Trade>(
            new TradeSink(durable, subject), bus.JetStream, dataSource, new DeadLetters(bus.JetStream, NullLogger<DeadLetters>.Instance),
            Options.Create(new PersistenceOptions { BatchSize = 100, BatchDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(500) }),
            NullLogger<JetStreamSink<Trade>>.Instance);
        await saver.StartAsync(CancellationToken.None);
        try
        {
            // PostgreSQL refuses: the 20 trades are delivered and held, none acked, and the write keeps being retried.
            await Eventually.SucceedsAsync(async () =>
            {
                Assert.True(Interlocked.Read(ref retries) >= 3, $"retries: {retries}");
                var info = (await bus.JetStream.GetConsumerAsync("MARKET_RAW", durable)).Info;
                Assert.Equal(0UL, info.NumPending);
                Assert.Equal(20, info.NumAckPending);
            }, TimeSpan.FromSeconds(60));
            Assert.Equal(0, Interlocked.Read(ref committedMessages));

            // PostgreSQL is back: the batch commits, then everything is acked.
            relay.Open();
            await Eventually.SucceedsAsync(async () =>
            {
                var info = (await bus.JetStream.GetConsumerAsync("MARKET_RAW", durable)).Info;
                Assert.Equal(0, info.NumAckPending);
                Assert.Equal(20, Interlocked.Read(ref committedMessages));
            }, TimeSpan.FromSeconds(60));

            await using var db = NpgsqlDataSource.Create(real.ConnectionString);
            await using var count = db.CreateCommand("SELECT count(*) FROM trades WHERE symbol = $1");
            count.Parameters.Add(new() { Value = symbol });
            Assert.Equal(20L, await count.ExecuteScalarAsync());
        }
        finally
        {
            await saver.StopAsync(CancellationToken.None);
            await bus.JetStream.DeleteConsumerAsync("MARKET_RAW", durable);
        }
    }
}
