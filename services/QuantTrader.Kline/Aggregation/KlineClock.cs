namespace QuantTrader.Kline.Aggregation;

/// <summary>
/// The wall clock's part in aggregation, every <see cref="KlineOptions.ClockTick"/>: it closes the live windows whose end
/// plus the allowed lateness has passed, and publishes once the last (still open) klines of an import that went idle.
/// </summary>
public sealed class KlineClock(KlineOptions options, KlinePublisher publisher)
{
    /// <summary>Applies the clock to a partition's markets; true when it closed a kline (to be checkpointed at once).</summary>
    public async Task<bool> TickAsync(PartitionAggregators aggregators, DateTimeOffset now, CancellationToken ct)
    {
        var closedByClock = false;
        foreach (var market in aggregators.Markets)
        {
            if (market.IsLive)
            {
                var changes = market.Aggregator.OnClock(now, options.AllowedLateness);
                foreach (var change in changes)
                {
                    await publisher.PublishClosedAsync(market.Source, change.Kline, ct);
                }

                if (changes.Count > 0)
                {
                    market.Dirty = true;
                    closedByClock = true;
                }
            }
            else if (!market.IdlePublished && now - market.LastInput >= options.HistoryIdle)
            {
                // History is never closed by the wall clock (its windows ended long ago, and closing them would make the
                // import's next trades late); its last klines are published once, still open.
                market.IdlePublished = true;
                foreach (var interval in market.Aggregator.Intervals)
                {
                    if (market.Aggregator.OpenKline(interval) is { } open)
                    {
                        await publisher.PublishIdleHistoryAsync(open, ct);
                    }
                }
            }
        }

        return closedByClock;
    }
}
