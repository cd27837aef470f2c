using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using QuantTrader.Contracts.MarketData;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Strategies.Validation;
using QuantTrader.StrategyRunner.Runner;
using QuantTrader.StrategyRunner.Storage;

namespace QuantTrader.StrategyRunner.Api;

public static partial class StrategiesApi
{
    public static readonly string[] Exchanges = ["binance", "okx"];

    public static WebApplication MapStrategiesApi(this WebApplication app)
    {
        var strategies = app.MapGroup("/api/v1/strategies").WithTags("Strategies").RequireCaller();

        strategies.MapPost("", UploadAsync)
            .WithSummary("Upload a strategy: multipart with module (.wasm or .wat), name, exchange, symbol, interval and parameters (JSON object).")
            .DisableAntiforgery();
        strategies.MapGet("", async (HttpContext http, StrategyStore store, CancellationToken ct) =>
                TypedResults.Ok((await store.ListAsync(http.GetCaller().UserId, ct)).Select(StrategyView.From).ToList()))
            .WithSummary("The caller's strategies.");
        strategies.MapGet("/{id:guid}", async (Guid id, HttpContext http, StrategyStore store, CancellationToken ct) =>
                await store.FindAsync(http.GetCaller().UserId, id, ct) is { } s ? Results.Ok(StrategyView.From(s)) : ProblemResults.NotFound("The strategy"))
            .WithSummary("A strategy with its status (running, stopped, faulted) and the fault reason (trap, fuel, memory, timeout, init_failed).");
        strategies.MapPost("/{id:guid}/start", StartAsync).WithSummary("Start the strategy on its closed klines (again after a stop or a fault).");
        strategies.MapPost("/{id:guid}/stop", StopAsync).WithSummary("Stop the strategy.");
        strategies.MapDelete("/{id:guid}", DeleteAsync).WithSummary("Stop and delete the strategy, its logs and its order handles.");
        strategies.MapGet("/{id:guid}/logs", LogsAsync)
            .WithSummary("What the strategy logged through qt.log and what the runner did for it, oldest first (limit: newest N, default 100, at most 1000; after: id to continue from).");
        return app;
    }

    private static async Task<IResult> UploadAsync(HttpContext http, StrategyStore store, ILogger<StrategyStore> logger, CancellationToken ct)
    {
        var caller = http.GetCaller();
        if (!http.Request.HasFormContentType)
        {
            return ProblemResults.Validation("module", "Send multipart/form-data with the fields module (file), name, exchange, symbol, interval and parameters.");
        }
        var form = await http.Request.ReadFormAsync(ct);

        var name = form["name"].ToString().Trim();
        if (name.Length is 0 or > 100)
        {
            return ProblemResults.Validation("name", "name is required, at most 100 characters.");
        }
        var exchange = form["exchange"].ToString().Trim().ToLowerInvariant();
        if (!Exchanges.Contains(exchange))
        {
            return ProblemResults.Validation("exchange", $"exchange must be one of: {string.Join(", ", Exchanges)}.");
        }
        var symbol = form["symbol"].ToString().Trim().ToUpperInvariant().Replace("-", "", StringComparison.Ordinal).Replace("/", "", StringComparison.Ordinal);
        if (!SymbolPattern().IsMatch(symbol))
        {
            return ProblemResults.Validation("symbol", "symbol must be a market like BTCUSDT (BTC-USDT and BTC/USDT are accepted too).");
        }
        var interval = form["interval"].ToString().Trim();
        if (!KlineIntervals.IsKnown(interval))
        {
            return ProblemResults.Validation("interval", $"interval must be one of: {string.Join(", ", KlineIntervals.All.Keys)}.");
        }
        var parameters = form["parameters"].ToString();
        if (string.IsNullOrWhiteSpace(parameters))
        {
            parameters = "{}";
        }
        if (Encoding.UTF8.GetByteCount(parameters) > StrategySandboxOptions.Default.MaxParametersBytes)
        {
            return ProblemResults.Validation("parameters", $"parameters must be at most {StrategySandboxOptions.Default.MaxParametersBytes} bytes of JSON.");
        }
        try
        {
            using var document = JsonDocument.Parse(parameters);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return ProblemResults.Validation("parameters", "parameters must be a JSON object, e.g. {\"fast\":5,\"slow\":20}.");
            }
        }
        catch (JsonException ex)
        {
            return ProblemResults.Validation("parameters", $"parameters is not valid JSON: {ex.Message}");
        }

        var file = form.Files.GetFile("module");
        if (file is null || file.Length == 0)
        {
            return ProblemResults.Validation("module", "module is required: the strategy as a .wasm binary or .wat text file.");
        }
        if (file.Length > StrategyModuleValidator.DefaultMaxBytes)
        {
            return ModuleProblem([$"Module is {file.Length} bytes; the limit is {StrategyModuleValidator.DefaultMaxBytes} bytes."]);
        }
        byte[] bytes;
        await using (var stream = file.OpenReadStream())
        {
            using var buffer = new MemoryStream((int)file.Length);
            await stream.CopyToAsync(buffer, ct);
            bytes = buffer.ToArray();
        }

        // Size, binary or WAT, imports, exports, signatures, ABI version; then a trial start with the parameters so
        // a module that refuses them (or cannot even start) is refused now, not when its owner starts it.
        using var module = StrategyModule.TryLoad(bytes, StrategyEngine.Shared, StrategyModuleValidator.DefaultMaxBytes, out var errors);
        if (module is null)
        {
            logger.LogInformation("Strategy upload by {UserId} refused: {Errors}", caller.UserId, string.Join(" ", errors));
            return ModuleProblem(errors);
        }
        using (var trial = StrategySandbox.Create(module, new TrialHost(), parameters, StrategyPartition.SandboxOptions))
        {
            if (trial.Fault is { } fault)
            {
                return fault.Reason == StrategyFaultReason.InitFailed
                    ? ProblemResults.Validation("parameters", $"The strategy refused these parameters: {fault.Message}")
                    : ModuleProblem([$"The module faults when it starts ({StrategyStore.FaultReasonName(fault.Reason)} in {fault.Call}): {fault.Message}"]);
            }
        }

        var format = bytes.AsSpan().StartsWith("\0asm"u8) ? "wasm" : "wat";
        var created = await store.CreateAsync(new NewStrategy(caller.UserId, name, exchange, symbol, interval, parameters, bytes, format),
            caller.Limits.Strategies, ct);
        if (created is null)
        {
            return ProblemResults.PlanLimit("strategies",
                $"Your {caller.Plan} plan allows {caller.Limits.Strategies} strateg{(caller.Limits.Strategies == 1 ? "y" : "ies")}; delete one or upgrade your plan.");
        }
        logger.LogInformation("Strategy {StrategyId} ({Name}, {Format}, {Size} bytes) uploaded by {UserId} for {Exchange} {Symbol} {Interval}",
            created.Id, name, format, bytes.Length, caller.UserId, exchange, symbol, interval);
        return TypedResults.Created($"/api/v1/strategies/{created.Id}", StrategyView.From(created));
    }

    private static IResult ModuleProblem(IReadOnlyList<string> errors) =>
        ProblemResults.Problem(StatusCodes.Status400BadRequest, "validation", "The request is invalid.", string.Join(" ", errors),
            new Dictionary<string, object?> { ["field"] = "module", ["errors"] = errors });

    private static async Task<IResult> StartAsync(Guid id, HttpContext http, StrategyStore store, StrategyCommands commands, CancellationToken ct)
    {
        var strategy = await store.FindAsync(http.GetCaller().UserId, id, ct);
        return strategy is null
            ? ProblemResults.NotFound("The strategy")
            : TypedResults.Ok(StrategyView.From(await commands.StartAsync(strategy, ct)));
    }

    private static async Task<IResult> StopAsync(Guid id, HttpContext http, StrategyStore store, StrategyCommands commands, CancellationToken ct)
    {
        var strategy = await store.FindAsync(http.GetCaller().UserId, id, ct);
        return strategy is null
            ? ProblemResults.NotFound("The strategy")
            : TypedResults.Ok(StrategyView.From(await commands.StopAsync(strategy, ct)));
    }

    private static async Task<IResult> DeleteAsync(Guid id, HttpContext http, StrategyStore store, StrategyCommands commands, CancellationToken ct)
    {
        var userId = http.GetCaller().UserId;
        if (await store.FindAsync(userId, id, ct) is null)
        {
            return ProblemResults.NotFound("The strategy");
        }
        await commands.DeleteAsync(userId, id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> LogsAsync(Guid id, HttpContext http, StrategyStore store, CancellationToken ct, int? limit = null, long? after = null)
    {
        if (limit is < 1 or > 1000)
        {
            return ProblemResults.Validation("limit", "limit must be between 1 and 1000.");
        }
        if (await store.FindAsync(http.GetCaller().UserId, id, ct) is null)
        {
            return ProblemResults.NotFound("The strategy");
        }
        var lines = await store.ReadLogsAsync(id, after ?? 0, limit ?? 100, ct);
        return TypedResults.Ok(lines.Select(l => new StrategyLogView(l.Id, l.Time, l.Source, l.Message)).ToList());
    }

    [GeneratedRegex("^[A-Z0-9]{2,30}$")]
    private static partial Regex SymbolPattern();

    /// <summary>A host for the trial start at upload: init cannot place orders anyway (NotAllowedNow).</summary>
    private sealed class TrialHost : IStrategyHost
    {
        public decimal Position => 0m;

        public decimal QuoteBalance => 0m;

        public long PlaceOrder(StrategyOrderRequest request) => 0;

        public bool Cancel(long handle) => false;

        public void Log(string message)
        {
        }
    }
}
