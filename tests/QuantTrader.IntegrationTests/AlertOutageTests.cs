using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using QuantTrader.Alert.Notifications;
using QuantTrader.Alert.Partitioning;
using QuantTrader.Alert.Rules;
using QuantTrader.Alert.Runtime;
using QuantTrader.Alert.Webhooks;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue 16 item 10 (the alert engine's part): a partition's evaluation, driven directly, with PostgreSQL unreachable through
/// a port that refuses connections and then relays to the real database. The engine moves the rule's state when it
/// fires; the firing must still reach <c>alert_firings</c> and the bus once the database is back.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class AlertOutageTests(SystemFixture system)
{
    [Fact]
    public async Task A_firing_while_PostgreSQL_is_unreachable_is_retried_until_recorded_and_published()
    {
        await using var bus = await Bus.ConnectAsync(system);
        var real = new NpgsqlConnectionStringBuilder(await system.ConnectionStringAsync("postgres"));
        await using var relay = new TcpRelay(real.Host!, real.Port);
        var viaRelay = new NpgsqlConnectionStringBuilder(real.ConnectionString) { Host = "127.0.0.1", Port = relay.Port, Timeout = 2 };
        await using var unreachable = NpgsqlDataSource.Create(viaRelay.ConnectionString);
        await using var database = NpgsqlDataSource.Create(real.ConnectionString);

        var store = new RuleStore(unreachable);
        var logger = new RecordingLogger();
        using var webhook = new WebhookChannel(Options.Create(new WebhookOptions()), store, TimeProvider.System);
        var recorder = new FiringRecorder(store, bus.JetStream, new NotificationOutbox([webhook], Options.Create(new DeliveryOptions())), TimeProvider.System, logger);
        var symbol = MarketBus.NewSymbol();
        var rule = new AlertRule
        {
            Id = Guid.NewGuid(),
            UserId = Guid.NewGuid(),
            Exchange = "binance",
            Symbol = symbol,
            Condition = new AlertCondition(ConditionType.PriceAbove, 100m),
            Repeat = RepeatMode.Once,
        };
        // Stored as the API stores it (only a stored, active rule fires), while the database is still reachable.
        await using (var insert = database.CreateCommand("""
            INSERT INTO alert_rules (id, user_id, exchange, symbol, condition, repeat, market_partition)
            VALUES ($1, $2, 'binance', $3, '{"type":"price_above","value":100}', 'once', $4)
            """))
        {
            insert.Parameters.Add(new() { Value = rule.Id });
            insert.Parameters.Add(new() { Value = rule.UserId });
            insert.Parameters.Add(new() { Value = symbol });
            insert.Parameters.Add(new() { Value = (short)Partitions.OfMarket("binance", symbol) });
            await insert.ExecuteNonQueryAsync();
        }

        using var partition = new AlertPartition(Partitions.OfMarket("binance", symbol), recorder, new StoredKlines(unreachable));
        await partition.AddAsync(rule, CancellationToken.None);

        // The trade fires the rule (its state moves in memory at once); recording it keeps failing and is retried.
        var handling = partition.OnTradesAsync([new Trade("binance", symbol, 1, 101m, 1m, TakerSide.Buy, DateTimeOffset.UtcNow)], 1, CancellationToken.None);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.True(logger.Retries >= 2, $"{logger.Retries} retries so far");
            return Task.CompletedTask;
        }, TimeSpan.FromSeconds(60));
        Assert.False(handling.IsCompleted);
        Assert.True(rule.Done);
        Assert.Equal(0L, await CountAsync(database, "SELECT count(*) FROM alert_firings WHERE alert_id = $1", rule.Id));

        // The database is back: the same firing is recorded once and published.
        relay.Open();
        await handling.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1L, await CountAsync(database, "SELECT count(*) FROM alert_firings WHERE alert_id = $1 AND price = 101 AND published", rule.Id));
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, Guid id)
    {
        await using var command = db.CreateCommand(sql);
        command.Parameters.Add(new() { Value = id });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Counts the recorder's retry warnings.</summary>
    private sealed class RecordingLogger : ILogger<FiringRecorder>
    {
        private readonly ConcurrentQueue<string> _warnings = new();

        public int Retries => _warnings.Count(w => w.Contains("retrying", StringComparison.Ordinal));

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                _warnings.Enqueue(formatter(state, exception));
            }
        }
    }
}
