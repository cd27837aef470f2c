using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Notifications;
using QuantTrader.Alert.Partitioning;
using QuantTrader.Alert.Rules;
using QuantTrader.Alert.Runtime;
using QuantTrader.Alert.Webhooks;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue 17 item 3 for alerts, step by step: two owners of one partition, one after the other, the second replaying
/// from an older checkpoint what the first already did — over the real database, bus and a webhook receiver.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class AlertReplayTests(SystemFixture system)
{
    [Fact]
    public async Task A_step_replayed_by_the_next_owner_is_recognised_and_neither_published_nor_sent_again()
    {
        await using var receiver = await EventReceiver.StartAsync();
        await using var bus = await Bus.ConnectAsync(system);
        await using var database = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var store = new RuleStore(database);
        var symbol = MarketBus.NewSymbol();
        var partition = Partitions.OfMarket("binance", symbol);
        var userId = Guid.NewGuid();
        var ruleId = Guid.NewGuid();
        // 'every' above 100: fires on 101, re-arms on 99 — so the replaying owner, loading it armed, fires again on 101.
        await using (var insert = database.CreateCommand("""
            INSERT INTO alert_rules (id, user_id, exchange, symbol, condition, webhook_url, repeat, market_partition)
            VALUES ($1, $2, 'binance', $3, '{"type":"price_above","value":100}', $4, 'every', $5)
            """))
        {
            insert.Parameters.Add(new() { Value = ruleId });
            insert.Parameters.Add(new() { Value = userId });
            insert.Parameters.Add(new() { Value = symbol });
            insert.Parameters.Add(new() { Value = receiver.Url });
            insert.Parameters.Add(new() { Value = (short)partition });
            await insert.ExecuteNonQueryAsync();
        }

        // The firings' deliveries go into the shared outbox; the running alert service's worker delivers them.
        using var webhook = new WebhookChannel(Options.Create(new WebhookOptions { AllowPrivateNetworks = true }), store, TimeProvider.System);
        var outbox = new NotificationOutbox([webhook], Options.Create(new DeliveryOptions()));
        var recorder = new FiringRecorder(store, bus.JetStream, outbox, TimeProvider.System, NullLogger<FiringRecorder>.Instance);
        var t = DateTimeOffset.UtcNow;
        Trade[] trades = [.. new[] { 99m, 101m, 99m }.Select((price, i) => new Trade("binance", symbol, i + 1, price, 1m, TakerSide.Buy, t.AddMilliseconds(i)))];

        // The first owner evaluates the three trades: one firing, published, its webhook delivered.
        await OwnAndEvaluateAsync(database, store, recorder, partition, ruleId, trades);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(1, receiver.DeliveredFor(ruleId));
            return Task.CompletedTask;
        }, TimeSpan.FromSeconds(30));

        // The next owner starts from a checkpoint before them (the first died before saving one) and evaluates them
        // again: the same firing, by its id — nothing recorded, published, queued in the outbox or sent twice.
        await OwnAndEvaluateAsync(database, store, recorder, partition, ruleId, trades);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal((1, 1), (await AlertReplicas.FiringsOfAsync(system, userId)).GetValueOrDefault(ruleId));
        Assert.Equal(1, receiver.DeliveredFor(ruleId));
        Assert.Equal([Triggers.FiringId(ruleId, trades[1].MessageId)], receiver.Deliveries.Keys);
    }

    private static async Task OwnAndEvaluateAsync(NpgsqlDataSource database, RuleStore store, FiringRecorder recorder, int partition, Guid ruleId, Trade[] trades)
    {
        using var owner = new AlertPartition(partition, recorder, new StoredKlines(database));
        owner.Resume(new PartitionCheckpoint(0, 0, EngineMemory.Empty));
        await owner.AddAsync((await store.LoadAsync(ruleId, CancellationToken.None))!, CancellationToken.None);
        owner.Started();
        for (var i = 0; i < trades.Length; i++)
        {
            await owner.OnTradesAsync([trades[i]], (ulong)i + 1, CancellationToken.None);
        }
    }
}
