namespace QuantTrader.Kline.Aggregation;

/// <summary>
/// The open-kline updates (every period / <see cref="Slots"/>): per live market that had trades since its last open
/// update and whose period is up, the open kline of every interval that changed since it was last published (latest
/// state wins). A market's period runs from its slot, so at most one update per period each, and the markets' updates
/// are spread over the period.
/// </summary>
public sealed class OpenUpdates(KlineOptions options, KlinePublisher publisher)
{
    /// <summary>
    /// The open-update period is cut into this many slots, and each market publishes in its own slot: one timer
    /// publishing every market's open klines at once sent 160 messages in one burst each second (20 markets × 8
    /// intervals), and every consumer then worked through its burst at the same moment — on two cores, a recurring
    /// stall for whatever else was running (docs/benchmarks.md section 11: the trade → fill tail).
    /// </summary>
    public const int Slots = 8;

    public TimeSpan TickPeriod => options.OpenUpdateInterval / Slots;

    public async Task PublishAsync(PartitionAggregators aggregators, DateTimeOffset now, CancellationToken ct)
    {
        var period = options.OpenUpdateInterval;
        var slot = period / Slots;
        foreach (var market in aggregators.Markets)
        {
            // A tick that comes a little early must not skip a whole period: a slot's worth of slack.
            if (!market.IsLive || !market.OpenChanged || now - market.LastOpenPublish < period - slot / 2)
            {
                continue;
            }

            market.OpenChanged = false;
            // The first update places the market in its slot (a fixed one per market: the next one comes up to a period
            // later than it would have), later ones keep it there.
            market.LastOpenPublish = market.LastOpenPublish == DateTimeOffset.MinValue
                ? now + slot * market.Slot
                : now;
            var intervals = market.Aggregator.Intervals;
            for (var i = 0; i < intervals.Count; i++)
            {
                // A trade dropped as late by one interval leaves that interval's open kline as it was: not re-sent.
                if (market.Aggregator.OpenKline(intervals[i]) is { } open && open != market.LastOpenPublished[i])
                {
                    await publisher.PublishOpenAsync(open, ct);
                    market.LastOpenPublished[i] = open;
                }
            }
        }
    }
}
