using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.StrategyRunner.Storage;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// One live strategy: its compiled module, its sandbox (own Wasmtime store), and a JetStream consumer on its kline
/// subject that starts after the strategy's checkpoint (<see cref="StoredStrategy.KlineSequence"/>). Klines are
/// handled one at a time, in stream order; only closed klines reach the strategy, and one whose open time is not after
/// the last delivered one is skipped (a kline published twice).
/// <para>
/// Each kline is one step: <c>on_kline</c>, then its log lines, its orders (pending, with deterministic clientOrderIds)
/// and the checkpoint are committed in one transaction, and only then are the orders sent. A crash before the commit
/// replays the kline to the next owner (nothing of it was recorded); a crash after it does not (the checkpoint moved),
/// and the next owner sends the step's still-pending orders again under the same ids, which the paper engine
/// recognises. So each closed kline is seen once and each order placed once, across crashes and hand-overs.
/// </para>
/// Every call into the strategy and the I/O it causes run under one gate, so fills and klines never interleave. A
/// fault is reported to the partition and ends this instance only.
/// </summary>
internal sealed class RunningStrategy : IAsyncDisposable
{
    private static readonly System.Diagnostics.Metrics.Counter<long> KlinesDelivered =
        QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.strategy.klines", description: "Closed klines delivered to strategies");
    private static readonly System.Diagnostics.Metrics.Counter<long> OrdersSubmitted =
        QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.strategy.orders", description: "Orders strategies placed, by outcome");

    private readonly StoredStrategy _definition;
    private readonly StrategyModule _module;
    private readonly StrategySandbox _sandbox;
    private readonly LiveStrategyHost _host;
    private readonly RunnerServices _services;
    private readonly Func<RunningStrategy, StrategyFault, Task> _onFault;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private DateTimeOffset? _lastOpenTime;
    private ulong? _checkpoint;
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    private RunningStrategy(StoredStrategy definition, StrategyModule module, StrategySandbox sandbox, LiveStrategyHost host,
        RunnerServices services, Func<RunningStrategy, StrategyFault, Task> onFault)
    {
        _definition = definition;
        _module = module;
        _sandbox = sandbox;
        _host = host;
        _services = services;
        _onFault = onFault;
        _lastOpenTime = definition.LastKlineOpenTime;
        _checkpoint = definition.KlineSequence;
    }

    public Guid Id => _definition.Id;

    public Guid UserId => _definition.UserId;

    /// <summary>False once the strategy faulted: its fault is being recorded and the instance removed.</summary>
    public bool IsHealthy => _sandbox.State == StrategyInstanceState.Running;

    /// <summary>
    /// Compiles and initialises the strategy, sends the orders of its last step that have no answer recorded, then
    /// reads its klines from its checkpoint. Returns the fault instead when the module cannot start (init refused its
    /// parameters, trapped, ran out of fuel...).
    /// </summary>
    public static async Task<(RunningStrategy? Running, StrategyFault? Fault)> StartAsync(
        StoredStrategy definition, byte[] moduleBytes, RunnerServices services,
        Func<RunningStrategy, StrategyFault, Task> onFault, CancellationToken ct)
    {
        var module = StrategyModule.TryLoad(moduleBytes, services.Engine, Strategies.Validation.StrategyModuleValidator.DefaultMaxBytes, out var errors);
        if (module is null)
        {
            // Validated at upload; this only happens if the host's ABI changed since.
            return (null, new StrategyFault(StrategyFaultReason.Trap, "The stored module no longer validates: " + string.Join(" ", errors), "instantiate"));
        }
        var host = new LiveStrategyHost(definition.NextHandle, definition.Position);
        StrategySandbox? sandbox = null;
        try
        {
            sandbox = StrategySandbox.Create(module, host, definition.Parameters, services.SandboxOptions);
            var (_, _, logs) = host.Drain();
            await services.Store.AppendLogsAsync(definition.Id, logs, ct);
            if (sandbox.State != StrategyInstanceState.Running)
            {
                var fault = sandbox.Fault!;
                sandbox.Dispose();
                module.Dispose();
                return (null, fault);
            }
            var running = new RunningStrategy(definition, module, sandbox, host, services, onFault);
            // Fails for a market that is no subject (the caller faults it) before anything is sent.
            var consumer = await running.CreateConsumerAsync(ct);
            var pending = await services.Store.PendingOrdersAsync(definition.Id, ct);
            if (pending.Count > 0)
            {
                await running.SendAsync(pending, resent: true, ct);
            }
            running._loop = Task.Run(() => running.ConsumeAsync(consumer), CancellationToken.None);
            return (running, null);
        }
        catch
        {
            // The database or NATS failed half-way: the partition tries again later, so free this attempt's store.
            sandbox?.Dispose();
            module.Dispose();
            throw;
        }
    }

    public static string ConsumerName(Guid strategyId) => $"strategy-{strategyId:N}";

    /// <summary>
    /// The strategy's kline consumer, created afresh from the checkpoint: the stream sequence after the last committed
    /// kline step. Without acknowledgements (the checkpoint is in PostgreSQL, committed with the step), in memory, and
    /// dropped by the server when no owner reads it for a while. Durable by name only because NATS 2.9 applies a
    /// consumer's single filter subject (NATS.Net's ordered consumer sends the filter_subjects list, which 2.9 ignores);
    /// only the owner of the strategy's partition ever touches it.
    /// </summary>
    private async Task<INatsJSConsumer> CreateConsumerAsync(CancellationToken ct)
    {
        var stream = Streams.MarketKline().Name!;
        var name = ConsumerName(Id);
        try
        {
            // Its start cannot be changed in place; an earlier owner's (or a crashed one's) is replaced.
            await _services.JetStream.DeleteConsumerAsync(stream, name, ct);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
        }
        var config = new ConsumerConfig(name)
        {
            DurableName = name,
            FilterSubject = Subjects.MarketKline(_definition.Exchange, _definition.Interval, _definition.Symbol),
            AckPolicy = ConsumerConfigAckPolicy.None,
            MemStorage = true,
            InactiveThreshold = TimeSpan.FromMinutes(5),
        };
        if (_checkpoint is { } sequence)
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence;
            config.OptStartSeq = sequence + 1;
        }
        else
        {
            // Started before checkpoints were stored (migration 0501): from its last kline, or from when it last changed.
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartTime;
            config.OptStartTime = _definition.LastKlineOpenTime ?? _definition.UpdatedAt;
        }
        return await _services.JetStream.CreateOrUpdateConsumerAsync(stream, config, ct);
    }

    private async Task ConsumeAsync(INatsJSConsumer? consumer)
    {
        var ct = _stopping.Token;
        while (!ct.IsCancellationRequested)
        {
            // A consumer in the server's memory is gone after a NATS restart: the missing heartbeats (or the server's
            // 404/409/503) end this read, and the loop creates it again from the checkpoint.
            using var lost = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var options = new NatsJSConsumeOpts
            {
                MaxMsgs = 100,
                IdleHeartbeat = TimeSpan.FromSeconds(5),
                Expires = TimeSpan.FromSeconds(30),
                NotificationHandler = (notification, _) =>
                {
                    if (notification is NatsJSTimeoutNotification or NatsJSProtocolNotification { HeaderCode: 404 or 409 or 503 })
                    {
                        lost.Cancel();
                    }
                    return Task.CompletedTask;
                },
            };
            try
            {
                consumer ??= await CreateConsumerAsync(ct);
                await foreach (var message in consumer.ConsumeAsync<byte[]>(opts: options, cancellationToken: lost.Token))
                {
                    using var activity = NatsTracing.StartProcess(message.Subject, message.Headers);
                    activity?.SetTag("quanttrader.strategy.id", Id);
                    // An amended close (late trades added to a kline already closed, docs/klines.md) is not a new
                    // kline: the strategy stepped on the original close and must see each kline once, so it is skipped
                    // by its header, whatever the open-time check below knows after a restart.
                    var data = message.Headers?.ContainsKey(KlineHeaders.Amendment) == true ? null : message.Data;
                    if (!await HandleKlineAsync(data, message.Metadata?.Sequence.Stream))
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (lost.IsCancellationRequested)
            {
                _services.Logger.LogWarning("Strategy {StrategyId}: its kline consumer is gone; resuming from its checkpoint", Id);
            }
            catch (Exception ex)
            {
                // NATS or the database failed under us: read again from the last committed step after a pause.
                _services.Logger.LogError(ex, "Strategy {StrategyId}: kline consumer failed; resuming from its checkpoint", Id);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            consumer = null;
        }
    }

    /// <summary>Returns false once the strategy has faulted (the loop ends).</summary>
    private async Task<bool> HandleKlineAsync(byte[]? data, ulong? sequence)
    {
        Kline? kline;
        try
        {
            kline = data is null ? null : JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.Kline);
        }
        catch (JsonException ex)
        {
            _services.Logger.LogWarning(ex, "Strategy {StrategyId}: skipping an unreadable kline", Id);
            return true;
        }
        // The subject may carry open klines too; strategies see closed ones only, each once, in order.
        if (kline is not { Closed: true } || (_lastOpenTime is { } last && kline.OpenTime <= last))
        {
            return true;
        }
        // A step, once begun, runs to its end even while this instance is being stopped (its I/O has timeouts).
        var balance = await _services.Balances.ReadAsync(UserId, _definition.Symbol, CancellationToken.None);

        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (_sandbox.State != StrategyInstanceState.Running)
            {
                return false;
            }
            _host.KnownQuoteBalance = balance;
            var result = _sandbox.OnKline(kline);
            KlinesDelivered.Add(1);
            var openTime = kline.OpenTime;
            await StepAsync(index => ClientOrderIds.ForKline(Id, openTime, index), openTime, sequence);
            _lastOpenTime = openTime;
            _checkpoint = sequence ?? _checkpoint;
            if (result.Status == StrategyCallStatus.Faulted)
            {
                await _onFault(this, _sandbox.Fault!);
                return false;
            }
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A fill of one of this strategy's orders, already applied to the stored position.</summary>
    public async Task DeliverFillAsync(FillEvent fill, AppliedFill applied)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            _host.Position = applied.Position;
            if (_sandbox.State != StrategyInstanceState.Running)
            {
                return;
            }
            _host.RunnerLog($"fill: {Wire(fill.Side)} {fill.Quantity} @ {fill.Price}, fee {fill.Fee} {fill.FeeAsset} (order {fill.OrderId}, handle {applied.Handle}); position {applied.Position}");
            var result = _sandbox.OnFill(new StrategyFill(applied.Handle, fill.Side, fill.Price, fill.Quantity, fill.Fee));
            await StepAsync(index => ClientOrderIds.ForFill(Id, fill.Id, index), null, null);
            if (result.Status == StrategyCallStatus.Faulted)
            {
                await _onFault(this, _sandbox.Fault!);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Commits what the last call did (with the kline checkpoint, for a kline), then sends its orders and cancels.</summary>
    private async Task StepAsync(Func<int, string> clientOrderId, DateTimeOffset? klineOpenTime, ulong? sequence)
    {
        var (orders, cancels, logs) = _host.Drain();
        var step = new StrategyStep(logs, [.. orders.Select((o, i) => new StepOrder(o.Handle, o.Request, clientOrderId(i)))],
            _host.NextHandle, klineOpenTime, klineOpenTime is null ? null : sequence);
        await CommitAsync(step);
        await SendAsync(step.Orders, resent: false, CancellationToken.None);
        if (cancels.Count > 0)
        {
            var outcomes = new List<(DateTimeOffset, string, string)>();
            foreach (var handle in cancels)
            {
                var orderId = await _services.Store.FindOrderIdAsync(Id, handle, CancellationToken.None);
                var result = orderId is { } oid
                    ? await _services.Orders.CancelAsync(new CancelOrderRequest(UserId, oid), CancellationToken.None)
                    : "the engine never accepted this order";
                outcomes.Add((DateTimeOffset.UtcNow, "runner", $"cancel #{handle}: {result}"));
            }
            await _services.Store.AppendLogsAsync(Id, outcomes, CancellationToken.None);
        }
    }

    /// <summary>
    /// The step's commit waits out an outage of the database (the sandbox has already taken the call: replaying it to
    /// this instance would call it twice); when this instance is stopped meanwhile, the step is lost here and the next
    /// owner replays it from the checkpoint to a fresh instance.
    /// </summary>
    private async Task CommitAsync(StrategyStep step)
    {
        var backoff = new Backoff();
        while (true)
        {
            try
            {
                await _services.Store.CommitStepAsync(Id, step, CancellationToken.None);
                return;
            }
            catch (Exception ex) when (StrategyPartition.IsTransient(ex) && !_stopping.IsCancellationRequested)
            {
                _services.Logger.LogWarning(ex, "Strategy {StrategyId}: cannot commit its step yet (database unavailable); retrying in {Delay}", Id, backoff.Next);
                await backoff.WaitAsync(_stopping.Token);
            }
        }
    }

    /// <summary>Sends committed orders under their clientOrderIds and records each answer.</summary>
    private async Task SendAsync(IReadOnlyList<StepOrder> orders, bool resent, CancellationToken ct)
    {
        if (orders.Count == 0)
        {
            return;
        }
        var outcomes = new List<(DateTimeOffset, string, string)>();
        foreach (var order in orders)
        {
            var request = order.Request;
            var submit = new SubmitOrderRequest(UserId, Id, _definition.Exchange, _definition.Symbol, request.Side, request.Type,
                TimeInForce.Gtc, request.Quantity, request.Price, null, order.ClientOrderId);
            var outcome = await _services.Orders.SubmitAsync(submit, ct);
            OrdersSubmitted.Add(1, new KeyValuePair<string, object?>("outcome", outcome.Status));
            await _services.Store.SetOrderOutcomeAsync(Id, order.Handle, outcome.OrderId, outcome.Status, outcome.Detail, ct);
            var what = $"order #{order.Handle} {Wire(request.Side)} {Wire(request.Type)} {request.Quantity}{(request.Price is { } p ? $" @ {p}" : "")}";
            var again = resent ? " (sent again after a restart or hand-over)" : "";
            outcomes.Add((DateTimeOffset.UtcNow, "runner", $"{what}: {outcome.Status} — {outcome.Detail}{again}"));
            _services.Logger.LogInformation("Strategy {StrategyId} of {UserId}: {Order}: {Outcome} ({Detail}){Again}", Id, UserId, what, outcome.Status, outcome.Detail, again);
        }
        await _services.Store.AppendLogsAsync(Id, outcomes, ct);
    }

    private static string Wire<T>(T value) where T : Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>
    /// Stops reading klines, lets a step in progress finish, and releases the sandbox. Does not touch the stored status:
    /// the checkpoint is already where the last committed step left it. Safe to call more than once.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // Stopping anyway.
        }
        await _gate.WaitAsync(TimeSpan.FromSeconds(20));
        _sandbox.Dispose();
        _module.Dispose();
        _stopping.Dispose();
    }
}

/// <summary>What every running strategy shares.</summary>
internal sealed record RunnerServices(
    StrategyStore Store,
    INatsJSContext JetStream,
    OrderGateway Orders,
    QuoteBalanceSource Balances,
    StrategyEngine Engine,
    StrategySandboxOptions SandboxOptions,
    ILogger Logger);
