using QuantTrader.ServiceDefaults.Storage;
using System.Collections.Concurrent;
using Npgsql;
using NATS.Client.JetStream;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.StrategyRunner.Storage;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// Owns the running strategies of this runner. At start-up it makes sure the streams it reads exist and starts
/// every strategy stored as <c>running</c> again (resuming its durable kline consumer). Start and stop come from
/// the API; a fault moves only that strategy to <c>faulted</c> with its reason and never stops the others.
/// One runner replica owns all strategies (see README: "Strategies and backtests").
/// </summary>
public sealed class StrategySupervisor(
    StrategyStore store,
    INatsJSContext jetStream,
    OrderGateway orders,
    QuoteBalanceSource balances,
    ILogger<StrategySupervisor> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, RunningStrategy> _running = new();
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private RunnerServices? _services;

    /// <summary>Live limits: the sandbox defaults (16 MiB, 10 M fuel and 250 ms per call, 4 orders per call).</summary>
    public static StrategySandboxOptions SandboxOptions { get; } = StrategySandboxOptions.Default;

    /// <summary>Completes once the streams exist and stored running strategies were started again.</summary>
    public Task Ready => _ready.Task;

    public bool IsRunning(Guid strategyId) => _running.ContainsKey(strategyId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _services = new RunnerServices(store, jetStream, orders, balances, StrategyEngine.Shared, SandboxOptions, logger);
        try
        {
            await BootAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down while booting.
        }
    }

    /// <summary>
    /// Makes sure the streams exist and starts every stored running strategy again, and never gives up: NATS or
    /// PostgreSQL unavailable is retried with backoff (a runner that exits takes every user's strategies down),
    /// and a strategy that cannot start for a reason of its own is faulted with that reason while the rest run.
    /// </summary>
    private async Task BootAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff();
        while (true)
        {
            try
            {
                // The kline service owns MARKET_KLINE and the paper engine TRADING, but start order varies:
                // creating them with the same config is idempotent.
                await StreamSetup.EnsureAsync(jetStream, Streams.MarketKline(), logger, stoppingToken);
                await StreamSetup.EnsureAsync(jetStream, Streams.Trading(), logger, stoppingToken);
                break;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "JetStream not ready; retrying in {Delay}", backoff.Next);
                await backoff.WaitAsync(stoppingToken);
            }
        }

        backoff = new Backoff();
        IReadOnlyList<StoredStrategy> pending;
        while (true)
        {
            try
            {
                pending = await store.ListRunningAsync(stoppingToken);
                break;
            }
            catch (Exception ex) when (IsTransient(ex) && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "The database is unavailable: cannot read the stored running strategies; retrying in {Delay}", backoff.Next);
                await backoff.WaitAsync(stoppingToken);
            }
        }

        var total = pending.Count;
        backoff = new Backoff();
        var first = true;
        while (true)
        {
            pending = await StartStoredAsync(pending, stoppingToken);
            if (first)
            {
                // The API need not wait for strategies that are waiting for the database: they keep being retried.
                logger.LogInformation("Strategy runner ready: {Started} of {Count} stored running strategies started again{Waiting}",
                    total - pending.Count, total, pending.Count > 0 ? $", {pending.Count} waiting for the database or NATS" : "");
                _ready.TrySetResult();
                first = false;
            }
            if (pending.Count == 0)
            {
                return;
            }
            logger.LogWarning("{Count} stored running strategies could not be started yet (database or NATS unavailable); retrying in {Delay}", pending.Count, backoff.Next);
            await backoff.WaitAsync(stoppingToken);
        }
    }

    /// <summary>Starts each strategy; returns those that failed for a transient reason, to try again.</summary>
    private async Task<List<StoredStrategy>> StartStoredAsync(IReadOnlyList<StoredStrategy> strategies, CancellationToken stoppingToken)
    {
        var retry = new List<StoredStrategy>();
        foreach (var strategy in strategies)
        {
            await _lifecycle.WaitAsync(stoppingToken);
            try
            {
                // Its owner may have stopped or deleted it while it waited.
                if (_running.ContainsKey(strategy.Id) || (await store.GetAsync(strategy.Id, stoppingToken))?.Status != StrategyStatus.Running)
                {
                    continue;
                }
                await StartLockedAsync(strategy, resume: true, stoppingToken);
            }
            catch (Exception ex) when (IsTransient(ex) && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Strategy {StrategyId} of {UserId} not started yet: the database or NATS is unavailable", strategy.Id, strategy.UserId);
                retry.Add(strategy);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Its own problem (a stored module or market that cannot run): fault it, start the others.
                await FaultUnstartableAsync(strategy, ex, stoppingToken);
            }
            finally
            {
                _lifecycle.Release();
            }
        }
        return retry;
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
            // Still "running" in the database: the next runner start tries it again, which is the safe side.
            logger.LogError(recordFailed, "Strategy {StrategyId}: could not record its fault", strategy.Id);
        }
    }

    /// <summary>Failures of the database or NATS themselves (not of what a strategy asked them to do): worth retrying.</summary>
    internal static bool IsTransient(Exception ex) => DatabaseOutage.Is(ex) || ex switch
    {
        // NATS unreachable or not answering; not its refusals of a request (an invalid subject is a NatsException too).
        NATS.Client.Core.NatsConnectionFailedException or NATS.Client.Core.NatsNoRespondersException or NATS.Client.Core.NatsNoReplyException
            or NATS.Client.Core.NatsTimeoutException or NATS.Client.JetStream.NatsJSApiNoResponseException
            or NATS.Client.JetStream.NatsJSConnectionException or NATS.Client.JetStream.NatsJSTimeoutException => true,
        _ => false,
    };

    /// <summary>Starts (or restarts after a fault) a strategy; returns it as stored afterwards.</summary>
    public async Task<StoredStrategy> StartAsync(StoredStrategy strategy, CancellationToken ct)
    {
        await Ready.WaitAsync(ct);
        await _lifecycle.WaitAsync(ct);
        try
        {
            if (!_running.ContainsKey(strategy.Id))
            {
                await StartLockedAsync(strategy, resume: false, ct);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
        return (await store.GetAsync(strategy.Id, ct))!;
    }

    public async Task<StoredStrategy> StopAsync(StoredStrategy strategy, CancellationToken ct)
    {
        await Ready.WaitAsync(ct);
        await _lifecycle.WaitAsync(ct);
        try
        {
            if (_running.TryRemove(strategy.Id, out var running))
            {
                await running.DisposeAsync();
            }
            await DeleteConsumerAsync(strategy.Id, ct);
            if (strategy.Status != StrategyStatus.Faulted || running is not null)
            {
                await store.SetStatusAsync(strategy.Id, StrategyStatus.Stopped, ct);
            }
            await store.AppendLogsAsync(strategy.Id, [(DateTimeOffset.UtcNow, "runner", "stopped by its owner")], ct);
            logger.LogInformation("Strategy {StrategyId} of {UserId} stopped", strategy.Id, strategy.UserId);
        }
        finally
        {
            _lifecycle.Release();
        }
        return (await store.GetAsync(strategy.Id, ct))!;
    }

    /// <summary>Removes a strategy that is about to be deleted.</summary>
    public async Task ForgetAsync(Guid strategyId, CancellationToken ct)
    {
        await _lifecycle.WaitAsync(ct);
        try
        {
            if (_running.TryRemove(strategyId, out var running))
            {
                await running.DisposeAsync();
            }
            await DeleteConsumerAsync(strategyId, ct);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>A fill of a strategy's order: applied to its position once, then delivered to <c>on_fill</c> if it runs here.</summary>
    public async Task DeliverFillAsync(FillEvent fill, CancellationToken ct)
    {
        var strategy = await store.GetAsync(fill.StrategyId!.Value, ct);
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
        var applied = await store.ApplyFillAsync(fill, ct);
        if (!applied.Applied)
        {
            return;
        }
        if (_running.TryGetValue(strategy.Id, out var running))
        {
            await running.DeliverFillAsync(fill, applied, ct);
        }
    }

    private async Task StartLockedAsync(StoredStrategy strategy, bool resume, CancellationToken ct)
    {
        if (!resume)
        {
            // A fresh start trades from now on: drop the durable consumer of an earlier run.
            await DeleteConsumerAsync(strategy.Id, ct);
        }
        var module = await store.GetModuleAsync(strategy.Id, ct);
        RunningStrategy? running;
        StrategyFault? fault;
        try
        {
            (running, fault) = await RunningStrategy.StartAsync(strategy, module, _services!, OnFaultAsync, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !IsTransient(ex))
        {
            logger.LogError(ex, "Strategy {StrategyId} could not be started", strategy.Id);
            throw;
        }
        if (fault is not null)
        {
            await RecordFaultAsync(strategy.Id, strategy.UserId, fault, ct);
            return;
        }
        _running[strategy.Id] = running!;
        await store.SetStatusAsync(strategy.Id, StrategyStatus.Running, ct);
        await store.AppendLogsAsync(strategy.Id, [(DateTimeOffset.UtcNow, "runner",
            resume ? "started again after a runner restart" : $"started on {Subjects.MarketKline(strategy.Exchange, strategy.Interval, strategy.Symbol)}")], ct);
        logger.LogInformation("Strategy {StrategyId} of {UserId} running on {Exchange} {Symbol} {Interval}{Resumed}",
            strategy.Id, strategy.UserId, strategy.Exchange, strategy.Symbol, strategy.Interval, resume ? " (resumed)" : "");
    }

    private async Task OnFaultAsync(RunningStrategy running, StrategyFault fault)
    {
        _running.TryRemove(running.Id, out _);
        // The fault must reach the database even if it is down right now: otherwise the strategy stays "running"
        // there and nobody learns why it stopped. Retried until it lands or the runner stops.
        var backoff = new Backoff();
        while (true)
        {
            try
            {
                await RecordFaultAsync(running.Id, running.UserId, fault, _stopping.Token);
                await DeleteConsumerAsync(running.Id, _stopping.Token);
                break;
            }
            catch (Exception ex) when (IsTransient(ex) && !_stopping.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Strategy {StrategyId}: cannot record its fault yet (database or NATS unavailable); retrying in {Delay}", running.Id, backoff.Next);
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
        // Called from inside the strategy's own loop or gate: release it once that call has returned.
        _ = Task.Run(async () => await running.DisposeAsync());
    }

    private async Task RecordFaultAsync(Guid strategyId, Guid userId, StrategyFault fault, CancellationToken ct)
    {
        var reason = StrategyStore.FaultReasonName(fault.Reason);
        await store.SetFaultedAsync(strategyId, fault, ct);
        await store.AppendLogsAsync(strategyId, [(DateTimeOffset.UtcNow, "runner", $"faulted ({reason}) in {fault.Call}: {fault.Message}")], ct);
        logger.LogWarning("Strategy {StrategyId} of {UserId} faulted ({Reason}) in {Call}: {Message}",
            strategyId, userId, reason, fault.Call, fault.Message);
    }

    private async Task DeleteConsumerAsync(Guid strategyId, CancellationToken ct)
    {
        try
        {
            await jetStream.DeleteConsumerAsync(Streams.MarketKline().Name!, RunningStrategy.ConsumerName(strategyId), ct);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            // Never started, or already gone.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await base.StopAsync(cancellationToken);
        // Shutting down is not stopping: the stored status stays "running", so the next runner starts them again.
        foreach (var id in _running.Keys)
        {
            if (_running.TryRemove(id, out var running))
            {
                await running.DisposeAsync();
            }
        }
    }
}
