using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Storage;
using QuantTrader.Trading;

namespace QuantTrader.PaperEngine.Engine;

/// <summary>Where a step is written: in one transaction, or not at all (<see cref="PaperStore.SaveAsync"/>).</summary>
public interface IStepStore
{
    Task SaveAsync(PersistBatch batch, CancellationToken ct);
}

/// <summary>Where a committed step's events go to be published (<see cref="Messaging.OutboxPublisher"/>).</summary>
public interface IEventOutbox
{
    void Publish(IReadOnlyList<OutboxMessage> messages);
}

/// <summary>
/// Turns what one engine step changed into the rows and events of its <see cref="PersistBatch"/>, writes the batch
/// (retrying while PostgreSQL is away) and hands its events to the outbox once committed. It keeps the two things only
/// a writer needs to know: each open order's version (one per event on TRADING) and each book's watermarks (the
/// MARKET_RAW sequence applied to it, and the one last written).
/// </summary>
public sealed class StepWriter(
    IStepStore store,
    IEventOutbox outbox,
    TimeProvider time,
    IOptions<PaperEngineOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<StepWriter> logger)
{
    /// <summary>Snapshots and portfolios as JSON: plain records, enums by name.</summary>
    internal static readonly JsonSerializerOptions StateJson = CreateStateJson();

    private static readonly Histogram<double> StepDuration = QuantTraderTelemetry.Meter.CreateHistogram<double>("paper.persist.duration", "ms", "Time to write one engine step");

    private readonly PaperEngineOptions _options = options.Value;
    private readonly Dictionary<Guid, int> _versions = [];
    private readonly Dictionary<MarketKey, ulong> _appliedSequence = [];
    private readonly Dictionary<MarketKey, ulong> _persistedSequence = [];
    private PaperExchange _exchange = null!;

    /// <summary>Open orders whose version is known (restored or written since).</summary>
    public int OpenOrders => _versions.Count;

    /// <summary>Continues from what is stored: the restored exchange, its open orders' versions and its books' watermarks.</summary>
    public void Restore(PaperExchange exchange, IEnumerable<(Guid OrderId, int Version)> openOrderVersions, IEnumerable<(MarketKey Market, ulong Sequence)> bookSequences)
    {
        _exchange = exchange;
        foreach (var (id, version) in openOrderVersions)
        {
            _versions[id] = version;
        }

        foreach (var (market, sequence) in bookSequences)
        {
            _appliedSequence[market] = sequence;
            _persistedSequence[market] = sequence;
        }
    }

    /// <summary>The book of <paramref name="market"/> has applied every print up to this MARKET_RAW sequence.</summary>
    public void Applied(MarketKey market, ulong streamSequence) =>
        _appliedSequence[market] = Math.Max(_appliedSequence.GetValueOrDefault(market), streamSequence);

    /// <summary>Books that applied prints since they were last written: what a checkpoint writes.</summary>
    public IReadOnlyList<MarketKey> BooksBehind() =>
        [.. _appliedSequence.Where(a => a.Value > _persistedSequence.GetValueOrDefault(a.Key)).Select(a => a.Key)];

    /// <summary>The account's full state as it is now; a later call in the same step replaces an earlier one.</summary>
    public void AddAccount(PersistBatch batch, Guid userId)
    {
        batch.Accounts.RemoveAll(a => a.UserId == userId);
        var fees = _exchange.GetFeeRates(userId);
        batch.Accounts.Add(new AccountRow(userId, fees.Maker, fees.Taker,
            JsonSerializer.Serialize(_exchange.GetPortfolio(userId).Snapshot(), StateJson),
            _exchange.Ledger.GetBalances(userId),
            _exchange.Ledger.GetFeesPaid(userId).ToDictionary(f => f.Asset, f => f.Free, StringComparer.Ordinal)));
    }

    /// <summary>An order's new state as its next version, and its event for <c>trading.order.{userId}</c>.</summary>
    public void AddOrder(PersistBatch batch, OrderEvent order)
    {
        var version = _versions.GetValueOrDefault(order.Id) + 1;
        if (WireNames.IsOpen(order.Status))
        {
            _versions[order.Id] = version;
        }
        else
        {
            _versions.Remove(order.Id);
        }

        batch.Orders.Add((order, version));
        batch.Outbox.Add(new OutboxMessage(Subjects.TradingOrder(order.UserId), $"{order.Id}:{version}",
            JsonSerializer.SerializeToUtf8Bytes(order, ContractsJsonContext.Wire.OrderEvent)));
    }

    /// <summary>What the order still locks (nothing once it has ended).</summary>
    public void AddReservation(PersistBatch batch, Guid orderId) =>
        batch.Reservations.Add((orderId, _exchange.Ledger.GetReservation(orderId)));

    /// <summary>A fill, and its event for <c>trading.fill.{userId}</c> (the fill's id is the message id).</summary>
    public static void AddFill(PersistBatch batch, FillEvent fill)
    {
        batch.Fills.Add(fill);
        batch.Outbox.Add(new OutboxMessage(Subjects.TradingFill(fill.UserId), fill.Id.ToString(),
            JsonSerializer.SerializeToUtf8Bytes(fill, ContractsJsonContext.Wire.FillEvent)));
    }

    /// <summary>The book's snapshot with its applied watermark.</summary>
    public void AddBook(PersistBatch batch, MarketKey market)
    {
        var book = _exchange.GetBook(market.Exchange, market.Symbol)!;
        batch.Books.Add(new BookRow(market.Exchange, market.Symbol, _appliedSequence.GetValueOrDefault(market),
            JsonSerializer.Serialize(book.Snapshot(), StateJson)));
    }

    /// <summary>
    /// Writes one step. While PostgreSQL is away the write is retried until it is back (the engine waits, the prints
    /// wait in JetStream, nothing is lost and the process stays up). Any other failure that lasts past
    /// <see cref="PaperEngineOptions.PersistRetryWindow"/> stops the process and is thrown: the in-memory state is
    /// ahead of the database, and the only safe way back is a restart from what is stored.
    /// </summary>
    public async Task WriteAsync(PersistBatch batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var deadline = time.GetUtcNow() + _options.PersistRetryWindow;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.SaveAsync(batch, CancellationToken.None);
                break;
            }
            catch (Exception ex) when (time.GetUtcNow() < deadline || DatabaseOutage.Is(ex))
            {
                logger.LogWarning(ex, "Writing paper-trading state failed (attempt {Attempt}); retrying", attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * attempt)), time);
            }
            catch (Exception ex)
            {
                logger.LogCritical(ex, "Paper-trading state could not be written for {Window}; stopping so a restart reloads the stored state", _options.PersistRetryWindow);
                lifetime.StopApplication();
                throw;
            }
        }

        foreach (var b in batch.Books)
        {
            var market = new MarketKey(b.Exchange, b.Symbol);
            _persistedSequence[market] = Math.Max(_persistedSequence.GetValueOrDefault(market), b.StreamSequence);
        }

        StepDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (batch.Outbox.Count > 0)
        {
            outbox.Publish(batch.Outbox);
        }
    }

    private static JsonSerializerOptions CreateStateJson()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ContractsJsonContext.Configure(json);
        return json;
    }
}
