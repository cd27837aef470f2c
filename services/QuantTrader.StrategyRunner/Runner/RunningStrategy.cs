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
/// One live strategy: its compiled module, its sandbox (own Wasmtime store), and a durable JetStream consumer
/// <c>strategy-{id}</c> on its kline subject. Klines are handled one at a time, in stream order; only closed klines
/// reach the strategy, and one whose open time is not after the last delivered one is skipped (redelivery,
/// a kline published twice). Every call into the strategy and the I/O it causes run under one gate, so fills and
/// klines never interleave. A fault is reported to the supervisor and ends this instance only.
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
    private Task _loop = Task.CompletedTask;

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
    }

    public Guid Id => _definition.Id;

    public Guid UserId => _definition.UserId;

    public static string ConsumerName(Guid strategyId) => $"strategy-{strategyId:N}";

    /// <summary>
    /// Compiles and initialises the strategy, then subscribes it to its klines. Returns the fault instead when
    /// the module cannot start (init refused its parameters, trapped, ran out of fuel...).
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
            var consumer = await CreateConsumerAsync(definition, services, ct);
            running._loop = Task.Run(() => running.ConsumeAsync(consumer), CancellationToken.None);
            return (running, null);
        }
        catch
        {
            // The database or NATS failed half-way: the supervisor tries again later, so free this attempt's store.
            sandbox?.Dispose();
            module.Dispose();
            throw;
        }
    }

    private static async Task<INatsJSConsumer> CreateConsumerAsync(StoredStrategy definition, RunnerServices services, CancellationToken ct) =>
        await services.JetStream.CreateOrUpdateConsumerAsync(Streams.MarketKline().Name!, new ConsumerConfig(ConsumerName(definition.Id))
        {
            FilterSubject = Subjects.MarketKline(definition.Exchange, definition.Interval, definition.Symbol),
            // A strategy started now trades from now on; a durable that already exists (a runner restart) resumes
            // where it stopped, so no closed kline is missed while the runner was down.
            DeliverPolicy = ConsumerConfigDeliverPolicy.New,
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = TimeSpan.FromSeconds(60),
            // One kline in flight: strict order even when one is redelivered.
            MaxAckPending = 1,
        }, ct);

    private async Task ConsumeAsync(INatsJSConsumer consumer)
    {
        var ct = _stopping.Token;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: ct))
                {
                    using var activity = NatsTracing.StartProcess(message.Subject, message.Headers);
                    activity?.SetTag("quanttrader.strategy.id", Id);
                    var done = await HandleKlineAsync(message.Data, ct);
                    await message.AckAsync(cancellationToken: ct);
                    if (!done)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // NATS or the database failed under us: the unacknowledged kline comes again after a pause.
                _services.Logger.LogError(ex, "Strategy {StrategyId}: kline consumer failed; retrying", Id);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Returns false once the strategy has faulted (the loop ends).</summary>
    private async Task<bool> HandleKlineAsync(byte[]? data, CancellationToken ct)
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
        // The subject carries open klines too; strategies see closed ones only, each once, in order.
        if (kline is not { Closed: true } || (_lastOpenTime is { } last && kline.OpenTime <= last))
        {
            return true;
        }
        var balance = await _services.Balances.ReadAsync(UserId, _definition.Symbol, ct);

        await _gate.WaitAsync(ct);
        try
        {
            if (_sandbox.State != StrategyInstanceState.Running)
            {
                return false;
            }
            _host.KnownQuoteBalance = balance;
            var result = _sandbox.OnKline(kline);
            _lastOpenTime = kline.OpenTime;
            KlinesDelivered.Add(1);
            await _services.Store.SetLastKlineAsync(Id, kline.OpenTime, ct);
            await FlushAsync(ct);
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
    public async Task DeliverFillAsync(FillEvent fill, AppliedFill applied, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _host.Position = applied.Position;
            if (_sandbox.State != StrategyInstanceState.Running)
            {
                return;
            }
            _host.RunnerLog($"fill: {Wire(fill.Side)} {fill.Quantity} @ {fill.Price}, fee {fill.Fee} {fill.FeeAsset} (order {fill.OrderId}, handle {applied.Handle}); position {applied.Position}");
            var result = _sandbox.OnFill(new StrategyFill(applied.Handle, fill.Side, fill.Price, fill.Quantity, fill.Fee));
            await FlushAsync(ct);
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

    /// <summary>Submits what the last call queued and stores its log lines.</summary>
    private async Task FlushAsync(CancellationToken ct)
    {
        var (orders, cancels, logs) = _host.Drain();
        await _services.Store.AppendLogsAsync(Id, logs, ct);
        if (orders.Count > 0)
        {
            await _services.Store.AddOrdersAsync(Id, orders, _host.NextHandle, ct);
        }
        var outcomes = new List<(DateTimeOffset, string, string)>();
        foreach (var order in orders)
        {
            var request = order.Request;
            var submit = new SubmitOrderRequest(UserId, Id, _definition.Exchange, _definition.Symbol, request.Side, request.Type,
                TimeInForce.Gtc, request.Quantity, request.Price, null, null);
            var outcome = await _services.Orders.SubmitAsync(submit, ct);
            OrdersSubmitted.Add(1, new KeyValuePair<string, object?>("outcome", outcome.Status));
            await _services.Store.SetOrderOutcomeAsync(Id, order.Handle, outcome.OrderId, outcome.Status, outcome.Detail, ct);
            var what = $"order #{order.Handle} {Wire(request.Side)} {Wire(request.Type)} {request.Quantity}{(request.Price is { } p ? $" @ {p}" : "")}";
            outcomes.Add((DateTimeOffset.UtcNow, "runner", $"{what}: {outcome.Status} — {outcome.Detail}"));
            _services.Logger.LogInformation("Strategy {StrategyId} of {UserId}: {Order}: {Outcome} ({Detail})", Id, UserId, what, outcome.Status, outcome.Detail);
        }
        foreach (var handle in cancels)
        {
            var orderId = await _services.Store.FindOrderIdAsync(Id, handle, ct);
            var result = orderId is { } oid
                ? await _services.Orders.CancelAsync(new CancelOrderRequest(UserId, oid), ct)
                : "the engine never accepted this order";
            outcomes.Add((DateTimeOffset.UtcNow, "runner", $"cancel #{handle}: {result}"));
        }
        await _services.Store.AppendLogsAsync(Id, outcomes, ct);
    }

    private static string Wire<T>(T value) where T : Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>Stops consuming and releases the sandbox. Does not touch the stored status or the durable consumer.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // Stopping anyway.
        }
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
