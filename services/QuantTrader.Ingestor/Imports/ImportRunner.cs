using QuantTrader.ServiceDefaults.Storage;
using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Ingestor.Publishing;

namespace QuantTrader.Ingestor.Imports;

/// <summary>
/// An import waiting for or in its run. <paramref name="Slot"/> (the user's import slot, holding the import's lock) and
/// <paramref name="Upload"/> (the claim on the uploaded file) are given back when it ends; a job started without
/// them (a runner driven directly) simply has none.
/// </summary>
public sealed record ImportJob(Guid Id, Guid UserId, string Exchange, string Symbol, string Format, string FilePath,
    ImportSlot? Slot = null, IDisposable? Upload = null);

/// <summary>
/// Runs imports one after another in the background. The upload was streamed to a temporary file, and is read here
/// line by line, so memory stays bounded whatever the file size (a 10 M-row file holds one batch at a time).
/// Trades go to <c>market.history.{exchange}.{SYMBOL}</c> (MARKET_HISTORY: the kline service aggregates them like live
/// trades, but nothing live — alerts, paper fills — listens there); klines from a kline file are stored directly as
/// closed klines.
/// <para>
/// Nothing an import meets may stop the host (the live feed runs in the same process): PostgreSQL away pauses an
/// import (its kline rows and final status are retried) and fails it only after
/// <see cref="ImportOptions.DatabasePatience"/>; the failure itself is recorded once the database is back. The upload
/// file and the user's import slot are given back on every path.
/// </para>
/// <para>
/// Each replica runs the imports it received. Imports of a replica that stopped or died are marked failed by any
/// other (or by the next start): at start, and then every <see cref="SweepInterval"/> for imports unchanged for
/// <see cref="SweepQuietFor"/> whose lock no live replica holds (<see cref="ImportStore.FailInterruptedAsync"/>).
/// </para>
/// </summary>
public sealed class ImportRunner(
    ImportStore store,
    TradePublisher publisher,
    ImportUploads uploads,
    IOptions<ImportOptions> options,
    TimeProvider time,
    ILogger<ImportRunner> logger) : BackgroundService
{
    private const int BatchSize = 1000;

    /// <summary>How often a replica looks for imports another replica left behind.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    /// <summary>Imports changed more recently than this are not swept (a runner driven without a slot holds no lock).</summary>
    public static readonly TimeSpan SweepQuietFor = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly Channel<ImportJob> _queue = Channel.CreateUnbounded<ImportJob>(new UnboundedChannelOptions { SingleReader = true });

    // Imports of this run: the start-up clean-up of the previous run's must not fail one of them.
    private readonly ConcurrentDictionary<Guid, byte> _ours = new();

    private sealed class Progress
    {
        public long Rows;
        public long Rejected;
        public string? FirstError;

        /// <summary>The time range of the trades published (null for a kline file, or no trade).</summary>
        public ImportedKlines? Klines;
    }

    public void Enqueue(ImportJob job)
    {
        _ours[job.Id] = 0;
        _queue.Writer.TryWrite(job);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the server takes uploads: everything in the folder is from a run that ended.
        try
        {
            uploads.Sweep();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogError(ex, "Could not empty the import upload folder {Directory}", uploads.Directory);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Imports of a previous run lost their upload: say so, as soon as the database answers.
        try
        {
            await WhenReachableAsync("mark the previous run's imports failed",
                ct => store.FailInterruptedAsync([.. _ours.Keys], TimeSpan.Zero, ct), TimeSpan.MaxValue, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not transient (schema, permissions): imports still run; the stale rows stay until the next sweep.
            logger.LogError(ex, "Could not mark the previous run's imports as failed");
        }

        var sweeping = SweepAsync(stoppingToken);
        await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            await RunOneAsync(job, stoppingToken);
        }

        await sweeping;
    }

    /// <summary>Imports of other replicas that stopped or died while running them: failed, naming why.</summary>
    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (await store.FailInterruptedAsync([.. _ours.Keys], SweepQuietFor, stoppingToken) is > 0 and var failed)
                    {
                        logger.LogWarning("{Count} imports of an ingestor replica that is gone were marked failed", failed);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning("Looking for imports left by a stopped replica failed ({Error}); trying again in {Interval}", ex.Message, SweepInterval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunOneAsync(ImportJob job, CancellationToken stoppingToken)
    {
        var progress = new Progress();
        string? failure = null;
        try
        {
            await RunAsync(job, progress, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The row stays 'running': the next start marks it failed (its upload is gone with this run).
            logger.LogWarning("Import {ImportId} interrupted by shutdown after {Rows} rows", job.Id, progress.Rows);
            return;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Import {ImportId} failed after {Rows} rows", job.Id, progress.Rows);
            failure = $"import failed after {progress.Rows} rows: {ex.Message}";
        }
        finally
        {
            // The work is over: the file and the user's slot go back before the status says so, so a client that sees
            // "completed" can start its next import at once.
            uploads.Delete(job.FilePath);
            job.Upload?.Dispose();
            if (job.Slot is { } slot)
            {
                await slot.DisposeAsync();
            }

            _ours.TryRemove(job.Id, out _);
        }

        var status = failure is null ? "completed" : "failed";
        try
        {
            await WhenReachableAsync($"record import {job.Id} as {status}",
                ct => store.UpdateAsync(job.Id, status, progress.Rows, progress.Rejected, failure ?? progress.FirstError, ct), TimeSpan.MaxValue, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping before the database came back: the next start marks it failed.
            return;
        }

        if (failure is null)
        {
            logger.LogInformation("Import {ImportId} ({Format}, {Exchange} {Symbol}) completed: {Rows} rows, {Rejected} rejected{FirstError}",
                job.Id, job.Format, job.Exchange, job.Symbol, progress.Rows, progress.Rejected, progress.FirstError is null ? "" : $"; first: {progress.FirstError}");
        }
    }

    private async Task RunAsync(ImportJob job, Progress progress, CancellationToken ct)
    {
        var patience = options.Value;
        await ReportAsync(job, "running", progress, ct);
        long lineNumber = 0;
        var trades = new List<Trade>(BatchSize);
        var klines = new List<Kline>(BatchSize);
        var now = time.GetUtcNow();
        using var reader = new StreamReader(job.FilePath, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            lineNumber++;
            var line = BinanceCsv.Parse(job.Format, job.Exchange, job.Symbol, text, now);
            switch (line.Kind)
            {
                case BinanceCsv.LineKind.Trade:
                    trades.Add(line.Trade!);
                    progress.Klines = ImportedKlines.Including(progress.Klines, line.Trade!.Time);
                    break;
                case BinanceCsv.LineKind.Kline:
                    klines.Add(line.Kline!);
                    break;
                case BinanceCsv.LineKind.Header when lineNumber == 1:
                case BinanceCsv.LineKind.Blank:
                    break;
                default:
                    progress.Rejected++;
                    progress.FirstError ??= $"line {lineNumber}: {(line.Kind == BinanceCsv.LineKind.Header ? "a header is only allowed on the first line" : line.Error)}";
                    break;
            }

            if (trades.Count + klines.Count >= BatchSize)
            {
                progress.Rows += await FlushAsync(trades, klines, patience, ct);
                await ReportAsync(job, "running", progress, ct);
            }
        }

        progress.Rows += await FlushAsync(trades, klines, patience, ct);
        if (progress.Klines is { } built)
        {
            // "completed" means queryable: a client reading the klines right after must find all of them, not the few
            // the kline service had built so far (still "running" until then).
            await WaitForKlinesAsync(job, built, patience, ct);
        }
    }

    /// <summary>Waits until every kline the import's trades make is stored (<see cref="ImportedKlines"/>), or the patience ran out.</summary>
    private async Task WaitForKlinesAsync(ImportJob job, ImportedKlines built, ImportOptions patience, CancellationToken ct)
    {
        var started = time.GetUtcNow();
        foreach (var (interval, length) in ImportedKlines.Intervals)
        {
            var (first, last, expected) = built.Windows(length);
            while (true)
            {
                long stored;
                try
                {
                    stored = await store.CountKlinesAsync(job.Exchange, job.Symbol, interval, first, last, ct);
                }
                catch (Exception ex) when (IsTransient(ex))
                {
                    stored = -1;
                }

                if (stored >= expected)
                {
                    break;
                }

                if (time.GetUtcNow() - started > patience.KlinePatience)
                {
                    logger.LogWarning("Import {ImportId}: {Stored} of {Expected} {Interval} klines stored after {Patience}; reporting it completed without waiting longer (is the kline service or persistence down?)",
                        job.Id, stored, expected, interval, patience.KlinePatience);
                    return;
                }

                await Task.Delay(patience.KlinePollInterval, time, ct);
            }
        }
    }

    /// <summary>Progress on the way: worth one try, not a wait (the final status carries the same counts).</summary>
    private async Task ReportAsync(ImportJob job, string status, Progress progress, CancellationToken ct)
    {
        try
        {
            await store.UpdateAsync(job.Id, status, progress.Rows, progress.Rejected, progress.FirstError, ct);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            logger.LogWarning("Progress of import {ImportId} not recorded ({Error}); the import goes on", job.Id, ex.Message);
        }
    }

    private async Task<int> FlushAsync(List<Trade> trades, List<Kline> klines, ImportOptions patience, CancellationToken ct)
    {
        var count = trades.Count + klines.Count;
        await publisher.PublishHistoryAsync(trades, patience.HistoryStreamFullPatience, ct);
        if (klines.Count > 0)
        {
            // ON CONFLICT DO NOTHING: storing a batch again after a lost answer is harmless.
            await WhenReachableAsync("store imported klines", c => store.StoreKlinesAsync(klines, c), patience.DatabasePatience, ct);
        }

        trades.Clear();
        klines.Clear();
        return count;
    }

    /// <summary>
    /// Runs a database write, retrying while PostgreSQL is unreachable, for up to <paramref name="patience"/>; a
    /// non-transient error (a constraint, bad SQL) is thrown at once.
    /// </summary>
    private async Task WhenReachableAsync(string what, Func<CancellationToken, Task> write, TimeSpan patience, CancellationToken ct)
    {
        var started = time.GetUtcNow();
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write(ct);
                if (attempt > 1)
                {
                    logger.LogInformation("PostgreSQL is back: could {What} after {Attempts} attempts", what, attempt);
                }

                return;
            }
            catch (Exception ex) when (IsTransient(ex) && time.GetUtcNow() - started < patience)
            {
                if (attempt == 1)
                {
                    logger.LogWarning("Could not {What} ({Error}); retrying until PostgreSQL answers", what, ex.Message);
                }

                await Task.Delay(delay, time, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    private static bool IsTransient(Exception ex) => DatabaseOutage.Is(ex);
}
