using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Accounts;
using QuantTrader.PaperEngine.Fees;
using QuantTrader.PaperEngine.Orders;
using QuantTrader.PaperEngine.Portfolios;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.Trading;
using QuantTrader.Trading.Accounts;
using QuantTrader.Trading.Orders;
using QuantTrader.Trading.Positions;
using System.Text.Json;
using Instrument = QuantTrader.Trading.Instrument;

namespace QuantTrader.PaperEngine.Engine;

/// <summary>
/// The one writer of paper-trading state: what each order, cancel, trade and read does to the in-memory
/// <see cref="PaperExchange"/>, run one after another on the <see cref="EngineActor"/>. Each step that changes anything
/// is written by the <see cref="StepWriter"/> (one transaction, its events in the outbox) before the step completes,
/// so whatever a caller was told is durable. Marks come from the <see cref="MarksTracker"/>, the trade feed's filter
/// from <see cref="WantedMarkets"/>; the views are built beside their APIs (portfolio, exposure, fee rates).
/// </summary>
public sealed class ExchangeLoop(
    PaperStore store,
    Instruments instruments,
    EngineActor actor,
    StepWriter writer,
    MarksTracker marks,
    WantedMarkets wanted,
    PaperAccounts accounts,
    TimeProvider time,
    IOptions<PaperEngineOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ExchangeLoop> logger) : IHostedService
{
    private static readonly Counter<long> TradesProcessed = QuantTraderTelemetry.Meter.CreateCounter<long>("paper.trades.processed", description: "Trades matched against paper books");
    private static readonly Counter<long> FillsMade = QuantTraderTelemetry.Meter.CreateCounter<long>("paper.fills", description: "Paper fills");

    private readonly PaperEngineOptions _options = options.Value;
    private PaperExchange _exchange = null!;
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
            wanted.Track(book);
        }

        _stopping = new CancellationTokenSource();
        actor.Start(ex =>
        {
            // A step that throws may have left books, ledger or portfolios half-changed: stop loudly, a restart reloads
            // the stored state.
            logger.LogCritical(ex, "A paper-engine step failed; stopping so a restart reloads the stored state");
            lifetime.StopApplication();
        });
        _checkpoints = Task.Run(() => CheckpointAsync(_stopping.Token), CancellationToken.None);
        logger.LogInformation(
            "Paper engine restored {Accounts} accounts, {OpenOrders} open orders in {Books} stored books; trades resume after stream sequence {Sequence}",
            accounts.Count, writer.OpenOrders, state.Books.Count, ResumeAfterSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none: first start)");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is not null)
        {
            await _stopping.CancelAsync();
        }

        await actor.StopAsync(cancellationToken);
        if (_checkpoints is not null)
        {
            await _checkpoints.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
        var books = state.Books.Select(b => JsonSerializer.Deserialize<Trading.Matching.BookSnapshot>(b.SnapshotJson, StepWriter.StateJson)!).ToList();
        var snapshot = new PaperExchangeSnapshot(
            ledger,
            books,
            [.. state.Accounts.Select(a => new AccountFees(a.UserId, new FeeRates(a.MakerFeeRate, a.TakerFeeRate)))],
            [.. state.Accounts.Select(a => new AccountPortfolio(a.UserId, JsonSerializer.Deserialize<PortfolioSnapshot>(a.PortfolioJson, StepWriter.StateJson)!))]);

        var exchange = PaperExchange.Restore(instruments.All, snapshot, new ReservationPolicy(_options.MarketBuyMargin));
        accounts.Restore(state.Accounts.Select(a => a.UserId));
        writer.Restore(exchange,
            state.OpenOrderVersions.Select(v => (v.Key, v.Value)),
            state.Books.Select(b => (new MarketKey(b.Exchange, b.Symbol), b.StreamSequence)));

        // A book stored before it saw any trade (sequence 0) says nothing about where the stream was.
        var watermarks = state.Books.Where(b => b.StreamSequence > 0).Select(b => b.StreamSequence).ToList();
        ResumeAfterSequence = watermarks.Count > 0 ? watermarks.Min() : null;
        return exchange;
    }

    private async Task CheckpointAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.CheckpointInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await actor.RunAsync(async () =>
                {
                    CatchUpSkipped();
                    var batch = new PersistBatch();
                    foreach (var market in writer.BooksBehind())
                    {
                        writer.AddBook(batch, market);
                    }

                    await writer.WriteAsync(batch);
                    return true;
                }, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
        }
    }

    /// <summary>Open orders, position and today's PnL of a user in one market, for the risk check.</summary>
    public Task<AccountExposure> GetExposureAsync(Guid userId, Instrument instrument, CancellationToken ct) => actor.RunAsync(() =>
        AccountExposure.Of(_exchange, userId, instrument, marks.Marks(_exchange), time.GetUtcNow()), ct);

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
    public Task<SubmitResult> SubmitAsync(OrderRequest order, Trade? referenceTrade, CancellationToken ct) => actor.RunAsync(async () =>
    {
        var batch = new PersistBatch();
        OpenAccount(batch, order.UserId);
        var result = _exchange.Submit(order, marks.ReferenceFor(Subjects.MarketRaw(order.Exchange, order.Symbol), referenceTrade));
        if (result.Accepted)
        {
            var market = new MarketKey(order.Exchange, order.Symbol);
            Track(market);
            writer.AddOrder(batch, result.Order!);
            writer.AddReservation(batch, order.Id);
            writer.AddAccount(batch, order.UserId);
            writer.AddBook(batch, market);
        }

        await writer.WriteAsync(batch);
        return result;
    }, ct);

    /// <summary>Cancels an open order of the user; null when it is not an open order of theirs.</summary>
    public Task<OrderEvent?> CancelAsync(Guid userId, Guid orderId, DateTimeOffset at, CancellationToken ct) => actor.RunAsync(async () =>
    {
        var canceled = _exchange.Cancel(userId, orderId, at);
        if (canceled is null)
        {
            return null;
        }

        var market = new MarketKey(canceled.Exchange, canceled.Symbol);
        Track(market);
        var batch = new PersistBatch();
        writer.AddOrder(batch, canceled);
        batch.Reservations.Add((orderId, null));
        writer.AddAccount(batch, userId);
        writer.AddBook(batch, market);
        await writer.WriteAsync(batch);
        return canceled;
    }, ct);

    /// <summary>The account's balances, positions and equity (creates the paper account on first use).</summary>
    public Task<PortfolioView> GetPortfolioAsync(Guid userId, CancellationToken ct) => actor.RunAsync(async () =>
    {
        var batch = new PersistBatch();
        OpenAccount(batch, userId);
        await writer.WriteAsync(batch);
        return PortfolioQuery.Of(_exchange, userId, marks.Marks(_exchange), marks.AssetPrices(_exchange, _options.StartingAsset), _options.StartingAsset);
    }, ct);

    /// <summary>The account's fee rates (creates the paper account on first use, with the configured defaults).</summary>
    public Task<FeeRates> GetFeeRatesAsync(Guid userId, CancellationToken ct) => actor.RunAsync(async () =>
    {
        var batch = new PersistBatch();
        OpenAccount(batch, userId);
        await writer.WriteAsync(batch);
        return _exchange.GetFeeRates(userId);
    }, ct);

    /// <summary>
    /// Sets the account's maker and/or taker rate; durable when this returns. Orders accepted from now on pay the new
    /// rates; an open order keeps the rates it was accepted with, because what a buy locked (price × quantity × (1 +
    /// rate)) was computed with them.
    /// </summary>
    public Task<FeeRates> SetFeeRatesAsync(Guid userId, FeeRateChange change, CancellationToken ct) => actor.RunAsync(async () =>
    {
        var batch = new PersistBatch();
        OpenAccount(batch, userId);
        var rates = change.AppliedTo(_exchange.GetFeeRates(userId));
        _exchange.SetFeeRates(userId, rates);
        writer.AddAccount(batch, userId);
        await writer.WriteAsync(batch);
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
        marks.HandedOver(subject, trades[^1]);
        await actor.EnqueueTradeStepAsync(() => ApplyTradesAsync(trades, streamSequence), ct);
    }

    /// <summary>
    /// True when prints on this MARKET_RAW subject can fill something (its book holds open orders, <see cref="WantedMarkets"/>).
    /// The trade feed asks before it even deserializes a message; prints it skips reach the engine only through <see cref="Skip"/>.
    /// </summary>
    public bool Matches(string subject) => wanted.Wants(subject);

    /// <summary>
    /// The newest message of a market the feed skipped (see <see cref="Matches"/>): for marks at once, and at each
    /// checkpoint to move the book's last price and stream watermark (where a restart resumes). Called in stream order.
    /// </summary>
    public void Skip(string subject, byte[] data, ulong streamSequence) => marks.Skipped(subject, data, streamSequence);

    /// <summary>
    /// Applies the newest skipped print of each market to its book, if the book still holds no open orders (an order
    /// accepted since was accepted after the print was published, so the print must not fill it; nor is it needed:
    /// the book then gets its prints through the trade lane).
    /// </summary>
    private void CatchUpSkipped()
    {
        foreach (var (trade, sequence) in marks.TakeSkipped())
        {
            if (_exchange.GetBook(trade.Exchange, trade.Symbol) is { OpenOrderCount: 0 })
            {
                _exchange.OnTrade(trade); // no open orders: only the last price and trade id move
                writer.Applied(MarketKey.Of(trade), sequence);
            }
        }
    }

    /// <summary>Keeps <see cref="Matches"/> in step with the book after anything that may open or close an order.</summary>
    private void Track(MarketKey market)
    {
        if (_exchange.GetBook(market.Exchange, market.Symbol) is { } book)
        {
            wanted.Track(book);
        }
    }

    private void OpenAccount(PersistBatch batch, Guid userId)
    {
        if (accounts.Open(_exchange, userId))
        {
            writer.AddAccount(batch, userId);
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
        List<MarketKey>? markets = null;
        foreach (var trade in trades)
        {
            var market = MarketKey.Of(trade);
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
        activity?.SetTag("market", markets[0].ToString());
        activity?.SetTag("trades", trades.Length);
        var result = _exchange.OnTrades(trades);
        foreach (var market in markets)
        {
            writer.Applied(market, streamSequence);
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
            StepWriter.AddFill(batch, fill);
            users.Add(fill.UserId);
        }

        // Every event of an order, in order (one per print that changed it: each is a version on TRADING); its
        // reservation as it is now, once.
        var orders = new HashSet<Guid>();
        foreach (var update in result.Updates)
        {
            writer.AddOrder(batch, update);
            if (orders.Add(update.Id))
            {
                writer.AddReservation(batch, update.Id);
            }

            users.Add(update.UserId);
        }

        foreach (var user in users)
        {
            writer.AddAccount(batch, user);
        }

        foreach (var market in markets)
        {
            Track(market);
            writer.AddBook(batch, market);
        }

        FillsMade.Add(result.Fills.Count);
        await writer.WriteAsync(batch);
        // Debug for the same reason as an accepted order's line (OrderService): the fills are stored and published.
        if (!logger.IsEnabled(LogLevel.Debug))
        {
            return;
        }
        foreach (var print in result.Fills.GroupBy(f => f.TradeId))
        {
            var trade = trades.First(t => t.TradeId == print.Key);
            logger.LogDebug("Trade {Market} #{TradeId} {Quantity} @ {Price} filled {Fills} paper orders",
                MarketKey.Of(trade), trade.TradeId, trade.Quantity, trade.Price, print.Count());
        }
    }
}
