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
        builder.Services.AddSingleton<ImportStore>();
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
                + "Answers 202 with the import id; poll GET /api/v1/imports/{id}.");

        imports.MapGet("/{id:guid}", async (Guid id, HttpContext context, ImportStore store, CancellationToken ct) =>
            await store.FindAsync(id, context.GetCaller().UserId, ct) is { } status
                ? Results.Ok(status)
                : ProblemResults.NotFound($"Import {id}"))
            .WithSummary("Status of an import: queued, running, completed or failed, with rows, rejected rows and the first error");

        return app;
    }

    private static async Task<IResult> StartAsync(
        HttpContext context, string? exchange, string? symbol, string? format, string? @base, string? quote,
        SymbolNormalizer symbols, ImportStore store, ImportRunner runner, ILogger<ImportRunner> logger, CancellationToken ct)
    {
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
        if (!symbols.TryGet(exchange, symbol, out _))
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

            try
            {
                // Tick and step are unknown for a symbol nobody configured; the finest steps keep every imported price valid.
                symbols.Register(exchange, @base.Trim(), quote.Trim(), 0.00000001m, 0.00000001m, 0m);
            }
            catch (ArgumentException ex)
            {
                return ProblemResults.Validation("symbol", ex.Message);
            }
        }

        // Stream the upload to disk: the import runs after the response, and the body may be tens of MiB.
        var path = Path.Combine(Path.GetTempPath(), $"quanttrader-import-{Guid.NewGuid():N}.csv");
        long length;
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            await context.Request.Body.CopyToAsync(file, ct);
            length = file.Length;
        }

        if (length == 0)
        {
            File.Delete(path);
            return ProblemResults.Validation("body", "The request body must be the CSV file; it was empty.");
        }

        var id = Guid.CreateVersion7();
        await store.CreateAsync(id, context.GetCaller().UserId, exchange, symbol, format, ct);
        runner.Enqueue(new ImportJob(id, exchange, symbol, format, path));
        logger.LogInformation("Import {ImportId} queued: {Format} {Exchange} {Symbol}, {Bytes} bytes", id, format, exchange, symbol, length);
        return Results.Accepted($"/api/v1/imports/{id}", new { importId = id });
    }
}
