using System.Text;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Abi;
using Wasmtime;

namespace QuantTrader.Strategies.Sandbox;

/// <summary>
/// One running strategy: its own Wasmtime <see cref="Store"/> (so its memory, globals and faults are its own),
/// a memory limit, fuel and a wall-clock deadline per call, and checked, rate-limited host calls that go to the
/// integrator's <see cref="IStrategyHost"/>. Nothing the strategy does escapes as an exception: a trap, running
/// out of fuel or memory, or a timeout moves the instance to <see cref="StrategyInstanceState.Faulted"/> with a
/// <see cref="StrategyFault"/>, and every later call returns <see cref="StrategyCallStatus.NotRunning"/>.
/// Calls are serialised per instance; different instances run independently on any threads.
/// </summary>
public sealed class StrategySandbox : IDisposable
{
    private readonly StrategyModule _module;
    private readonly IStrategyHost _host;
    private readonly StrategySandboxOptions _options;
    private readonly Lock _gate = new();
    private readonly ulong _deadlineTicks;

    private Store? _store;
    private Linker? _linker;
    private Memory? _memory;
    private Func<long, double, double, double, double, double, int>? _onKline;
    private Func<long, int, double, double, double, int>? _onFill;

    // Per-call host-call accounting, reset at the start of every call.
    private string _currentCall = "instantiate";
    private bool _ordersAllowed;
    private int _ordersThisCall;
    private int _cancelsThisCall;
    private int _logsThisCall;
    private int _logsDropped;

    private StrategySandbox(StrategyModule module, IStrategyHost host, StrategySandboxOptions options)
    {
        _module = module;
        _host = host;
        _options = options;
        _deadlineTicks = module.Engine.TicksFor(options.CallTimeout);
    }

    public StrategyInstanceState State { get; private set; } = StrategyInstanceState.Running;

    /// <summary>Why the instance stopped; null while running.</summary>
    public StrategyFault? Fault { get; private set; }

    /// <summary>Fuel the last call consumed (a deterministic cost measure).</summary>
    public ulong LastCallFuel { get; private set; }

    /// <summary>
    /// Instantiates the module in a fresh store and runs <c>init</c> with <paramref name="parametersJson"/>.
    /// Never throws for anything the strategy does; check <see cref="State"/> afterwards.
    /// </summary>
    public static StrategySandbox Create(StrategyModule module, IStrategyHost host, string? parametersJson = null, StrategySandboxOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(host);
        var sandbox = new StrategySandbox(module, host, options ?? StrategySandboxOptions.Default);
        lock (sandbox._gate)
        {
            sandbox.Start(parametersJson ?? "");
        }
        return sandbox;
    }

    /// <summary>Delivers one closed kline. Klines that are not closed are not delivered (the ABI promises closed ones).</summary>
    public StrategyCallResult OnKline(Kline kline)
    {
        ArgumentNullException.ThrowIfNull(kline);
        if (!kline.Closed)
        {
            return new StrategyCallResult(StrategyCallStatus.NotRunning, 0, 0);
        }
        return OnKline(kline.OpenTime.ToUnixTimeMilliseconds(), (double)kline.Open, (double)kline.High, (double)kline.Low,
            (double)kline.Close, (double)kline.Volume);
    }

    /// <summary>Delivers one closed kline given as the ABI's raw values.</summary>
    public StrategyCallResult OnKline(long openTimeMs, double open, double high, double low, double close, double volume)
    {
        lock (_gate)
        {
            var onKline = _onKline;
            if (State != StrategyInstanceState.Running || onKline is null)
            {
                return new StrategyCallResult(StrategyCallStatus.NotRunning, 0, 0);
            }
            // Inlined rather than going through Invoke: no closure allocation on the per-kline hot path.
            BeginCall(StrategyAbi.Exports.OnKline, ordersAllowed: true);
            try
            {
                return EndCall(onKline(openTimeMs, open, high, low, close, volume));
            }
            catch (Exception ex) when (ex is WasmtimeException or StrategyHostTrapException)
            {
                return EndCallFaulted(ex);
            }
            finally
            {
                _ordersAllowed = false;
            }
        }
    }

    /// <summary>Tells the strategy about a fill of one of its orders; a no-op for modules without <c>on_fill</c>.</summary>
    public StrategyCallResult OnFill(StrategyFill fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        lock (_gate)
        {
            if (State != StrategyInstanceState.Running)
            {
                return new StrategyCallResult(StrategyCallStatus.NotRunning, 0, 0);
            }
            var onFill = _onFill;
            if (onFill is null)
            {
                return new StrategyCallResult(StrategyCallStatus.Ok, 0, 0);
            }
            var side = fill.Side == OrderSide.Buy ? StrategyAbi.SideBuy : StrategyAbi.SideSell;
            return Invoke(StrategyAbi.Exports.OnFill, ordersAllowed: true,
                () => onFill(fill.Handle, side, (double)fill.Price, (double)fill.Quantity, (double)fill.Fee));
        }
    }

    private void Start(string parametersJson)
    {
        var store = new Store(_module.Engine.Engine);
        _store = store;
        _options.ApplyLimits(store);

        // Checked before instantiating so the reason is Memory, not a generic instantiation error.
        if (_module.MinimumMemoryBytes > _options.MemoryLimitBytes)
        {
            MarkFaulted(StrategyFaultReason.Memory,
                $"The module needs {_module.MinimumMemoryBytes} bytes of memory to start; the limit is {_options.MemoryLimitBytes}.");
            return;
        }
        var parameters = Encoding.UTF8.GetBytes(parametersJson);
        if (parameters.Length > _options.MaxParametersBytes)
        {
            MarkFaulted(StrategyFaultReason.InitFailed,
                $"Parameters are {parameters.Length} bytes; the limit is {_options.MaxParametersBytes}.");
            return;
        }

        _linker = CreateLinker();
        Instance? instance = null;
        var started = Invoke("instantiate", ordersAllowed: false, () =>
        {
            instance = _linker.Instantiate(store, _module.Module);
            return 0;
        });
        if (started.Status != StrategyCallStatus.Ok || instance is null)
        {
            return;
        }

        _memory = instance.GetMemory(StrategyAbi.Exports.Memory);
        _onKline = instance.GetFunction<long, double, double, double, double, double, int>(StrategyAbi.Exports.OnKline);
        _onFill = instance.GetFunction<long, int, double, double, double, int>(StrategyAbi.Exports.OnFill);
        var init = instance.GetFunction<int, int, int>(StrategyAbi.Exports.Init);
        var alloc = instance.GetFunction<int, int>(StrategyAbi.Exports.Alloc);
        if (init is null)
        {
            return;
        }

        var pointer = 0;
        var length = 0;
        if (parameters.Length > 0 && alloc is not null)
        {
            var allocated = Invoke(StrategyAbi.Exports.Alloc, ordersAllowed: false, () => alloc(parameters.Length));
            if (allocated.Status != StrategyCallStatus.Ok)
            {
                return;
            }
            pointer = allocated.ReturnCode;
            var memory = _memory!;
            if (pointer < 0 || (long)pointer + parameters.Length > memory.GetLength())
            {
                MarkFaulted(StrategyFaultReason.Trap,
                    $"alloc({parameters.Length}) returned {pointer}, which is outside the module's memory.");
                return;
            }
            parameters.CopyTo(memory.GetSpan(pointer, parameters.Length));
            length = parameters.Length;
        }

        var result = Invoke(StrategyAbi.Exports.Init, ordersAllowed: false, () => init(pointer, length));
        if (result.Status == StrategyCallStatus.Ok && result.ReturnCode != 0)
        {
            MarkFaulted(StrategyFaultReason.InitFailed, $"init returned {result.ReturnCode} (the strategy refused its parameters).");
        }
    }

    private StrategyCallResult Invoke(string call, bool ordersAllowed, Func<int> body)
    {
        BeginCall(call, ordersAllowed);
        try
        {
            return EndCall(body());
        }
        catch (Exception ex) when (ex is WasmtimeException or StrategyHostTrapException)
        {
            return EndCallFaulted(ex);
        }
        finally
        {
            _ordersAllowed = false;
        }
    }

    private void BeginCall(string call, bool ordersAllowed)
    {
        var store = _store!;
        _currentCall = call;
        _ordersAllowed = ordersAllowed;
        _ordersThisCall = 0;
        _cancelsThisCall = 0;
        _logsThisCall = 0;
        _logsDropped = 0;
        // Budgets are reset, not topped up: every call gets exactly the same fuel, whatever earlier calls used.
        store.Fuel = _options.FuelPerCall;
        store.SetEpochDeadline(_deadlineTicks);
    }

    private StrategyCallResult EndCall(int code)
    {
        LastCallFuel = _options.FuelPerCall - _store!.Fuel;
        if (_logsDropped > 0)
        {
            FlushDroppedLogs();
        }
        return new StrategyCallResult(StrategyCallStatus.Ok, code, LastCallFuel);
    }

    private StrategyCallResult EndCallFaulted(Exception ex)
    {
        LastCallFuel = _options.FuelPerCall - SafeFuel(_store!);
        var (reason, message) = Classify(ex);
        MarkFaulted(reason, message);
        return new StrategyCallResult(StrategyCallStatus.Faulted, 0, LastCallFuel);
    }

    private (StrategyFaultReason Reason, string Message) Classify(Exception ex)
    {
        var message = Describe(ex);
        // A trap while the memory cannot grow any further is (almost always) the allocator giving up, and a
        // loop that keeps asking for memory ends in fuel or timeout: either way memory is the cause to report.
        if (ExceedsStoreLimits(message))
        {
            return (StrategyFaultReason.Memory,
                $"The module asks for more than its limits (memory {_options.MemoryLimitBytes} bytes, tables of {_options.TableElementsLimit} elements, one memory, one table): {message}");
        }
        if (MemoryExhausted())
        {
            return (StrategyFaultReason.Memory,
                $"Memory limit of {_options.MemoryLimitBytes} bytes reached; then: {message}");
        }
        var reason = ex is TrapException trap
            ? trap.Type switch
            {
                TrapCode.OutOfFuel => StrategyFaultReason.Fuel,
                TrapCode.Interrupt => StrategyFaultReason.Timeout,
                _ => StrategyFaultReason.Trap,
            }
            : StrategyFaultReason.Trap;
        return reason switch
        {
            StrategyFaultReason.Fuel => (reason, $"Used all {_options.FuelPerCall} fuel in one call. {message}"),
            StrategyFaultReason.Timeout => (reason, $"Ran longer than {_options.CallTimeout.TotalMilliseconds} ms in one call. {message}"),
            _ => (reason, message),
        };
    }

    private static string Describe(Exception ex)
    {
        // A host function that throws surfaces as a WasmtimeException wrapping it; report the inner cause.
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is StrategyHostTrapException hostTrap)
            {
                return hostTrap.Message;
            }
        }
        return WasmErrorText.Cause(ex.Message);
    }

    /// <summary>Wasmtime's words when instantiating would pass a store limit (a declared minimum, a second memory or table).</summary>
    private static bool ExceedsStoreLimits(string message) =>
        message.Contains("exceeds memory limits", StringComparison.Ordinal)
        || message.Contains("exceeds table limits", StringComparison.Ordinal)
        || message.Contains("resource limit exceeded", StringComparison.Ordinal);

    private bool MemoryExhausted()
    {
        try
        {
            return _memory is { } memory && memory.GetLength() + Memory.PageSize > _options.MemoryLimitBytes;
        }
        catch (WasmtimeException)
        {
            return false;
        }
    }

    private static ulong SafeFuel(Store store)
    {
        try
        {
            return store.Fuel;
        }
        catch (WasmtimeException)
        {
            return 0;
        }
    }

    private void MarkFaulted(StrategyFaultReason reason, string message)
    {
        Fault = new StrategyFault(reason, message, _currentCall);
        State = StrategyInstanceState.Faulted;
        _onKline = null;
        _onFill = null;
        FlushDroppedLogs();
        // Release the faulted instance's memory now rather than when the runner gets round to disposing it.
        ReleaseStore();
    }

    private void ReleaseStore()
    {
        _memory = null;
        _linker?.Dispose();
        _linker = null;
        _store?.Dispose();
        _store = null;
    }

    // ---- host functions --------------------------------------------------------------------------------------

    private Linker CreateLinker()
    {
        var linker = new Linker(_module.Engine.Engine);
        linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.PlaceOrder,
            (int side, int type, double quantity, double price) => PlaceOrder(side, type, quantity, price));
        linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.CancelOrder, (long handle) => CancelOrder(handle));
        linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.Position, () => ReadHost(() => _host.Position));
        linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.QuoteBalance, () => ReadHost(() => _host.QuoteBalance));
        linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.Log, (Caller caller, int pointer, int length) => Log(caller, pointer, length));
        linker.DefineFunction(StrategyAbi.Imports.AbortModule, StrategyAbi.Imports.Abort,
            (Caller caller, int message, int file, int line, int column) => Abort(caller, message, file, line, column));
        return linker;
    }

    private long PlaceOrder(int side, int type, double quantity, double price)
    {
        if (!_ordersAllowed)
        {
            return StrategyErrorCodes.NotAllowedNow;
        }
        if (side is not (StrategyAbi.SideBuy or StrategyAbi.SideSell) || type is not (StrategyAbi.TypeMarket or StrategyAbi.TypeLimit))
        {
            return StrategyErrorCodes.InvalidArgument;
        }
        var orderSide = side == StrategyAbi.SideBuy ? OrderSide.Buy : OrderSide.Sell;
        var orderType = type == StrategyAbi.TypeMarket ? OrderType.Market : OrderType.Limit;
        if (!TryToDecimal(quantity, out var rawQuantity))
        {
            return StrategyErrorCodes.InvalidArgument;
        }
        var roundedQuantity = _options.Instrument.RoundQuantity(rawQuantity);
        if (roundedQuantity <= 0)
        {
            return StrategyErrorCodes.InvalidArgument;
        }
        decimal? limitPrice = null;
        if (orderType == OrderType.Limit)
        {
            if (!TryToDecimal(price, out var rawPrice))
            {
                return StrategyErrorCodes.InvalidArgument;
            }
            var rounded = _options.Instrument.RoundPrice(rawPrice, orderSide);
            if (rounded <= 0)
            {
                return StrategyErrorCodes.InvalidArgument;
            }
            limitPrice = rounded;
        }
        if (_ordersThisCall >= _options.MaxOrdersPerCall)
        {
            return StrategyErrorCodes.RateLimited;
        }
        _ordersThisCall++;
        try
        {
            var handle = _host.PlaceOrder(new StrategyOrderRequest(orderSide, orderType, roundedQuantity, limitPrice));
            return handle > 0 ? handle : StrategyErrorCodes.Rejected;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The integrator's failure is not the strategy's fault: it gets an error code and keeps running.
            SafeHostLog($"place_order failed in the host: {ex.GetType().Name}");
            return StrategyErrorCodes.HostError;
        }
    }

    private int CancelOrder(long handle)
    {
        if (!_ordersAllowed || handle <= 0 || _cancelsThisCall >= _options.MaxCancelsPerCall)
        {
            return 0;
        }
        _cancelsThisCall++;
        try
        {
            return _host.Cancel(handle) ? 1 : 0;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            SafeHostLog($"cancel_order failed in the host: {ex.GetType().Name}");
            return 0;
        }
    }

    private static double ReadHost(Func<decimal> read)
    {
        try
        {
            return (double)read();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return double.NaN;
        }
    }

    private void Log(Caller caller, int pointer, int length)
    {
        var memory = caller.GetMemory(StrategyAbi.Exports.Memory)
            ?? throw new StrategyHostTrapException("log: the module has no exported memory.");
        if (pointer < 0 || length < 0 || (long)pointer + length > memory.GetLength())
        {
            throw new StrategyHostTrapException($"log: range [{pointer}, {pointer}+{length}) is outside the module's memory.");
        }
        if (_logsThisCall >= _options.MaxLogsPerCall)
        {
            _logsDropped++;
            return;
        }
        _logsThisCall++;
        var bytes = memory.GetSpan(pointer, Math.Min(length, _options.MaxLogBytes));
        var text = Encoding.UTF8.GetString(bytes);
        SafeHostLog(length > _options.MaxLogBytes ? text + "…" : text);
    }

    private static void Abort(Caller caller, int message, int file, int line, int column)
    {
        var memory = caller.GetMemory(StrategyAbi.Exports.Memory);
        var text = memory is null ? null : ReadAssemblyScriptString(memory, message);
        var where = memory is null ? null : ReadAssemblyScriptString(memory, file);
        throw new StrategyHostTrapException($"abort: {text ?? "(no message)"} at {where ?? "?"}:{line}:{column}");
    }

    /// <summary>AssemblyScript strings are UTF-16LE with their byte length in the 4 bytes before the pointer.</summary>
    private static string? ReadAssemblyScriptString(Memory memory, int pointer)
    {
        var size = memory.GetLength();
        if (pointer < 4 || pointer > size)
        {
            return null;
        }
        var byteLength = memory.ReadInt32(pointer - 4);
        if (byteLength < 0 || byteLength > 4096 || (long)pointer + byteLength > size)
        {
            return null;
        }
        return Encoding.Unicode.GetString(memory.GetSpan(pointer, byteLength & ~1));
    }

    private void FlushDroppedLogs()
    {
        if (_logsDropped > 0)
        {
            var dropped = _logsDropped;
            _logsDropped = 0;
            SafeHostLog($"[{dropped} log line(s) dropped: more than {_options.MaxLogsPerCall} in one {_currentCall} call]");
        }
    }

    private void SafeHostLog(string message)
    {
        try
        {
            _host.Log(message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Logging is best effort; a failing log sink must not fault the strategy.
        }
    }

    /// <summary>
    /// f64 → decimal for prices and quantities. Non-finite values and values outside decimal's range are refused;
    /// the conversion keeps 15 significant digits, far more than any exchange's tick or step.
    /// </summary>
    private static bool TryToDecimal(double value, out decimal result)
    {
        if (!double.IsFinite(value) || value <= 0 || value >= 7.9e27)
        {
            result = 0;
            return false;
        }
        result = (decimal)value;
        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (State == StrategyInstanceState.Disposed)
            {
                return;
            }
            State = StrategyInstanceState.Disposed;
            _onKline = null;
            _onFill = null;
            ReleaseStore();
        }
    }
}

/// <summary>Thrown inside a host function to trap the calling strategy (bad pointer, AssemblyScript abort).</summary>
internal sealed class StrategyHostTrapException : Exception
{
    public StrategyHostTrapException(string message) : base(message)
    {
    }

    public StrategyHostTrapException()
    {
    }

    public StrategyHostTrapException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
