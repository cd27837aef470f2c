using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Ingestor.Markets;

/// <summary>
/// The ingestor's share of the markets: for each partition this replica owns (<see cref="PartitionLeases"/>), the
/// exchange connections of that partition's markets — one <see cref="MarketFeed"/> per exchange, so every market is
/// connected by exactly one replica. There is no checkpoint of its own: MARKET_RAW is it. A new owner continues each
/// market after the last trade on the market's subject and backfills the rest over REST (<see cref="Publishing.TradePipeline"/>),
/// the same path as after a reconnect, so a hand-over loses nothing and publishes nothing twice.
/// </summary>
public sealed class MarketPartitionWork(MarketCatalog catalog, MarketFeeds feeds, TimeProvider time, ILogger<MarketPartitionWork> logger) : IPartitionWork
{
    public async Task RunAsync(PartitionLease lease)
    {
        try
        {
            await catalog.Loaded.WaitAsync(lease.Stopping);
        }
        catch (OperationCanceledException) when (lease.Stopping.IsCancellationRequested)
        {
            return;
        }

        var markets = catalog.InPartition(lease.Partition);
        if (markets.Count == 0)
        {
            // Nothing configured hashes here: holding the lease is all there is to do.
            await Task.Delay(Timeout.InfiniteTimeSpan, time, lease.Stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return;
        }

        var running = markets.GroupBy(m => m.Exchange).Select(g => feeds.Create(g.Key, [.. g])).ToList();
        logger.LogInformation("Partition {Partition}: ingesting {Markets}", lease.Partition, string.Join(", ", markets.Select(m => $"{m.Exchange}:{m.Symbol}")));

        using var abandon = new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(lease.Stopping);
        using var done = new CancellationTokenSource();
        var watch = AbandonWhenLostAsync(lease, abandon, done.Token);
        var tasks = running.Select(feed => RunFeedAsync(feed, stop, abandon.Token)).ToList();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            // Abandoned on purpose: what was not published is the next owner's to backfill.
        }
        finally
        {
            await done.CancelAsync();
            await watch;
        }

        logger.LogInformation(abandon.IsCancellationRequested
                ? "Partition {Partition}: lease lost; stopped without publishing more (the next owner backfills from the last stored trade)"
                : "Partition {Partition}: stopped; every trade received is published and acknowledged",
            lease.Partition);
    }

    /// <summary>One exchange failing stops the partition's other feeds too: the lease service restarts the partition whole.</summary>
    private static async Task RunFeedAsync(MarketFeed feed, CancellationTokenSource stop, CancellationToken abandon)
    {
        try
        {
            await feed.RunAsync(stop.Token, abandon);
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
    }

    /// <summary>
    /// A lease can be lost while the partition drains (renewals failing): from then on another replica may own it,
    /// so nothing more is published.
    /// </summary>
    private async Task AbandonWhenLostAsync(PartitionLease lease, CancellationTokenSource abandon, CancellationToken done)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), time);
        try
        {
            while (lease.IsHeld && await timer.WaitForNextTickAsync(done))
            {
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!lease.IsHeld)
        {
            await abandon.CancelAsync();
        }
    }
}
