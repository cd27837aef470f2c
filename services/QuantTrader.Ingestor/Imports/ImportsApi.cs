using QuantTrader.Contracts.Accounts;
using QuantTrader.MarketData.Normalization;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Ingestor.Imports;

public static class ImportsApi
{
    /// <summary>The largest CSV accepted, as at the gateway: the upload is streamed to a temporary file, not held in memory.</summary>
    public const long MaxUploadBytes = 4L << 30;

    public static IHostApplicationBuilder AddHistoryImports(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<ImportOptions>(builder.Configuration.GetSection(ImportOptions.Section));
        builder.Services.AddSingleton<ImportStore>();
        builder.Services.AddSingleton<ImportQuota>();
        builder.Services.AddSingleton<ImportSlots>();
        builder.Services.AddSingleton<ImportUploads>();
        builder.Services.AddSingleton<ImportRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ImportRunner>());
        return builder;
    }

    public static WebApplication MapImportsApi(this WebApplication app)
    {
        var imports = app.MapGroup("/api/v1/imports").WithTags("History imports").RequireCaller();

        imports.MapPost("", StartAsync)
            // Kestrel's default (30 MB) would refuse a real daily file; the gateway bounds uploads (4 GiB), the same here.
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxUploadBytes))
            .WithSummary("Import a Binance public-data CSV")
            .WithDescription("Body: a CSV from data.binance.vision (binance-trades, binance-aggtrades or binance-klines), header line optional, "
                + "millisecond or microsecond timestamps. Trades are published on market.history.{exchange}.{SYMBOL} (aggregated into klines, "
                + "never firing live alerts or fills); kline files are stored as closed klines. base and quote register a symbol the table does not know. "
                + "Only an operator may import (403 operator-right otherwise): the data becomes the shared market. Every row's time must be within "
                + "[2009-01-01, now + 1 min] (400 naming the line otherwise). Per plan: ConcurrentImports at a time (429) and ImportBytesPerDay "
                + "per UTC day (413 for a larger file, 429 when today's rest is too small). Answers 202 with the import id; poll GET /api/v1/imports/{id}.");

        imports.MapGet("/{id:guid}", async (Guid id, HttpContext context, ImportStore store, CancellationToken ct) =>
            await store.FindAsync(id, context.GetCaller().UserId, ct) is { } status
                ? Results.Ok(status)
                : ProblemResults.NotFound($"Import {id}"))
            .WithSummary("Status of an import: queued, running, completed or failed, with rows, rejected rows and the first error");

        return app;
    }

    /// <summary>The right <see cref="Caller.Operator"/> grants: writing the shared markets.</summary>
    public const string OperatorRight = "operator";

    private static async Task<IResult> StartAsync(
        HttpContext context, string? exchange, string? symbol, string? format, string? @base, string? quote,
        SymbolNormalizer symbols, ImportStore store, ImportRunner runner, ImportSlots slots, ImportUploads uploads,
        ILogger<ImportRunner> logger, CancellationToken ct)
    {
        var caller = context.GetCaller();
        if (!caller.Operator)
        {
            // Imported trades and klines become the public market every user trades, alerts and backtests on.
            return ProblemResults.Problem(StatusCodes.Status403Forbidden, "operator-right", "Importing needs the operator right.",
                "Imports write the shared market data every user sees, so only an operator may import (the accounts service's "
                + "Accounts:Operators list). Your account is not an operator.",
                new Dictionary<string, object?> { ["right"] = OperatorRight });
        }

        exchange = exchange?.Trim().ToLowerInvariant();
        if (exchange is not (Exchanges.Binance or Exchanges.Okx))
        {
            return ProblemResults.Validation("exchange", "exchange must be binance or okx.");
        }

        if (format is null || !ImportFormats.All.Contains(format))
        {
            return ProblemResults.Validation("format", $"format must be one of {string.Join(", ", ImportFormats.All)}.");
        }

        if (string.IsNullOrWhiteSpace(symbol))
        {
            return ProblemResults.Validation("symbol", "symbol is required (normalized, e.g. BTCUSDT).");
        }

        symbol = symbol.Trim().ToUpperInvariant();
        var register = !symbols.TryGet(exchange, symbol, out _);
        if (register)
        {
            if (string.IsNullOrWhiteSpace(@base) || string.IsNullOrWhiteSpace(quote))
            {
                return ProblemResults.Validation(string.IsNullOrWhiteSpace(@base) ? "base" : "quote",
                    $"{symbol} is not a known {exchange} symbol: give its base and quote assets (e.g. base=BTC&quote=USDT).");
            }

            if (!string.Equals(@base.Trim() + quote.Trim(), symbol, StringComparison.OrdinalIgnoreCase))
            {
                return ProblemResults.Validation("symbol", $"symbol {symbol} must be base + quote ({@base.Trim().ToUpperInvariant()}{quote.Trim().ToUpperInvariant()}).");
            }
        }

        var handedOver = false;
        ImportSlot? slot = null;
        ReceivedUpload? upload = null;
        try
        {
            // Held across replicas (PostgreSQL): a user's uploads may reach any replica.
            slot = await slots.TryTakeAsync(caller.UserId, caller.Limits.ConcurrentImports, ct);
            if (slot is null)
            {
                context.Response.Headers.RetryAfter = "10";
                return ProblemResults.Problem(StatusCodes.Status429TooManyRequests, "plan-limit", "Your plan's limit is reached.",
                    $"Your plan allows {caller.Limits.ConcurrentImports} import(s) at a time (ConcurrentImports); wait until one has completed or failed.",
                    new Dictionary<string, object?> { ["limit"] = nameof(PlanLimits.ConcurrentImports) });
            }

            // Streamed to disk, counted against the daily quota and time-checked as it arrives: the import runs after the response.
            upload = await uploads.ReceiveAsync(context, caller.UserId, caller.Limits, format, exchange, symbol, ct);
            if (upload.Refusal is { } refusal)
            {
                return refusal;
            }

            var path = upload.Path!;
            if (register)
            {
                try
                {
                    // Tick and step are unknown for a symbol nobody configured; the finest steps keep every imported price valid.
                    symbols.Register(exchange, @base!.Trim(), quote!.Trim(), 0.00000001m, 0.00000001m, 0m);
                }
                catch (ArgumentException ex)
                {
                    return ProblemResults.Validation("symbol", ex.Message);
                }
            }

            var id = Guid.CreateVersion7();
            // Locked before the row exists: no replica's sweep can take a queued import for one whose replica is gone.
            await slot.HoldImportAsync(id, ct);
            await store.CreateAsync(id, caller.UserId, exchange, symbol, format, ct);
            runner.Enqueue(new ImportJob(id, caller.UserId, exchange, symbol, format, path, slot, upload.Claim));
            handedOver = true;
            logger.LogInformation("Import {ImportId} queued: {Format} {Exchange} {Symbol}, {Bytes} bytes", id, format, exchange, symbol, upload.Bytes);
            return Results.Accepted($"/api/v1/imports/{id}", new { importId = id });
        }
        catch (Npgsql.NpgsqlException ex) when (ex.IsTransient)
        {
            // The quota and the import's record live in PostgreSQL: without it nothing is accepted, and nothing is lost.
            logger.LogWarning("Import refused: PostgreSQL unreachable ({Error})", ex.Message);
            context.Response.Headers.RetryAfter = "30";
            return ProblemResults.Unavailable("database-unavailable", "Imports are unavailable while the database is unreachable; try again shortly.");
        }
        finally
        {
            if (!handedOver)
            {
                // Refused, failed or the client went away: the upload and the slot are given back here; after the
                // hand-over they are the runner's.
                if (upload?.Path is { } path)
                {
                    uploads.Delete(path);
                }

                upload?.Claim?.Dispose();
                if (slot is not null)
                {
                    await slot.DisposeAsync();
                }
            }
        }
    }
}
