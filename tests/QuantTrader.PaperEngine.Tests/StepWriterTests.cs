using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Engine;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.Trading;
using static QuantTrader.PaperEngine.Tests.Build;

namespace QuantTrader.PaperEngine.Tests;

public sealed class StepWriterTests
{
    private static readonly MarketKey BtcMarket = MarketKey.Of(BtcUsdt);

    /// <summary>Keeps what was written in memory; fails the next writes with the exceptions queued in <see cref="Failures"/>.</summary>
    private sealed class MemoryStore : IStepStore
    {
        public List<PersistBatch> Saved { get; } = [];

        public Queue<Exception> Failures { get; } = new();

        public Task SaveAsync(PersistBatch batch, CancellationToken ct)
        {
            if (Failures.TryDequeue(out var failure))
            {
                throw failure;
            }

            Saved.Add(batch);
            return Task.CompletedTask;
        }
    }

    private sealed class MemoryOutbox : IEventOutbox
    {
        public List<OutboxMessage> Published { get; } = [];

        public void Publish(IReadOnlyList<OutboxMessage> messages) => Published.AddRange(messages);
    }

    private readonly MemoryStore _store = new();
    private readonly MemoryOutbox _outbox = new();
    private readonly PaperExchange _exchange = Exchange();

    private StepWriter Writer(TimeProvider? time = null, PaperEngineOptions? options = null, Microsoft.Extensions.Hosting.IHostApplicationLifetime? lifetime = null, (MarketKey, ulong)[]? books = null)
    {
        var writer = new StepWriter(_store, _outbox, time ?? TimeProvider.System, Wrap(options ?? Options()), lifetime ?? Lifetime(), NullLogger<StepWriter>.Instance);
        writer.Restore(_exchange, [], books ?? []);
        return writer;
    }

    private OrderEvent RestingBuy()
    {
        _exchange.Ledger.Deposit(Alice, "USDT", 10_000m);
        return _exchange.Submit(Limit(OrderSide.Buy, 0.01m, 50_000m), null).Order!;
    }

    [Fact]
    public void Each_event_of_an_order_is_its_next_version_and_its_message_id_names_order_and_version()
    {
        var writer = Writer();
        var order = RestingBuy();
        var batch = new PersistBatch();

        writer.AddOrder(batch, order);
        writer.AddOrder(batch, order with { Status = OrderStatus.PartiallyFilled });
        writer.AddOrder(batch, order with { Status = OrderStatus.Filled });

        Assert.Equal([1, 2, 3], batch.Orders.Select(o => o.Version));
        Assert.Equal([$"{order.Id}:1", $"{order.Id}:2", $"{order.Id}:3"], batch.Outbox.Select(m => m.MessageId));
        Assert.All(batch.Outbox, m => Assert.Equal(Contracts.Messaging.Subjects.TradingOrder(Alice), m.Subject));
        Assert.Equal(0, writer.OpenOrders); // a filled order's version is forgotten
    }

    [Fact]
    public void A_restored_open_order_continues_from_its_stored_version()
    {
        var order = RestingBuy();
        var writer = new StepWriter(_store, _outbox, TimeProvider.System, Wrap(Options()), Lifetime(), NullLogger<StepWriter>.Instance);
        writer.Restore(_exchange, [(order.Id, 4)], []);
        var batch = new PersistBatch();

        writer.AddOrder(batch, order with { Status = OrderStatus.Canceled });

        Assert.Equal(5, Assert.Single(batch.Orders).Version);
    }

    [Fact]
    public void An_account_written_twice_in_one_step_is_stored_once_as_it_is_last()
    {
        var writer = Writer();
        var batch = new PersistBatch();
        _exchange.Ledger.Deposit(Alice, "USDT", 100m);
        writer.AddAccount(batch, Alice);
        _exchange.Ledger.Deposit(Alice, "USDT", 50m);
        writer.AddAccount(batch, Alice);

        var account = Assert.Single(batch.Accounts);
        Assert.Equal(150m, Assert.Single(account.Balances).Free);
    }

    [Fact]
    public void A_fill_is_stored_and_published_under_its_own_id()
    {
        var fill = new FillEvent(Guid.NewGuid(), Guid.NewGuid(), Alice, null, "binance", "BTCUSDT", OrderSide.Buy, 100m, 1m, 0.1m, "USDT", Liquidity.Taker, 7, T0);
        var batch = new PersistBatch();

        StepWriter.AddFill(batch, fill);

        Assert.Same(fill, Assert.Single(batch.Fills));
        var message = Assert.Single(batch.Outbox);
        Assert.Equal(fill.Id.ToString(), message.MessageId);
        Assert.Equal(Contracts.Messaging.Subjects.TradingFill(Alice), message.Subject);
        Assert.Equal(7, JsonDocument.Parse(message.Payload).RootElement.GetProperty("tradeId").GetInt64());
    }

    [Fact]
    public async Task A_book_is_behind_from_a_newer_applied_sequence_until_a_step_writes_it()
    {
        var writer = Writer(books: [(BtcMarket, 5)]);
        Assert.Empty(writer.BooksBehind());

        writer.Applied(BtcMarket, 9);
        writer.Applied(BtcMarket, 7); // an older sequence never moves the watermark back
        Assert.Equal([BtcMarket], writer.BooksBehind());

        var batch = new PersistBatch();
        writer.AddBook(batch, BtcMarket);
        await writer.WriteAsync(batch);

        Assert.Equal(9ul, Assert.Single(Assert.Single(_store.Saved).Books).StreamSequence);
        Assert.Empty(writer.BooksBehind());
    }

    [Fact]
    public async Task A_step_that_changed_nothing_is_not_written()
    {
        await Writer().WriteAsync(new PersistBatch());

        Assert.Empty(_store.Saved);
    }

    [Fact]
    public async Task Events_are_published_after_their_step_is_stored_even_when_the_first_writes_failed()
    {
        var writer = Writer(options: Options(o => o.PersistRetryWindow = TimeSpan.FromSeconds(30)));
        _store.Failures.Enqueue(new InvalidOperationException("connection reset"));
        _store.Failures.Enqueue(new InvalidOperationException("connection reset"));
        var batch = new PersistBatch();
        writer.AddOrder(batch, RestingBuy());

        await writer.WriteAsync(batch);

        Assert.Same(batch, Assert.Single(_store.Saved));
        Assert.Equal(batch.Outbox, _outbox.Published);
    }

    [Fact]
    public async Task A_write_failing_past_the_retry_window_stops_the_process_and_publishes_nothing()
    {
        var lifetime = Lifetime();
        var writer = Writer(new FakeTimeProvider(T0), Options(o => o.PersistRetryWindow = TimeSpan.Zero), lifetime);
        _store.Failures.Enqueue(new InvalidOperationException("constraint violated"));
        var batch = new PersistBatch();
        writer.AddOrder(batch, RestingBuy());

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(batch));

        Assert.True(lifetime.ApplicationStopping.IsCancellationRequested);
        Assert.Empty(_store.Saved);
        Assert.Empty(_outbox.Published);
    }
}
