using QuantTrader.ServiceDefaults.Storage;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Messaging;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.Trading;
using QuantTrader.Trading.Accounts;
using QuantTrader.Trading.Matching;
using QuantTrader.Trading.Orders;
using QuantTrader.Trading.Positions;
using Instrument = QuantTrader.Trading.Instrument;

namespace QuantTrader.PaperEngine.Engine;

/// <summary>What the engine knows for a risk check and for pricing an order.</summary>
public sealed record AccountExposure(int OpenOrders, decimal PositionQuantity, decimal? LastPrice, decimal DailyPnl);

/// <summary>
/// The one writer of paper-trading state. Every order, cancel and trade is a work item on one channel, executed
/// in order against the in-memory <see cref="PaperExchange"/>; each step that changes anything is written to
/// PostgreSQL in one transaction (with its events in the outbox) before the step completes, so whatever a caller
/// was told is durable. One writer per process means concurrent users cannot corrupt a balance; no locks needed.
/// </summary>
public sealed class ExchangeLoop(
    PaperStore store,
    Instruments instruments,
    OutboxPublisher outbox,
    IOptions<PaperEngineOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ExchangeLoop> logger) : IHostedService
{
    /// <summary>Snapshots and portfolios as JSON: plain records, enums by name.</summary>
    internal static readonly JsonSerializerOptions StateJson = CreateStateJson();

    private static readonly Counter<long> TradesProcessed = QuantTraderTelemetry.Meter.CreateCounter<long>("paper.trades.processed", description: "Trades matched against paper books");
    private static readonly Counter<long> FillsMade = QuantTraderTelemetry.Meter.CreateCounter<long>("paper.fills", description: "Paper fills");
    private static readonly Histogram<double> StepDuration = QuantTraderTelemetry.Meter.CreateHistogram<double>("paper.persist.duration", "ms", "Time to write one engine step");

    // Two lanes into the one writer: requests (orders, cancels, reads, checkpoints) go ahead of queued trades, so an
    // order does not wait behind a backlog of prints; trades stay in stream order among themselves. Why an order that
    // overtakes queued prints still never fills on them: see SubmitAsync.
    private readonly Channel<Func<Task>> _requests = Channel.CreateBounded<Func<Task>>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Channel<Func<Task>> _work = Channel.CreateBounded<Func<Task>>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    // Rung after every write to either lane; the loop waits on it when both are empty. One waiter on one channel: a
    // wait on each lane would leave a pending waiter on the quiet lane every time, piling up while only the other moves.
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    // The newest message of each market the trade feed skipped, raw (Skip); written by the feed, read by the loop. Its
    // newest print is its last trade (a batch is in trade-id order).
    private readonly ConcurrentDictionary<string, (byte[] Data, ulong Sequence)> _skipped = new(StringComparer.Ordinal);

    // The newest print handed to the trade lane, per MARKET_RAW subject, recorded before it is queued (of a batch: its last).
    private readonly ConcurrentDictionary<string, Trade> _handedOver = new(StringComparer.Ordinal);
    private readonly PaperEngineOptions _options = options.Value;
    private readonly HashSet<Guid> _accounts = [];
    private readonly Dictionary<Guid, int> _versions = [];
    private readonly Dictionary<string, ulong> _appliedSequence = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _persistedSequence = new(StringComparer.Ordinal);

    // MARKET_RAW subjects of the books that hold open orders: the trade feed reads this (from its own thread) to pass
    // only their prints to this loop; a print of any other market cannot fill anything. Written by the loop only.
    private readonly ConcurrentDictionary<string, byte> _matchingSubjects = new(StringComparer.Ordinal);
    private PaperExchange _exchange = null!;
    private Task? _runner;
    private Task? _checkpoints;
    private CancellationTokenSource? _stopping;

    /// <summary>Where the trade feed resumes: after the oldest book watermark, or null for a first start.</summary>
    public ulong? ResumeAfterSequence { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var state = await store.LoadAsync(cancellationToken);
        _exchange = Restore(state);
        foreach (var book in _exchange.Books)
        {
            TrackOpenOrders(book.Instrument.Exchange, book.Instrument.Symbol);
        }

        _stopping = new CancellationTokenSource();
        _runner = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        _checkpoints = Task.Run(() => CheckpointAsync(_stopping.Token), CancellationToken.None);
        logger.LogInformation(
            "Paper engine restored {Accounts} accounts, {OpenOrders} open orders in {Books} stored books; trades resume after stream sequence {Sequence}",
            _accounts.Count, _versions.Count, state.Books.Count, ResumeAfterSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none: first start)");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _requests.Writer.TryComplete();
        _work.Writer.TryComplete();
        _doorbell.Writer.TryComplete();
        if (_stopping is not null)
        {
            await _stopping.CancelAsync();
        }

        foreach (var task in new[] { _runner, _checkpoints })
        {
            if (task is not null)
            {
                await task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private PaperExchange Restore(StoredState state)
    {
        var balances = state.Balances.ToLookup(b => b.UserId);
        var ledger = new LedgerSnapshot(
            [.. state.Accounts.Select(a => new LedgerAccountSnapshot(a.UserId,
                [.. balances[a.UserId].Select(b => new AssetBalance(b.Asset, b.Free, b.Locked))],
                [.. balances[a.UserId].Where(b => b.FeesPaid != 0m).Select(b => new AssetBalance(b.Asset, b.FeesPaid, 0m))]))],
            state.Reservations);
        var books = state.Books.Select(b => JsonSerializer.Deserialize<BookSnapshot>(b.SnapshotJson, StateJson)!).ToList();
        var snapshot = new PaperExchangeSnapshot(
            ledger,
            books,
            [.. state.Accounts.Select(a => new AccountFees(a.UserId, new FeeRates(a.MakerFeeRate, a.TakerFeeRate)))],
            [.. state.Accounts.Select(a => new AccountPortfolio(a.UserId, JsonSerializer.Deserialize<PortfolioSnapshot>(a.PortfolioJson, StateJson)!))]);

        foreach (var a in state.Accounts)
        {
            _accounts.Add(a.UserId);
        }

        foreach (var (id, version) in state.OpenOrderVersions)
        {
            _versions[id] = version;
        }

        foreach (var b in state.Books)
        {
            var key = $"{b.Exchange}:{b.Symbol}";
            _appliedSequence[key] = b.StreamSequence;
            _persistedSequence[key] = b.StreamSequence;
        }

        // A book stored before it saw any trade (sequence 0) says nothing about where the stream was.
        var watermarks = state.Books.Where(b => b.StreamSequence > 0).Select(b => b.StreamSequence).ToList();
        ResumeAfterSequence = watermarks.Count > 0 ? watermarks.Min() : null;
        return PaperExchange.Restore(instruments.All, snapshot, new ReservationPolicy(_options.MarketBuyMargin));
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (true)
        {
            if (_requests.Reader.TryRead(out var item) || _work.Reader.TryRead(out item))
            {
                try
                {
                    await item();
                }
                catch (Exception ex)
                {
                    // A step that throws may have left books, ledger or portfolios half-changed, so matching must not go
                    // on from here. Nor may this loop just end: nobody would drain the queue, the trade feed would block
                    // on it, and with the feed the NATS connection it reads from — a silent hang (it happened). Stop
                    // loudly instead; a restart reloads the stored state.
                    logger.LogCritical(ex, "A paper-engine step failed; stopping so a restart reloads the stored state");
                    lifetime.StopApplication();
                    return;
                }

                continue;
            }

            // Both lanes empty: wait for the next write. Once stopping (doorbell completed), end when both are drained.
            if (await _doorbell.Reader.WaitToReadAsync(CancellationToken.None))
            {
                _doorbell.Reader.TryRead(out _);
            }
            else if (_requests.Reader.Count == 0 && _work.Reader.Count == 0)
            {
                return;
            }
        }
    }

    private async Task CheckpointAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.CheckpointInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await RunAsync(async () =>
                {
                    CatchUpSkipped();
                    var batch = new PersistBatch();
                    foreach (var (key, applied) in _appliedSequence)
                    {
                        if (applied > _persistedSequence.GetValueOrDefault(key))
                        {
                            AddBook(batch, key);
                        }
                    }

                    await PersistAsync(batch);
                    return true;
                }, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
        }
    }

    /// <summary>Runs <paramref name="step"/> on the engine's one thread of control and returns its result.</summary>
    private async Task<T> RunAsync<T>(Func<Task<T>> step, CancellationToken ct)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _requests.Writer.WriteAsync(async () =>
        {
            try
            {
                done.TrySetResult(await step());
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        }, ct);
        _doorbell.Writer.TryWrite(true);
        return await done.Task.WaitAsync(ct);
    }

    private Task<T> RunAsync<T>(Func<T> step, CancellationToken ct) => RunAsync(() => Task.FromResult(step()), ct);

    private static JsonSerializerOptions CreateStateJson()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ContractsJsonContext.Configure(json);
        return json;
    }

    /// <summary>Open orders, position and today's PnL of a user in one market, for the risk check.</summary>
    public Task<AccountExposure> GetExposureAsync(Guid userId, Instrument instrument, CancellationToken ct) => RunAsync(() =>
    {
        var book = _exchange.GetBook(instrument.Exchange, instrument.Symbol)!;
        var portfolio = _exchange.GetPortfolio(userId);
        var marks = Marks();
        var daily = portfolio.RealizedPnlOn(DateOnly.FromDateTime(DateTime.UtcNow)) + portfolio.UnrealizedPnl(marks);
        return new AccountExposure(
            _exchange.GetOpenOrders(userId).Count,
            portfolio.GetPosition(instrument.Exchange, instrument.Symbol).Quantity,
            book.LastPrice,
            daily);
    }, ct);

    /// <summary>Locks funds and places an accepted (risk-approved) order; durable when this returns an accepted result.</summary>
    /// <remarks>
    /// The order runs ahead of prints still queued in the trade lane. Those were published before it was accepted, so
    /// it must not fill on them: its reference print — it fills only on prints with a greater trade id — is the newest
    /// of the one the caller read from MARKET_RAW at admission and the newest already handed to the trade lane. So it
    /// fills exactly on the prints it would have under strict stream order, and never on an earlier one. Its funds are
    /// locked against balances that queued fills have not changed yet: a fill spends only what its own order locked and
    /// only ever adds to free balances (proceeds, and what its order no longer needs), so the free balance this order
    /// was checked against is never more than it would have been in stream order.
    /// </remarks>
    public Task<SubmitResult> SubmitAsync(OrderRequest order, Trade? referenceTrade, CancellationToken ct) => RunAsync(async () =>
    {
        var batch = new PersistBatch();
        EnsureAccount(order.UserId, batch);
        if (_handedOver.TryGetValue(Subjects.MarketRaw(order.Exchange, order.Symbol), out var handed)
            && (referenceTrade is null || handed.TradeId > referenceTrade.TradeId))
        {
            referenceTrade = handed;
        }

        var result = _exchange.Submit(order, referenceTrade);
        if (result.Accepted)
        {
            TrackOpenOrders(order.Exchange, order.Symbol);
            AddOrder(batch, result.Order!);
            batch.Reservations.Add((order.Id, _exchange.Ledger.GetReservation(order.Id)));
            AddAccount(batch, order.UserId);
            AddBook(batch, $"{order.Exchange}:{order.Symbol}");
        }

        await PersistAsync(batch);
        return result;
    }, ct);

    /// <summary>Cancels an open order of the user; null when it is not an open order of theirs.</summary>
    public Task<OrderEvent?> CancelAsync(Guid userId, Guid orderId, DateTimeOffset at, CancellationToken ct) => RunAsync(async () =>
    {
        var canceled = _exchange.Cancel(userId, orderId, at);
        if (canceled is null)
        {
            return null;
        }

        TrackOpenOrders(canceled.Exchange, canceled.Symbol);
        var batch = new PersistBatch();
        AddOrder(batch, canceled);
        batch.Reservations.Add((orderId, null));
        AddAccount(batch, userId);
        AddBook(batch, $"{canceled.Exchange}:{canceled.Symbol}");
        await PersistAsync(batch);
        return canceled;
    }, ct);

    /// <summary>The account's balances, positions and equity (creates the paper account on first use).</summary>
    public Task<PortfolioView> GetPortfolioAsync(Guid userId, CancellationToken ct) => RunAsync(async () =>
    {
        var batch = new PersistBatch();
        EnsureAccount(userId, batch);
        await PersistAsync(batch);
        var marks = Marks();
        var portfolio = _exchange.GetPortfolio(userId);
        var balances = _exchange.Ledger.GetBalances(userId);
        var equity = Portfolio.Value(balances, _options.StartingAsset, AssetPrices());
        return new PortfolioView(
            [.. balances.Select(b => new BalanceView(b.Asset, b.Free, b.Locked))],
            [.. portfolio.OpenPositions.Select(p => new PositionView(p.Exchange, p.Symbol, p.Quantity, p.AverageEntryPrice,
                marks.TryGetValue(Portfolio.Key(p.Exchange, p.Symbol), out var mark) ? p.UnrealizedPnl(mark) : 0m))],
            equity.Value,
            portfolio.RealizedPnl,
            equity.Asset,
            [.. _exchange.Ledger.GetFeesPaid(userId).Select(f => new FeeView(f.Asset, f.Free))],
            _exchange.GetFeeRates(userId));
    }, ct);

    /// <summary>The account's fee rates (creates the paper account on first use, with the configured defaults).</summary>
    public Task<FeeRates> GetFeeRatesAsync(Guid userId, CancellationToken ct) => RunAsync(async () =>
    {
        var batch = new PersistBatch();
        EnsureAccount(userId, batch);
        await PersistAsync(batch);
        return _exchange.GetFeeRates(userId);
    }, ct);

    /// <summary>
    /// Sets the account's maker and/or taker rate (null keeps the current one); durable when this returns. Orders accepted
    /// from now on pay the new rates; an open order keeps the rates it was accepted with, because what a buy locked
    /// (price × quantity × (1 + rate)) was computed with them.
    /// </summary>
    public Task<FeeRates> SetFeeRatesAsync(Guid userId, decimal? maker, decimal? taker, CancellationToken ct) => RunAsync(async () =>
    {
        var batch = new PersistBatch();
        EnsureAccount(userId, batch);
        var current = _exchange.GetFeeRates(userId);
        var rates = new FeeRates(maker ?? current.Maker, taker ?? current.Taker);
        _exchange.SetFeeRates(userId, rates);
        AddAccount(batch, userId);
        await PersistAsync(batch);
        logger.LogInformation("Fee rates of {UserId} set to maker {Maker}, taker {Taker}", userId, rates.Maker, rates.Taker);
        return rates;
    }, ct);

    /// <summary>
    /// Queues the trades of one MARKET_RAW message (stream order; one trade, or a batch of one market in trade-id order).
    /// Returns once queued; they are applied in order, all of them in one step (<see cref="ApplyTradesAsync"/>).
    /// </summary>
    public async ValueTask EnqueueTradesAsync(string subject, Trade[] trades, ulong streamSequence, CancellationToken ct)
    {
        if (trades.Length == 0)
        {
            return;
        }

        // Recorded before it is queued, so an order that overtakes it knows of it (SubmitAsync): of a batch the last,
        // newest print, so the order fills on none of the message, all of which was published before it was accepted.
        // Trade ids only grow per market, and the stream is delivered in order.
        _handedOver[subject] = trades[^1];
        await _work.Writer.WriteAsync(() => ApplyTradesAsync(trades, streamSequence), ct);
        _doorbell.Writer.TryWrite(true);
    }

    /// <summary>
    /// True when prints on this MARKET_RAW subject can fill something (its book holds open orders). The trade feed
    /// asks before it even deserializes a message; prints it skips reach the loop only through <see cref="Skip"/>.
    /// <para>
    /// Skipping never fills an order on a print older than the order, and never skips a print that came after it: a
    /// market becomes wanted when the loop puts an order into its book — before the order is written and answered —
    /// and the feed asks after the print was published. So a print skipped for a market that was not wanted was
    /// published before any of its open orders was accepted. Such a print could at most have filled the order under
    /// the matching engine's "only later prints" rule if it came between the order's reference print (the newest in
    /// MARKET_RAW at admission) and its acceptance; the order then fills on the next print instead.
    /// </para>
    /// </summary>
    public bool Matches(string subject) => _matchingSubjects.ContainsKey(subject);

    /// <summary>
    /// The newest message of a market the feed skipped (see <see cref="Matches"/>), kept raw and parsed only when needed
    /// (its newest print, the last trade of a batch, is what counts):
    /// for marks (PnL for risk and the portfolio) at once, and at each checkpoint to move the book's last price and
    /// stream watermark (where a restart resumes). Called by the trade feed, in stream order.
    /// </summary>
    public void Skip(string subject, byte[] data, ulong streamSequence) => _skipped[subject] = (data, streamSequence);

    /// <summary>
    /// Applies the newest skipped print of each market to its book, if the book still holds no open orders (an order
    /// accepted since was accepted after the print was published, so the print must not fill it; nor is it needed:
    /// the book then gets its prints through the trade lane).
    /// </summary>
    private void CatchUpSkipped()
    {
        foreach (var entry in _skipped)
        {
            if (!_skipped.TryRemove(entry))
            {
                continue; // a newer print arrived meanwhile: the next checkpoint takes that one
            }

            if (ParseSkipped(entry.Value.Data) is { } trade && _exchange.GetBook(trade.Exchange, trade.Symbol) is { OpenOrderCount: 0 })
            {
                _exchange.OnTrade(trade); // no open orders: only the last price and trade id move
                var key = $"{trade.Exchange}:{trade.Symbol}";
                _appliedSequence[key] = Math.Max(_appliedSequence.GetValueOrDefault(key), entry.Value.Sequence);
            }
        }
    }

    /// <summary>The newest print of a skipped message: its only trade, or the last of a batch; null for none or unreadable.</summary>
    private Trade? ParseSkipped(byte[] data)
    {
        try
        {
            var trades = TradeMessages.Decode(data);
            return trades.Length > 0 ? trades[^1] : null;
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Ignoring a malformed skipped trade");
            return null;
        }
    }

    /// <summary>Keeps <see cref="Matches"/> in step with the book after anything that may open or close an order.</summary>
    private void TrackOpenOrders(string exchange, string symbol)
    {
        var subject = Subjects.MarketRaw(exchange, symbol);
        if (_exchange.GetBook(exchange, symbol) is { OpenOrderCount: > 0 })
        {
            _matchingSubjects.TryAdd(subject, 0);
        }
        else
        {
            _matchingSubjects.TryRemove(subject, out _);
        }
    }

    /// <summary>
    /// Applies the trades of one message, in order, as one step: no order or cancel runs between two prints of a
    /// message, and what they changed is written in one transaction with the message's stream sequence as the book's
    /// watermark. So a stored watermark always means "every print of that message and before it is applied", which is
    /// what a restart resumes after; a watermark written between two prints of a batch would lose the rest of it.
    /// </summary>
    private async Task ApplyTradesAsync(Trade[] trades, ulong streamSequence)
    {
        // The markets of the message that the engine trades (one, by the contract; each is handled on its own anyway).
        List<string>? markets = null;
        foreach (var trade in trades)
        {
            var market = $"{trade.Exchange}:{trade.Symbol}";
            if (_exchange.GetBook(trade.Exchange, trade.Symbol) is not null && markets?.Contains(market) != true)
            {
                (markets ??= []).Add(market);
            }
        }

        if (markets is null)
        {
            return; // a market the normalizer does not trade
        }

        using var activity = QuantTraderTelemetry.ActivitySource.StartActivity("paper.match");
        activity?.SetTag("market", markets[0]);
        activity?.SetTag("trades", trades.Length);
        var result = _exchange.OnTrades(trades);
        foreach (var market in markets)
        {
            _appliedSequence[market] = Math.Max(_appliedSequence.GetValueOrDefault(market), streamSequence);
        }

        TradesProcessed.Add(trades.Length);
        if (result.Updates.Count == 0 && result.Fills.Count == 0)
        {
            return; // nothing changed for anyone: the checkpoint will record the watermark
        }

        var batch = new PersistBatch();
        var users = new HashSet<Guid>();
        foreach (var fill in result.Fills)
        {
            batch.Fills.Add(fill);
            batch.Outbox.Add(new OutboxMessage(Subjects.TradingFill(fill.UserId), fill.Id.ToString(),
                JsonSerializer.SerializeToUtf8Bytes(fill, ContractsJsonContext.Wire.FillEvent)));
            users.Add(fill.UserId);
        }

        // Every event of an order, in order (one per print that changed it: each is a version on TRADING); its
        // reservation as it is now, once.
        var orders = new HashSet<Guid>();
        foreach (var update in result.Updates)
        {
            AddOrder(batch, update);
            if (orders.Add(update.Id))
            {
                batch.Reservations.Add((update.Id, _exchange.Ledger.GetReservation(update.Id)));
            }

            users.Add(update.UserId);
        }

        foreach (var user in users)
        {
            AddAccount(batch, user);
        }

        foreach (var market in markets)
        {
            var parts = market.Split(':');
            TrackOpenOrders(parts[0], parts[1]);
            AddBook(batch, market);
        }

        FillsMade.Add(result.Fills.Count);
        await PersistAsync(batch);
        // Debug for the same reason as an accepted order's line (OrderService): the fills are stored and published.
        if (!logger.IsEnabled(LogLevel.Debug))
        {
            return;
        }
        foreach (var print in result.Fills.GroupBy(f => f.TradeId))
        {
            var trade = trades.First(t => t.TradeId == print.Key);
            logger.LogDebug("Trade {Market} #{TradeId} {Quantity} @ {Price} filled {Fills} paper orders",
                $"{trade.Exchange}:{trade.Symbol}", trade.TradeId, trade.Quantity, trade.Price, print.Count());
        }
    }

    private void EnsureAccount(Guid userId, PersistBatch batch)
    {
        if (_accounts.Add(userId))
        {
            _exchange.Ledger.Deposit(userId, _options.StartingAsset, _options.StartingBalance);
            _exchange.SetFeeRates(userId, new FeeRates(_options.MakerFeeRate, _options.TakerFeeRate));
            AddAccount(batch, userId);
            logger.LogInformation("Opened paper account of {UserId} with {Amount} {Asset}", userId, _options.StartingBalance, _options.StartingAsset);
        }
    }

    private void AddAccount(PersistBatch batch, Guid userId)
    {
        batch.Accounts.RemoveAll(a => a.UserId == userId); // the latest state of the account wins

        var fees = _exchange.GetFeeRates(userId);
        batch.Accounts.Add(new AccountRow(userId, fees.Maker, fees.Taker,
            JsonSerializer.Serialize(_exchange.GetPortfolio(userId).Snapshot(), StateJson),
            _exchange.Ledger.GetBalances(userId),
            _exchange.Ledger.GetFeesPaid(userId).ToDictionary(f => f.Asset, f => f.Free, StringComparer.Ordinal)));
    }

    private void AddOrder(PersistBatch batch, OrderEvent order)
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

    private void AddBook(PersistBatch batch, string key)
    {
        var parts = key.Split(':');
        var book = _exchange.GetBook(parts[0], parts[1])!;
        var sequence = _appliedSequence.GetValueOrDefault(key);
        batch.Books.Add(new BookRow(parts[0], parts[1], sequence, JsonSerializer.Serialize(book.Snapshot(), StateJson)));
    }

    /// <summary>
    /// Writes one step. While PostgreSQL is away the write is retried until it is back (the engine waits, the prints
    /// wait in JetStream, nothing is lost and the process stays up). Any other failure that lasts past the retry window
    /// stops the process: the in-memory state is ahead of the database, and the only safe way back is a restart from
    /// what is stored.
    /// </summary>
    private async Task PersistAsync(PersistBatch batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var deadline = DateTime.UtcNow + _options.PersistRetryWindow;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.SaveAsync(batch, CancellationToken.None);
                break;
            }
            catch (Exception ex) when (DateTime.UtcNow < deadline || DatabaseOutage.Is(ex))
            {
                logger.LogWarning(ex, "Writing paper-trading state failed (attempt {Attempt}); retrying", attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * attempt)));
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
            var key = $"{b.Exchange}:{b.Symbol}";
            _persistedSequence[key] = Math.Max(_persistedSequence.GetValueOrDefault(key), b.StreamSequence);
        }

        StepDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (batch.Outbox.Count > 0)
        {
            outbox.Publish(batch.Outbox);
        }
    }

    /// <summary>
    /// Last trade price per market (<c>exchange:SYMBOL</c>): the book's, or the newest skipped print's when that is newer
    /// (a market without open orders gets its prints only that way).
    /// </summary>
    private Dictionary<string, decimal> Marks()
    {
        var marks = _exchange.Books.Where(b => b.LastPrice is not null).ToDictionary(b => b.Instrument.Key, b => b.LastPrice!.Value, StringComparer.Ordinal);
        foreach (var (_, (data, _)) in _skipped)
        {
            if (ParseSkipped(data) is { } trade && _exchange.GetBook(trade.Exchange, trade.Symbol) is { } book
                && (book.LastTradeId is null || trade.TradeId > book.LastTradeId))
            {
                marks[book.Instrument.Key] = trade.Price;
            }
        }

        return marks;
    }

    /// <summary>Each asset's price in the valuation asset (USDT), from the latest trade of any exchange quoting it in USDT.</summary>
    private Dictionary<string, decimal> AssetPrices()
    {
        var marks = Marks();
        var prices = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var book in _exchange.Books.Where(b => b.Instrument.QuoteAsset == _options.StartingAsset))
        {
            if (marks.TryGetValue(book.Instrument.Key, out var price))
            {
                prices[book.Instrument.BaseAsset] = price;
            }
        }

        return prices;
    }
}

public sealed record BalanceView(string Asset, decimal Free, decimal Locked);

public sealed record PositionView(string Exchange, string Symbol, decimal Quantity, decimal AverageEntryPrice, decimal UnrealizedPnl);

public sealed record FeeView(string Asset, decimal Paid);

/// <summary>GET /api/v1/portfolio: balances, positions and equity valued in <see cref="ValuationAsset"/>.</summary>
public sealed record PortfolioView(
    IReadOnlyList<BalanceView> Balances,
    IReadOnlyList<PositionView> Positions,
    decimal Equity,
    decimal RealizedPnl,
    string ValuationAsset,
    IReadOnlyList<FeeView> FeesPaid,
    FeeRates FeeRates);
