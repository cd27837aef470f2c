using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Rules;
using QuantTrader.Alert.Runtime;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Indicators;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Alert.Partitioning;

/// <summary>
/// The rules of one market partition and their evaluation, while this replica owns the partition: its own
/// <see cref="AlertEngine"/>, fed with the partition's trades and closed klines one message at a time. A message is a
/// step: evaluated and its firings recorded (<see cref="FiringRecorder"/>) under the partition's gate, and only then
/// counted as done in <see cref="TradesSeq"/>/<see cref="KlinesSeq"/>, so a <see cref="Checkpoint"/> taken under the
/// same gate is always a point between steps whose effects are durable.
/// </summary>
public sealed class AlertPartition(int partition, FiringRecorder recorder, StoredKlines klines) : IDisposable
{
    private readonly AlertEngine _engine = new();
    private readonly EvaluationSink _sink = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Set while a step runs and left set if it fails half-way: the engine has then moved past a message whose effects
    // are not all durable, and its memory no longer matches the sequences — no checkpoint may be taken from it.
    private bool _torn;

    public int Partition => partition;

    /// <summary>The last MARKET_RAW sequence fully handled.</summary>
    public ulong TradesSeq { get; private set; }

    /// <summary>The last MARKET_KLINE sequence fully handled.</summary>
    public ulong KlinesSeq { get; private set; }

    public int RuleCount => _engine.Count;

    /// <summary>Starts from a checkpoint: its stream positions, and its memory for the rules loaded next.</summary>
    public void Resume(PartitionCheckpoint checkpoint)
    {
        TradesSeq = checkpoint.TradesSeq;
        KlinesSeq = checkpoint.KlinesSeq;
        _engine.Recall(checkpoint.Memory);
    }

    /// <summary>The rules are loaded: from now on the checkpoint's memory would be stale for a rule added later.</summary>
    public void Started() => _engine.ForgetRecalled();

    /// <summary>Adds a rule unless it is loaded already; an indicator rule starting a new series is warmed up first.</summary>
    public async Task AddAsync(AlertRule rule, CancellationToken ct)
    {
        IReadOnlyList<IndicatorBar>? warmup = null;
        if (rule.Condition.Indicator is { } spec)
        {
            bool needed;
            DateTimeOffset? upTo;
            await _gate.WaitAsync(ct);
            try
            {
                needed = !_engine.Contains(rule.Id) && _engine.NeedsWarmup(rule);
                upTo = _engine.RecalledLastBar(rule);
            }
            finally
            {
                _gate.Release();
            }

            // Outside the gate: a thousand klines from the database must not hold up the partition's trades.
            if (needed)
            {
                warmup = await klines.LatestAsync(rule.Exchange, rule.Symbol, spec.Interval, StoredKlines.WarmupBars, upTo, ct);
            }
        }

        await _gate.WaitAsync(ct);
        try
        {
            if (!_engine.Contains(rule.Id))
            {
                _engine.Add(rule, warmup);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RemoveAsync(Guid id, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _engine.Remove(id);
        }
        finally
        {
            _gate.Release();
        }
    }

    public bool Contains(Guid id) => _engine.Contains(id);

    /// <summary>One MARKET_RAW message: its trades in order, each one's firings recorded before the next is evaluated.</summary>
    public async Task OnTradesAsync(IReadOnlyList<Trade> trades, ulong sequence, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _torn = true;
            foreach (var trade in trades)
            {
                if (trade.Price <= 0)
                {
                    continue;
                }

                _sink.Clear();
                _sink.Trigger = Triggers.Trade(trade);
                _engine.OnTrade(trade.Exchange, trade.Symbol, trade.Price, trade.Time, _sink);
                await RecordAsync(ct);
            }

            TradesSeq = Math.Max(TradesSeq, sequence);
            _torn = false;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One MARKET_KLINE message (a closed live kline, or null for one that is skipped).</summary>
    public async Task OnKlineAsync(KlineRecord? kline, ulong sequence, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _torn = true;
            if (kline is { Closed: true })
            {
                _sink.Clear();
                _sink.Trigger = Triggers.Kline(kline);
                _engine.OnClosedKline(kline, _sink);
                await RecordAsync(ct);
            }

            KlinesSeq = Math.Max(KlinesSeq, sequence);
            _torn = false;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Counts a message as handled without evaluating it (not for this service: another subject, bad JSON).</summary>
    public async Task SkipTradesAsync(ulong sequence, CancellationToken ct) => await OnTradesAsync([], sequence, ct);

    /// <summary>Where the partition stands now, between two steps; null after a step failed half-way (the last saved checkpoint stands).</summary>
    public async Task<PartitionCheckpoint?> CheckpointAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return _torn ? null : new PartitionCheckpoint(TradesSeq, KlinesSeq, _engine.Remember());
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task RecordAsync(CancellationToken ct)
    {
        if (_sink.IsEmpty)
        {
            return Task.CompletedTask;
        }

        return recorder.RecordAsync([.. _sink.Firings], [.. _sink.Rearmed.Select(r => r.Id)], ct);
    }

    public void Dispose() => _gate.Dispose();
}
