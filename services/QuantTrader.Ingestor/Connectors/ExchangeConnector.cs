using System.Collections.Concurrent;
using System.Text;
using Polly;
using Polly.Retry;
using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.Ingestor.Markets;
using QuantTrader.Ingestor.Publishing;
using QuantTrader.Ingestor.Sequencing;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.Ingestor.Connectors;

/// <summary>
/// What every exchange connector does for the markets it was given (one partition's markets of one exchange,
/// <see cref="QuantTrader.Ingestor.Markets.MarketFeed"/>): one supervised connection per shard of subscriptions, reconnecting with
/// exponential backoff and jitter (Polly), a watchdog that drops a connection that went quiet, a hand-over that opens
/// the successor before retiring a connection (the 24 h cut-off, OKX's upgrade notice), and the handling of parse
/// results: trades to the pipeline, bad input counted and logged once per kind with the raw text, exchange errors
/// logged and counted. The protocol specifics live in the subclasses.
/// </summary>
public abstract class ExchangeConnector
{
    private readonly ConcurrentDictionary<RejectKind, bool> _loggedRejects = new();
    private readonly ConcurrentDictionary<int, Task> _receiving = new();
    private readonly ResiliencePipeline _connectRetry;
    private int _connectionNumber;
    private CancellationToken _stopping;

    protected ExchangeConnector(
        string exchange,
        IReadOnlyList<Market> markets,
        MarketDataOptions.ExchangeOptions options,
        TradePipeline pipeline,
        IngestorMetrics metrics,
        ILogger logger,
        TimeProvider time)
    {
        Exchange = exchange;
        Markets = markets;
        Options = options;
        Pipeline = pipeline;
        Metrics = metrics;
        Logger = logger;
        Time = time;
        _connectRetry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(30),
                MaxRetryAttempts = int.MaxValue,
                OnRetry = args =>
                {
                    Logger.LogWarning(args.Outcome.Exception, "{Exchange}: connecting failed (attempt {Attempt}); next try in {Delay}",
                        Exchange, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public string Exchange { get; }

    /// <summary>The markets this connector subscribes to (all of one exchange, all of one partition).</summary>
    public IReadOnlyList<Market> Markets { get; }

    protected MarketDataOptions.ExchangeOptions Options { get; }

    protected TradePipeline Pipeline { get; }

    protected IngestorMetrics Metrics { get; }

    protected ILogger Logger { get; }

    protected TimeProvider Time { get; }

    /// <summary>One shard per connection; each carries at most the exchange's limit of subscriptions.</summary>
    protected abstract IReadOnlyList<FeedShard> Shards();

    /// <summary>After connecting: subscribe (OKX) or nothing (Binance streams are in the URL).</summary>
    protected virtual Task OnOpenedAsync(FeedConnection connection, CancellationToken ct) => Task.CompletedTask;

    protected abstract ParseResult Parse(ReadOnlySpan<byte> frame);

    /// <summary>Called every second with how long the connection has been silent (OKX sends <c>ping</c>).</summary>
    protected virtual Task OnIdleAsync(FeedConnection connection, TimeSpan idle, CancellationToken ct) => Task.CompletedTask;

    protected virtual void OnExchangeEvent(FeedConnection connection, ExchangeEvent e)
    {
        switch (e.Kind)
        {
            case ExchangeEventKind.Error:
                Metrics.ExchangeError(Exchange, e.Code);
                Logger.LogError("{Exchange} connection #{Number} error {Code}: {Message}", Exchange, connection.Number, e.Code, e.Message);
                break;
            case ExchangeEventKind.Subscribed:
                Logger.LogInformation("{Exchange} connection #{Number} subscribed to {Channel} {Instrument}",
                    Exchange, connection.Number, e.Channel, e.InstrumentId);
                break;
            default:
                Logger.LogInformation("{Exchange} connection #{Number} event {Kind} {Code}: {Message}",
                    Exchange, connection.Number, e.Kind, e.Code, e.Message);
                break;
        }
    }

    /// <summary>
    /// Receives until <paramref name="stopReceiving"/> is cancelled, then closes the connections and returns once no
    /// connection hands the pipeline anything more (what was received is then the pipeline's to publish).
    /// </summary>
    public async Task RunAsync(CancellationToken stopReceiving)
    {
        var shards = Shards();
        if (shards.Count == 0)
        {
            return;
        }

        _stopping = stopReceiving;
        await Task.WhenAll(shards.Select(shard => SuperviseAsync(shard, stopReceiving)));
        // The receive loops of disposed connections end at once; waiting for them means no trade is written after this.
        await Task.WhenAll(_receiving.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task SuperviseAsync(FeedShard shard, CancellationToken ct)
    {
        FeedConnection? current = null;
        var reason = "start";
        try
        {
            while (!ct.IsCancellationRequested)
            {
                current ??= await OpenAsync(shard, reason, ct);
                var rotateIn = Options.RotateAfter is TimeSpan age ? age - (Time.GetUtcNow() - current.OpenedAt) : Timeout.InfiniteTimeSpan;
                var rotateDue = rotateIn == Timeout.InfiniteTimeSpan
                    ? Task.Delay(Timeout.Infinite, ct)
                    : Task.Delay(rotateIn > TimeSpan.Zero ? rotateIn : TimeSpan.Zero, Time, ct);
                var first = await Task.WhenAny(current.Ended, current.RotationRequested, rotateDue);
                ct.ThrowIfCancellationRequested();

                if (first == current.Ended)
                {
                    var (kind, detail) = await current.Ended;
                    Metrics.Reconnect(Exchange, kind);
                    Logger.LogWarning("{Exchange} connection #{Number} ended ({Kind}: {Detail}); reconnecting, missed trades will be backfilled",
                        Exchange, current.Number, kind, detail);
                    await current.DisposeAsync();
                    current = null;
                    reason = $"{kind}: {detail}";
                    continue;
                }

                // Hand-over: the successor is connected and delivering before the old one goes, so the sequencer sees
                // an overlap (duplicates dropped) rather than a hole.
                var why = first == current.RotationRequested ? EndReasons.Notice : EndReasons.Rotation;
                var detailText = first == current.RotationRequested
                    ? await current.RotationRequested
                    : $"connection is {Time.GetUtcNow() - current.OpenedAt:g} old; the exchange cuts at 24 h";
                Logger.LogInformation("{Exchange} connection #{Number}: switching to a new connection ({Reason}: {Detail})",
                    Exchange, current.Number, why, detailText);
                var successor = await OpenAsync(shard, $"{why}: {detailText}", ct);
                await Task.WhenAny(successor.FirstTrade, successor.Ended, Task.Delay(TimeSpan.FromSeconds(10), Time, ct));
                await current.CloseAsync($"rotating: {why}");
                await current.DisposeAsync();
                Metrics.Reconnect(Exchange, why);
                Logger.LogInformation("{Exchange} connection #{Old} retired; #{New} carries the feed", Exchange, current.Number, successor.Number);
                current = successor;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            if (current is not null)
            {
                if (ct.IsCancellationRequested)
                {
                    // Leaving on purpose (hand-over, shutdown): say so to the exchange rather than vanish.
                    await current.CloseAsync("stopping: markets handed over or shutting down");
                }

                await current.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Connects, subscribes and starts receiving; then asks the pipeline to catch the shard's markets up over REST. Once
    /// subscribed, whatever printed before is on REST, so a market that stays quiet after a start, a take-over, a
    /// reconnect or a switch from a hung connection gets its missed trades now, not at its next live trade.
    /// </summary>
    private async Task<FeedConnection> OpenAsync(FeedShard shard, string reason, CancellationToken ct)
    {
        var uri = shard.Uri;
        var connection = await _connectRetry.ExecuteAsync(async token =>
        {
            var number = Interlocked.Increment(ref _connectionNumber);
            Logger.LogInformation("{Exchange}: opening connection #{Number} to {Uri} ({Reason})", Exchange, number, uri, reason);
            var c = await FeedConnection.ConnectAsync(uri, number,
                new OutgoingRateGate(Options.MaxMessagesPerSecond, TimeSpan.FromSeconds(1)), Time, token);
            try
            {
                await OnOpenedAsync(c, token);
            }
            catch
            {
                await c.DisposeAsync();
                throw;
            }

            return c;
        }, ct);

        var receiving = connection.ReceiveAsync(OnMessageAsync, ct);
        _receiving[connection.Number] = receiving;
        _ = receiving.ContinueWith(_ => _receiving.TryRemove(connection.Number, out Task? _), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _ = WatchAsync(connection, ct);
        await Pipeline.CatchUpAsync(shard.Markets.Select(m => m.Symbol), ct);
        return connection;
    }

    /// <summary>The watchdog: silence longer than <see cref="MarketDataOptions.ExchangeOptions.StaleAfter"/> means a dead feed.</summary>
    private async Task WatchAsync(FeedConnection connection, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), Time);
            while (!connection.Ended.IsCompleted && await timer.WaitForNextTickAsync(ct))
            {
                var idle = Time.GetUtcNow() - connection.LastReceived;
                // Not while the connection waits on the pipeline's back-pressure: it is not reading, so it cannot
                // have received anything, and cutting it would only add a reconnect and a backfill to the overload.
                if (idle > Options.StaleAfter && !connection.Delivering)
                {
                    connection.Abort(EndReasons.Watchdog, $"nothing received for {idle.TotalSeconds:0}s (limit {Options.StaleAfter.TotalSeconds:0}s)");
                    return;
                }

                await OnIdleAsync(connection, idle, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            connection.Abort(EndReasons.Lost, $"keep-alive failed: {ex.Message}");
        }
    }

    private async ValueTask OnMessageAsync(FeedConnection connection, ReadOnlyMemory<byte> frame)
    {
        var result = Parse(frame.Span);
        switch (result)
        {
            case TradesParsed parsed:
                connection.MarkTrade();
                foreach (var item in parsed.Trades)
                {
                    var trade = item.TradeCount == item.Trade.Count ? item.Trade : item.Trade with { Count = item.TradeCount };
                    await Pipeline.WriteAsync(trade, _stopping);
                }

                break;
            case Rejected rejected:
                Metrics.Rejected(Exchange, rejected.Kind.ToString());
                if (_loggedRejects.TryAdd(rejected.Kind, true))
                {
                    // Once per kind with the raw text: enough to diagnose, never a log flood at market-data rates.
                    Logger.LogWarning("{Exchange} connection #{Number}: skipped a frame ({Kind}: {Reason}); further {Kind} frames are only counted. Raw: {Raw}",
                        Exchange, connection.Number, rejected.Kind, rejected.Reason, rejected.Kind, Raw(frame.Span));
                }

                break;
            case ExchangeEvent e:
                OnExchangeEvent(connection, e);
                break;
        }
    }

    private static string Raw(ReadOnlySpan<byte> frame)
    {
        var text = Encoding.UTF8.GetString(frame.Length > 2048 ? frame[..2048] : frame);
        return frame.Length > 2048 ? text + "…" : text;
    }
}
