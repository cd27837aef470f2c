using Microsoft.Extensions.Options;

namespace QuantTrader.Analytics.Equity;

/// <summary>
/// Every <see cref="AnalyticsOptions.SnapshotInterval"/>, writes the marked-to-market equity of each active user
/// at the interval's boundary (so a restart within the same minute overwrites rather than adds a point). Only the
/// users of the partitions this replica owns are in the book, so each user's points come from one replica.
/// </summary>
public sealed class SnapshotWriter(AccountBook book, EquityStore store, IOptions<AnalyticsOptions> options, TimeProvider time, ILogger<SnapshotWriter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.SnapshotInterval;
        try
        {
            using var timer = new PeriodicTimer(interval, time);
            do
            {
                var now = time.GetUtcNow();
                var at = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % interval.Ticks), TimeSpan.Zero);
                var equities = book.ActiveEquities(now);
                if (equities.Count == 0)
                {
                    continue;
                }
                try
                {
                    await store.WriteSnapshotsAsync(equities, at, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The next tick writes the then-current equity; a missed point is a gap, not a wrong value.
                    logger.LogWarning(ex, "Could not write {Count} equity snapshots at {Time}", equities.Count, at);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
