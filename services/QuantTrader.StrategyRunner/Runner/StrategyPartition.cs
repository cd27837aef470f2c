using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.ServiceDefaults.Storage;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.StrategyRunner.Storage;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// The running strategies of one user partition while this replica owns it. It keeps them in line with what is stored
/// (<see cref="ReconcileAllAsync"/>, <see cref="ReconcileAsync"/>): a strategy stored as <c>running</c> runs here, any
/// other is stopped. A fault moves only that strategy to <c>faulted</c> with its reason and never stops the others.
/// </summary>
internal sealed class StrategyPartition(int partition, RunnerServices services, ILogger logger)
{
    private readonly Dictionary<Guid, RunningStrategy> _running = [];
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Live limits: the sandbox defaults (16 MiB, 10 M fuel and 250 ms per call, 4 orders per call).</summary>
    public static StrategySandboxOptions SandboxOptions { get; } = StrategySandboxOptions.Default;

    public int Partition => partition;

    /// <summary>Failures of the database or NATS themselves (not of what a strategy asked them to do): worth retrying.</summary>
    internal static bool IsTransient(Exception ex) => DatabaseOutage.Is(ex) || ex switch
    {
        // NATS unreachable or not answering; not its refusals of a request (an invalid subject is a NatsException too).
        NATS.Client.Core.NatsConnectionFailedException or NATS.Client.Core.NatsNoRespondersException or NATS.Client.Core.NatsNoReplyException
            or NATS.Client.Core.NatsTimeoutException or NATS.Client.JetStream.NatsJSApiNoResponseException
            or NATS.Client.JetStream.NatsJSConnectionException or NATS.Client.JetStream.NatsJSTimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// Starts every stored running strategy of the partition that does not run here yet (<paramref name="note"/> goes
    /// to its log) and stops those that are no longer stored as running. Returns how many could not start for a
    /// transient reason (the next round tries again).
    /// </summary>
    public async Task<int> ReconcileAllAsync(string note, CancellationToken ct)
    {
        var stored = await services.Store.ListRunningAsync(partition, ct);
        var waiting = 0;
        foreach (var strategy in stored)
        {
            if (!await TryStartAsync(strategy.Id, note, ct))
            {
                waiting++;
            }
        }
        var storedIds = stored.Select(s => s.Id).ToHashSet();
        foreach (var id in (await SnapshotAsync(ct)).Where(id => !storedIds.Contains(id)))
        {
            await ReconcileAsync(id, ct);
        }
        return waiting;
    }

    /// <summary>Brings one strategy in line with its stored status (a start, stop or delete through the API).</summary>
    public async Task ReconcileAsync(Guid strategyId, CancellationToken ct)
    {
        var stored = await services.Store.GetAsync(strategyId, ct);
        if (stored is { Status: StrategyStatus.Running } && Partitions.OfUser(stored.UserId) == partition)
        {
            await TryStartAsync(strategyId, null, ct);
            return;
        }
        await _lifecycle.WaitAsync(ct);
        try
        {
            if (_running.Remove(strategyId, out var running))
            {
                await running.DisposeAsync();
                logger.LogInformation("Strategy {StrategyId} stopped ({Status})", strategyId, stored?.Status ?? "deleted");
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>False when it could not start for a transient reason (database or NATS unavailable).</summary>
    private async Task<bool> TryStartAsync(Guid strategyId, string? note, CancellationToken ct)
    {
        await _lifecycle.WaitAsync(ct);
        StoredStrategy? strategy = null;
        try
        {
            if (_running.ContainsKey(strategyId))
            {
                return true;
            }
            // Read under the lock: a stop or a delete may have come in since the caller looked.
            strategy = await services.Store.GetAsync(strategyId, ct);
            if (strategy is not { Status: StrategyStatus.Running } || Partitions.OfUser(strategy.UserId) != partition)
            {
                return true;
            }
            await StartLockedAsync(strategy, note, ct);
            return true;
        }
        catch (Exception ex) when (IsTransient(ex) && !ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Strategy {StrategyId} not started yet: the database or NATS is unavailable", strategyId);
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && strategy is not null)
        {
            // Its own problem (a stored module or market that cannot run): fault it, start the others.
            await FaultUnstartableAsync(strategy, ex, ct);
            return true;
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StartLockedAsync(StoredStrategy strategy, string? note, CancellationToken ct)
    {
        var module = await services.Store.GetModuleAsync(strategy.Id, ct);
        var (running, fault) = await RunningStrategy.StartAsync(strategy, module, services, OnFaultAsync, ct);
        if (fault is not null)
        {
            await RecordFaultAsync(strategy.Id, strategy.UserId, fault, ct);
            return;
        }
        _running[strategy.Id] = running!;
        if (note is not null)
        {
            await services.Store.AppendLogsAsync(strategy.Id, [(DateTimeOffset.UtcNow, "runner", note)], ct);
        }
        logger.LogInformation("Strategy {StrategyId} of {UserId} running on {Exchange} {Symbol} {Interval} (partition {Partition}, from kline sequence {Sequence})",
            strategy.Id, strategy.UserId, strategy.Exchange, strategy.Symbol, strategy.Interval, partition, strategy.KlineSequence);
    }

    private async Task FaultUnstartableAsync(StoredStrategy strategy, Exception ex, CancellationToken ct)
    {
        logger.LogError(ex, "Strategy {StrategyId} of {UserId} cannot start again; marking it faulted", strategy.Id, strategy.UserId);
        var fault = new StrategyFault(StrategyFaultReason.Trap, $"The runner could not start it again: {ex.GetType().Name}: {ex.Message}", "instantiate");
        try
        {
            await RecordFaultAsync(strategy.Id, strategy.UserId, fault, ct);
        }
        catch (Exception recordFailed) when (recordFailed is not OperationCanceledException)
        {
            // Still "running" in the database: the next round tries it again, which is the safe side.
            logger.LogError(recordFailed, "Strategy {StrategyId}: could not record its fault", strategy.Id);
        }
    }

    /// <summary>
    /// Called from inside the strategy's own step: records the fault (retried until it lands: otherwise the strategy
    /// stays "running" in the database and nobody learns why it stopped), then removes the instance once that step has
    /// returned. Until then it stays registered, so a reconcile does not start it a second time.
    /// </summary>
    private async Task OnFaultAsync(RunningStrategy running, StrategyFault fault)
    {
        var backoff = new Backoff();
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await RecordFaultAsync(running.Id, running.UserId, fault, _stopping.Token);
                break;
            }
            catch (Exception ex) when (IsTransient(ex) && !_stopping.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Strategy {StrategyId}: cannot record its fault yet (database unavailable); retrying in {Delay}", running.Id, backoff.Next);
                try
                {
                    await backoff.WaitAsync(_stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        _ = Task.Run(async () =>
        {
            await _lifecycle.WaitAsync();
            try
            {
                if (_running.TryGetValue(running.Id, out var current) && current == running)
                {
                    _running.Remove(running.Id);
                }
            }
            finally
            {
                _lifecycle.Release();
            }
            await running.DisposeAsync();
        });
    }

    private async Task RecordFaultAsync(Guid strategyId, Guid userId, StrategyFault fault, CancellationToken ct)
    {
        var reason = StrategyStore.FaultReasonName(fault.Reason);
        await services.Store.SetFaultedAsync(strategyId, fault, ct);
        await services.Store.AppendLogsAsync(strategyId, [(DateTimeOffset.UtcNow, "runner", $"faulted ({reason}) in {fault.Call}: {fault.Message}")], ct);
        logger.LogWarning("Strategy {StrategyId} of {UserId} faulted ({Reason}) in {Call}: {Message}",
            strategyId, userId, reason, fault.Call, fault.Message);
    }

    /// <summary>A fill of a strategy's order: applied to its position once (by fill id), then delivered to <c>on_fill</c> if it runs here.</summary>
    public async Task DeliverFillAsync(FillEvent fill, CancellationToken ct)
    {
        var strategy = await services.Store.GetAsync(fill.StrategyId!.Value, ct);
        if (strategy is null)
        {
            return;
        }
        if (strategy.UserId != fill.UserId)
        {
            // A strategy acts only for its owner; a fill naming it for someone else is not its fill.
            logger.LogWarning("Fill {FillId} names strategy {StrategyId} but user {UserId}, not its owner; ignored", fill.Id, fill.StrategyId, fill.UserId);
            return;
        }
        var applied = await services.Store.ApplyFillAsync(fill, ct);
        if (!applied.Applied)
        {
            return;
        }
        RunningStrategy? running;
        await _lifecycle.WaitAsync(ct);
        try
        {
            _running.TryGetValue(strategy.Id, out running);
        }
        finally
        {
            _lifecycle.Release();
        }
        if (running is { IsHealthy: true })
        {
            await running.DeliverFillAsync(fill, applied);
        }
    }

    /// <summary>Hand-over or shutdown: every strategy finishes its step in progress and stops; stored statuses stay as they are.</summary>
    public async Task StopAllAsync()
    {
        await _stopping.CancelAsync();
        await _lifecycle.WaitAsync();
        try
        {
            await Task.WhenAll(_running.Values.Select(r => r.DisposeAsync().AsTask()));
            _running.Clear();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task<List<Guid>> SnapshotAsync(CancellationToken ct)
    {
        await _lifecycle.WaitAsync(ct);
        try
        {
            return [.. _running.Keys];
        }
        finally
        {
            _lifecycle.Release();
        }
    }
}
