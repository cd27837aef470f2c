using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.MarketData.Klines;
using QuantTrader.ServiceDefaults.Messaging;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Kline.Aggregation;

/// <summary>
/// Turns the trades of MARKET_RAW into klines (docs/klines.md). Trades, clock ticks and checkpoints take turns
/// through one gate, so the aggregators see one input at a time and the trades arrive in the stream's order.
/// <list type="bullet">
/// <item>Live trades (<c>market.raw.&gt;</c>, MARKET_RAW) and imported ones (<c>market.history.&gt;</c>, MARKET_HISTORY,
/// read by a second consumer through the same gate) go to separate aggregators, so history never mixes with live.</item>
/// <item>Trades go through the allocation-free <see cref="KlineAggregator.OnTradeQuiet"/>, which hands out only the
/// klines a trade closed. Closed klines are published once each with
/// <c>Nats-Msg-Id = {exchange}:{symbol}:{interval}:{openTimeMs}:closed</c>.</item>
/// <item>Open klines are read with <see cref="KlineAggregator.OpenKline"/> on their own timer, every
/// <see cref="KlineOptions.OpenUpdateInterval"/>: per symbol, the intervals whose open kline changed since its last
/// publication, so a busy symbol costs at most one message per interval per period however many trades it has.</item>
/// <item>Restart: restore the last checkpoint (aggregator snapshots + both streams' sequences) and replay MARKET_RAW and
/// MARKET_HISTORY from their next messages; the clock is not applied until the live replay has caught up.</item>
/// </list>
/// </summary>
public sealed class KlineWorker(
    INatsJSContext js,
    [FromKeyedServices(NatsClientExtensions.Publisher)] INatsJSContext publisher,
    CheckpointStore checkpoints,
    IOptions<KlineOptions> options,
    TimeProvider time,
    ILogger<KlineWorker> logger) : BackgroundService
{
    public const string LiveSource = "live";
    public const string HistorySource = "history";

    /// <summary>Header on klines built from imported history: consumers that act on live data (alerts) skip them.</summary>
    public const string SourceHeader = "QuantTrader-Source";

    private static readonly Counter<long> TradesCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.trades", description: "Trades aggregated");
    private static readonly Counter<long> LateCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.late_trades", description: "Trades dropped by at least one interval as late");
    private static readonly Counter<long> ClosedCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.closed", description: "Closed klines published");
    private static readonly Counter<long> RejectedCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.rejected_trades", description: "Messages that were not valid trades");

    private readonly KlineOptions _options = options.Value;
    private readonly Dictionary<(string Source, string Exchange, string Symbol), Entry> _aggregators = [];
    private ulong _lastSeq;
    private ulong _lastHistorySeq;
    private bool _caughtUp;
    private ulong _catchUpSeq;
    private bool _checkpointDue;
    private DateTimeOffset _lastCheckpoint = DateTimeOffset.MinValue;

    /// <summary>True once the start-up replay has reached the end of the stream as it was at start (exposed for health/logs).</summary>
    public bool CaughtUp => Volatile.Read(ref _caughtUp);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A failure (NATS or PostgreSQL away) restarts aggregation from the last checkpoint instead of killing the process.
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Volatile.Write(ref _caughtUp, false);
                logger.LogError(ex, "Kline aggregation failed; restarting from the last checkpoint in 2 s");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        _aggregators.Clear();
        _checkpointDue = false;
        await StreamSetup.EnsureAsync(js, Streams.MarketRaw(), logger, stoppingToken);
        await StreamSetup.EnsureAsync(js, Streams.MarketHistory(), logger, stoppingToken);
        await StreamSetup.EnsureAsync(js, Streams.MarketKline(), logger, stoppingToken);

        var (checkpointSeq, historySeq, saved) = await checkpoints.LoadAsync(stoppingToken);
        foreach (var s in saved)
        {
            var aggregator = new KlineAggregator(s.Snapshot.Exchange, s.Snapshot.Symbol);
            aggregator.Restore(s.Snapshot);
            _aggregators[(s.Source, s.Snapshot.Exchange, s.Snapshot.Symbol)] = new Entry(s.Source, aggregator);
        }

        _lastSeq = checkpointSeq;
        _lastHistorySeq = historySeq;
        var raw = await js.GetStreamAsync(Streams.MarketRaw().Name!, cancellationToken: stoppingToken);
        _catchUpSeq = raw.Info.State.LastSeq;
        _caughtUp = _catchUpSeq <= checkpointSeq;

        // No subject filter: several filter subjects need NATS 2.10 (2.9 ignores them), and this consumer wants
        // nearly all of MARKET_RAW anyway; gap notices are skipped by subject below.
        var consumerOpts = new NatsJSOrderedConsumerOpts();
        if (checkpointSeq > 0)
        {
            consumerOpts = consumerOpts with { DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence, OptStartSeq = checkpointSeq + 1 };
        }
        else
        {
            // First start: the longest window (1d) that is still open began at UTC midnight; replaying from there
            // rebuilds every open kline of every interval.
            var from = KlineAggregator.WindowStart(time.GetUtcNow(), KlineIntervals.All["1d"]);
            consumerOpts = consumerOpts with { DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartTime, OptStartTime = from };
        }

        logger.LogInformation(
            "Kline aggregation starting: {Count} aggregators restored from checkpoint at MARKET_RAW sequence {Seq}; replaying up to {CatchUp} before applying the clock",
            _aggregators.Count, checkpointSeq, _catchUpSeq);

        var consumer = await js.CreateOrderedConsumerAsync(Streams.MarketRaw().Name!, consumerOpts, stoppingToken);
        // History has no clock and no open window to rebuild: all of it the first time, then from the checkpoint on.
        var history = await js.CreateOrderedConsumerAsync(Streams.MarketHistory().Name!, historySeq > 0
            ? new NatsJSOrderedConsumerOpts { DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence, OptStartSeq = historySeq + 1 }
            : new NatsJSOrderedConsumerOpts(), stoppingToken);
        // The trades are handled on the consumer's own loop, and the two timers take the same gate between them,
        // so the aggregators still see one input at a time. (Handing every trade through a channel to a separate
        // loop, as before, made the two threads contend on the channel's lock: ~20 % of this service's CPU at
        // 5,000 trades/s.) A busy gate just delays a tick, which is harmless: the clock and the open updates
        // catch up on the next one.
        using var gate = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var consuming = ConsumeAsync(consumer, fromHistory: false, gate, stop.Token);
        var consumingHistory = ConsumeAsync(history, fromHistory: true, gate, stop.Token);
        var ticking = TickAsync(gate, _options.ClockTick, OnTickAsync, stop.Token);
        var openTicking = TickAsync(gate, _options.OpenUpdateInterval / OpenUpdateSlots, PublishOpenUpdatesAsync, stop.Token);

        try
        {
            // Whichever ends first ends the run: the stop, or a failure (rethrown here, so the run restarts from the
            // last checkpoint).
            await await Task.WhenAny(consuming, consumingHistory, ticking, openTicking);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(consuming, consumingHistory, ticking, openTicking).ContinueWith(_ => { }, TaskScheduler.Default);
            if (stoppingToken.IsCancellationRequested && _checkpointDue)
            {
                // Best effort on a clean stop: a fresh checkpoint shortens the replay of the next start.
                try
                {
                    await CheckpointAsync(CancellationToken.None);
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Final kline checkpoint failed; the next start replays from the previous one");
                }
            }
        }
    }

    private async Task ConsumeAsync(INatsJSConsumer consumer, bool fromHistory, SemaphoreSlim gate, CancellationToken ct)
    {
        await foreach (var msg in consumer.ConsumeAsync<byte[]>(cancellationToken: ct))
        {
            await gate.WaitAsync(ct);
            try
            {
                await OnMessageAsync(msg, fromHistory, ct);
            }
            finally
            {
                gate.Release();
            }
        }

        ct.ThrowIfCancellationRequested();
        throw new InvalidOperationException($"The {(fromHistory ? "MARKET_HISTORY" : "MARKET_RAW")} consumer ended");
    }

    private Task TickAsync(SemaphoreSlim gate, TimeSpan period, Func<CancellationToken, Task> onTick, CancellationToken ct) => Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            await gate.WaitAsync(ct);
            try
            {
                await onTick(ct);
            }
            finally
            {
                gate.Release();
            }
        }
    }, ct);

    /// <param name="fromHistory">Read from MARKET_HISTORY (its sequence is checkpointed apart); the subject decides the source.</param>
    private async Task OnMessageAsync(INatsJSMsg<byte[]> msg, bool fromHistory, CancellationToken ct)
    {
        // Read the clock once per message: it was two reads per trade, ~9 % of this service's CPU in the profile.
        var now = time.GetUtcNow();
        var seq = msg.Metadata?.Sequence.Stream ?? 0;
        var source = msg.Subject.StartsWith("market.raw.", StringComparison.Ordinal) ? LiveSource
            : msg.Subject.StartsWith("market.history.", StringComparison.Ordinal) ? HistorySource
            : null;
        if (source is not null && msg.Data is { Length: > 0 } data)
        {
            using var activity = NatsTracing.StartProcessIfSampled(msg.Subject, msg.Headers);
            Trade[]? trades = null;
            try
            {
                // One trade, or several of one market in id order (TradeMessages): aggregated in order, all before the
                // next message, so a checkpoint's sequence still marks a point between trades.
                trades = TradeMessages.Decode(data);
            }
            catch (JsonException ex)
            {
                logger.LogWarning(ex, "Dropped message {Seq} on {Subject}: not a trade", seq, msg.Subject);
                RejectedCounter.Add(1);
            }

            if (trades is not null)
            {
                foreach (var trade in trades)
                {
                    await AggregateAsync(source, trade, seq, now, ct);
                }
            }
        }

        if (seq > 0)
        {
            if (fromHistory)
            {
                _lastHistorySeq = seq;
            }
            else
            {
                _lastSeq = seq;
            }
        }

        if (!_caughtUp && _lastSeq >= _catchUpSeq)
        {
            Volatile.Write(ref _caughtUp, true);
            logger.LogInformation("Kline replay caught up at MARKET_RAW sequence {Seq}; applying the clock from now on", _lastSeq);
        }

        if (_checkpointDue && now - _lastCheckpoint >= _options.CheckpointInterval)
        {
            await CheckpointAsync(ct);
        }
    }

    private static bool IsPlainName(string? name, bool lowerCase) =>
        name is { Length: > 0 and <= 32 } && name.All(c => char.IsAsciiDigit(c) || (lowerCase ? char.IsAsciiLetterLower(c) : char.IsAsciiLetterUpper(c)));

    private async Task AggregateAsync(string source, Trade trade, ulong seq, DateTimeOffset now, CancellationToken ct)
    {
        var key = (source, trade.Exchange, trade.Symbol);
        if (!_aggregators.TryGetValue(key, out var entry))
        {
            // Names become checkpoint rows and subjects: anything but a plain identifier (a NUL byte, a dot, a
            // wildcard) would poison the checkpoint write and make every restart replay into the same failure.
            if (!IsPlainName(trade.Exchange, lowerCase: true) || !IsPlainName(trade.Symbol, lowerCase: false))
            {
                RejectedCounter.Add(1);
                logger.LogWarning("Dropped trade {Seq}: exchange or symbol is not a plain name", seq);
                return;
            }

            entry = new Entry(source, new KlineAggregator(trade.Exchange, trade.Symbol));
            _aggregators[key] = entry;
        }

        IReadOnlyList<KlineChange> closed;
        var lateBefore = entry.Aggregator.LateTrades;
        try
        {
            // Only the klines this trade closed (almost always none, and then nothing is allocated); the open
            // klines are read on the open-update timer.
            closed = entry.Aggregator.OnTradeQuiet(trade, trade.Count);
        }
        catch (ArgumentException ex)
        {
            RejectedCounter.Add(1);
            logger.LogWarning("Dropped trade {Seq} of {Exchange}:{Symbol}: {Reason}", seq, trade.Exchange, trade.Symbol, ex.Message);
            return;
        }

        TradesCounter.Add(1);
        if (entry.Aggregator.LateTrades > lateBefore)
        {
            LateCounter.Add(1);
            logger.LogDebug("Late trade {TradeId} of {Exchange}:{Symbol} at {Time}: dropped by the intervals already closed",
                trade.TradeId, trade.Exchange, trade.Symbol, trade.Time);
        }

        entry.Dirty = true;
        // Checkpoints at most once per CheckpointInterval keep the replay after a restart short.
        _checkpointDue = true;
        entry.LastInput = now;
        entry.IdlePublished = false;
        entry.OpenChanged = true;
        // Indexed: a foreach over the interface would allocate an enumerator on the trades that close something.
        for (var i = 0; i < closed.Count; i++)
        {
            await PublishClosedAsync(entry, closed[i].Kline, ct);
        }
    }

    private async Task OnTickAsync(CancellationToken ct)
    {
        if (!_caughtUp)
        {
            return;
        }

        var now = time.GetUtcNow();
        var closedByClock = false;
        foreach (var entry in _aggregators.Values)
        {
            if (entry.Source == LiveSource)
            {
                var changes = entry.Aggregator.OnClock(now, _options.AllowedLateness);
                foreach (var change in changes)
                {
                    await PublishClosedAsync(entry, change.Kline, ct);
                }

                if (changes.Count > 0)
                {
                    entry.Dirty = true;
                    closedByClock = true;
                }
            }
            else if (!entry.IdlePublished && now - entry.LastInput >= _options.HistoryIdle)
            {
                // History is never closed by the wall clock (its windows ended long ago, and closing them would
                // make the import's next trades late); its last klines are published once, still open.
                entry.IdlePublished = true;
                foreach (var interval in entry.Aggregator.Intervals)
                {
                    if (entry.Aggregator.OpenKline(interval) is { } open)
                    {
                        await PublishAsync(entry, open, msgId: null, ct);
                    }
                }
            }
        }

        // A clock close is the one decision a replay of the trades cannot reproduce: save it before anything else
        // happens, so a restart never re-opens a kline the clock already closed.
        if (closedByClock || (_checkpointDue && now - _lastCheckpoint >= _options.CheckpointInterval))
        {
            await CheckpointAsync(ct);
        }
    }

    /// <summary>
    /// The open-update period is cut into this many slots, and each symbol publishes in its own slot: one timer
    /// publishing every symbol's open klines at once sent 160 messages in one burst each second (20 markets × 8
    /// intervals), and every consumer of MARKET_KLINE (persistence, alert, strategy runner, analytics) then worked
    /// through its burst at the same moment — on two cores, a recurring stall for whatever else was running
    /// (docs/benchmarks.md section 11: the trade → fill tail).
    /// </summary>
    private const int OpenUpdateSlots = 8;

    /// <summary>
    /// The open-update timer (every period / <see cref="OpenUpdateSlots"/>): per live symbol that had trades since its
    /// last open update and whose period is up, the open kline of every interval that changed since it was last
    /// published (latest state wins). A symbol's period runs from its slot, so at most one update per period each, and
    /// the symbols' updates are spread over the period. Not during the start-up replay: those states are minutes old and
    /// superseded by the replay itself.
    /// </summary>
    private async Task PublishOpenUpdatesAsync(CancellationToken ct)
    {
        if (!_caughtUp)
        {
            return;
        }

        var now = time.GetUtcNow();
        var period = _options.OpenUpdateInterval;
        var slot = period / OpenUpdateSlots;
        foreach (var entry in _aggregators.Values)
        {
            // A tick that comes a little early must not skip a whole period: a slot's worth of slack.
            if (entry.Source != LiveSource || !entry.OpenChanged || now - entry.LastOpenPublish < period - slot / 2)
            {
                continue;
            }

            entry.OpenChanged = false;
            // The first update places the symbol in its slot (a fixed one per symbol: the next one comes up to a period
            // later than it would have), later ones keep it there.
            entry.LastOpenPublish = entry.LastOpenPublish == DateTimeOffset.MinValue
                ? now + slot * entry.Slot
                : now;
            var intervals = entry.Aggregator.Intervals;
            for (var i = 0; i < intervals.Count; i++)
            {
                // A trade dropped as late by one interval leaves that interval's open kline as it was: not re-sent.
                if (entry.Aggregator.OpenKline(intervals[i]) is { } open && open != entry.LastOpenPublished[i])
                {
                    await PublishOpenAsync(open, ct);
                    entry.LastOpenPublished[i] = open;
                }
            }
        }
    }

    /// <summary>
    /// An open-kline update on core NATS (<see cref="Subjects.MarketCandle"/>), not in MARKET_KLINE: every consumer of
    /// that stream (alert, strategy runner, analytics) acts on closed klines only, and 160 stored updates a second they
    /// then discarded were the largest recurring load on a small machine (docs/benchmarks.md section 11); the update
    /// is superseded a second later anyway, so no stream ack is awaited either.
    /// </summary>
    private async Task PublishOpenAsync(KlineRecord kline, CancellationToken ct)
    {
        var subject = Subjects.MarketCandle(kline.Exchange, kline.Interval, kline.Symbol);
        var headers = new NatsHeaders();
        using var activity = NatsTracing.StartPublish(subject, headers);
        var payload = JsonSerializer.SerializeToUtf8Bytes(kline, ContractsJsonContext.Wire.Kline);
        try
        {
            await publisher.Connection.PublishAsync(subject, payload, headers, cancellationToken: ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // NATS away: the next period's update carries the same state and more.
            logger.LogDebug(ex, "Open kline update on {Subject} not sent", subject);
        }
    }

    private async Task PublishClosedAsync(Entry entry, KlineRecord kline, CancellationToken ct)
    {
        var msgId = $"{kline.Exchange}:{kline.Symbol}:{kline.Interval}:{kline.OpenTime.ToUnixTimeMilliseconds()}:closed";
        await PublishAsync(entry, kline, msgId, ct);
        ClosedCounter.Add(1);
    }

    private async Task PublishAsync(Entry entry, KlineRecord kline, string? msgId, CancellationToken ct)
    {
        var subject = Subjects.MarketKline(kline.Exchange, kline.Interval, kline.Symbol);
        var headers = new NatsHeaders();
        if (entry.Source == HistorySource)
        {
            headers[SourceHeader] = HistorySource;
        }

        using var activity = NatsTracing.StartPublish(subject, headers);
        var payload = JsonSerializer.SerializeToUtf8Bytes(kline, ContractsJsonContext.Wire.Kline);
        // On the publishing connection: this runs between trades of the consumer, whose backlog must not hold up the ack.
        await publisher.PublishStoredAsync(subject, payload, msgId, headers, logger, ct);
    }

    private async Task CheckpointAsync(CancellationToken ct)
    {
        var changed = _aggregators.Values.Where(e => e.Dirty).ToList();
        await checkpoints.SaveAsync(
            _lastSeq,
            _lastHistorySeq,
            [.. changed.Select(e => new SavedAggregator(e.Source, e.Aggregator.Snapshot()))],
            ct);
        foreach (var entry in changed)
        {
            entry.Dirty = false;
        }

        _checkpointDue = false;
        _lastCheckpoint = time.GetUtcNow();
    }

    private sealed class Entry(string source, KlineAggregator aggregator)
    {
        public string Source { get; } = source;

        public KlineAggregator Aggregator { get; } = aggregator;

        public bool Dirty { get; set; }

        public DateTimeOffset LastInput { get; set; }

        public bool IdlePublished { get; set; } = true;

        /// <summary>A trade was aggregated since the last open update of this symbol.</summary>
        public bool OpenChanged { get; set; }

        public DateTimeOffset LastOpenPublish { get; set; } = DateTimeOffset.MinValue;

        /// <summary>This symbol's slot of the open-update period (stable: from the name, not the start order).</summary>
        public int Slot { get; } = (int)((uint)StableHash(aggregator.Exchange + ":" + aggregator.Symbol) % OpenUpdateSlots);

        private static int StableHash(string text)
        {
            var hash = 17;
            foreach (var c in text)
            {
                hash = unchecked(hash * 31 + c);
            }
            return hash;
        }

        /// <summary>Per interval (in <see cref="KlineAggregator.Intervals"/> order), the open kline last published.</summary>
        public KlineRecord?[] LastOpenPublished { get; } = new KlineRecord?[aggregator.Intervals.Count];
    }
}
