using System.Text;
using System.Threading.Channels;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Ingestor.Publishing;

namespace QuantTrader.Ingestor.Imports;

public sealed record ImportJob(Guid Id, string Exchange, string Symbol, string Format, string FilePath);

/// <summary>
/// Runs imports one after another in the background. The upload was streamed to a temporary file, and is read here
/// line by line, so memory stays bounded whatever the file size (a 10 M-row file holds one batch at a time).
/// Trades go to <c>market.history.{exchange}.{SYMBOL}</c> (the kline service aggregates them like live trades, but
/// nothing live — alerts, paper fills — listens there); klines from a kline file are stored directly as closed klines.
/// </summary>
public sealed class ImportRunner(ImportStore store, TradePublisher publisher, ILogger<ImportRunner> logger) : BackgroundService
{
    private const int BatchSize = 1000;

    private readonly Channel<ImportJob> _queue = Channel.CreateUnbounded<ImportJob>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(ImportJob job) => _queue.Writer.TryWrite(job);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await store.FailInterruptedAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Imports are a side line: a database hiccup at start must not stop the live feed.
            logger.LogError(ex, "Could not mark interrupted imports as failed");
        }

        await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await RunAsync(job, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Import {ImportId} failed", job.Id);
                await store.UpdateAsync(job.Id, "failed", 0, 0, $"import failed: {ex.Message}", CancellationToken.None);
            }
            finally
            {
                File.Delete(job.FilePath);
            }
        }
    }

    private async Task RunAsync(ImportJob job, CancellationToken ct)
    {
        await store.UpdateAsync(job.Id, "running", 0, 0, null, ct);
        long rows = 0, rejected = 0, lineNumber = 0;
        string? firstError = null;
        var trades = new List<Trade>(BatchSize);
        var klines = new List<Kline>(BatchSize);
        using var reader = new StreamReader(job.FilePath, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            lineNumber++;
            var line = BinanceCsv.Parse(job.Format, job.Exchange, job.Symbol, text);
            switch (line.Kind)
            {
                case BinanceCsv.LineKind.Trade:
                    trades.Add(line.Trade!);
                    break;
                case BinanceCsv.LineKind.Kline:
                    klines.Add(line.Kline!);
                    break;
                case BinanceCsv.LineKind.Header when lineNumber == 1:
                case BinanceCsv.LineKind.Blank:
                    break;
                default:
                    rejected++;
                    firstError ??= $"line {lineNumber}: {(line.Kind == BinanceCsv.LineKind.Header ? "a header is only allowed on the first line" : line.Error)}";
                    break;
            }

            if (trades.Count + klines.Count >= BatchSize)
            {
                rows += await FlushAsync(trades, klines, ct);
                await store.UpdateAsync(job.Id, "running", rows, rejected, firstError, ct);
            }
        }

        rows += await FlushAsync(trades, klines, ct);
        await store.UpdateAsync(job.Id, "completed", rows, rejected, firstError, ct);
        logger.LogInformation("Import {ImportId} ({Format}, {Exchange} {Symbol}) completed: {Rows} rows, {Rejected} rejected{FirstError}",
            job.Id, job.Format, job.Exchange, job.Symbol, rows, rejected, firstError is null ? "" : $"; first: {firstError}");
    }

    private async Task<int> FlushAsync(List<Trade> trades, List<Kline> klines, CancellationToken ct)
    {
        var count = trades.Count + klines.Count;
        await publisher.PublishHistoryAsync(trades, ct);
        await store.StoreKlinesAsync(klines, ct);
        trades.Clear();
        klines.Clear();
        return count;
    }
}
