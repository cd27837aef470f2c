using System.Threading.Channels;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Ingestor.Backfill;
using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.Ingestor.Sequencing;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.Ingestor.Publishing;

/// <summary>
/// The path from one exchange's connections for one partition's markets to JetStream: every connection writes parsed
/// trades into one channel; one loop checks id continuity (<see cref="TradeSequencer"/>), fills gaps over REST before
/// publishing the trade that revealed them, and publishes in batches. A full channel makes the connections wait
/// (back-pressure), never drop. A pipeline lives as long as its partition's ownership: the next owner's pipeline
/// continues each market after the last id MARKET_RAW holds (<see cref="ResumeAsync"/>), and each (re)connection asks
/// it to catch up over REST at once (<see cref="CatchUpAsync(IEnumerable{string}, CancellationToken)"/>), so a quiet
/// market does not wait for its next trade to reveal what it missed.
/// </summary>
public sealed class TradePipeline(
    string exchange,
    ITradeBackfill backfill,
    TradePublisher publisher,
    IngestorMetrics metrics,
    SymbolNormalizer symbols,
    int maxBackfillTrades,
    ILogger logger,
    TimeProvider time)
{
    private const int MaxBatch = 1024;

    private readonly Channel<PipelineItem> _input = Channel.CreateBounded<PipelineItem>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TradeSequencer _sequencer = new();

    // Markets whose last published id this run has looked up (once each, at their first live trade).
    private readonly HashSet<string> _resumeChecked = new(StringComparer.Ordinal);

    /// <summary>A trade or a catch-up request, in the order the connections handed them over.</summary>
    private readonly record struct PipelineItem(Trade? Trade, string? CatchUpSymbol);

    public ValueTask WriteAsync(Trade trade, CancellationToken ct)
    {
        var item = new PipelineItem(trade, null);
        return _input.Writer.TryWrite(item) ? ValueTask.CompletedTask : _input.Writer.WriteAsync(item, ct);
    }

    /// <summary>
    /// A connection carrying these markets was just opened (a start, a take-over, a reconnect): fetch what each printed
    /// after the last published id, in order with the live trades written before and after this call.
    /// </summary>
    public async Task CatchUpAsync(IEnumerable<string> symbols, CancellationToken ct)
    {
        foreach (var symbol in symbols)
        {
            await _input.Writer.WriteAsync(new PipelineItem(null, symbol), ct);
        }
    }

    /// <summary>Nothing more will be written: <see cref="RunAsync"/> publishes what it holds and returns.</summary>
    public void Complete() => _input.Writer.TryComplete();

    /// <summary>Publishes until <see cref="Complete"/> was called and everything written is acknowledged, or <paramref name="ct"/> ends it.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var batch = new List<Trade>(MaxBatch);
        var reader = _input.Reader;
        while (await reader.WaitToReadAsync(ct))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var item))
            {
                if (item.Trade is not { } trade)
                {
                    await FlushAsync(batch, ct);
                    await CatchUpAsync(item.CatchUpSymbol!, ct);
                    continue;
                }

                if (_resumeChecked.Add(trade.Symbol))
                {
                    await ResumeAsync(trade, ct);
                }

                var decision = _sequencer.Offer(trade.Symbol, trade.TradeId);
                if (decision.Verdict == SequenceVerdict.Gap)
                {
                    // Everything before the gap goes out first, then the backfill, then the trade itself.
                    await FlushAsync(batch, ct);
                    await FillGapAsync(trade.Symbol, decision.GapFrom, decision.GapTo, ct);
                    decision = _sequencer.Offer(trade.Symbol, trade.TradeId);
                }

                if (decision.Verdict == SequenceVerdict.Publish)
                {
                    batch.Add(trade);
                }
                else
                {
                    metrics.Duplicate(exchange);
                }
            }

            await FlushAsync(batch, ct);
        }
    }

    /// <summary>
    /// At a market's first live trade of this run: continue after the last id MARKET_RAW holds, so the trades the
    /// exchange printed while the ingestor was down (a restart, a crash, the whole system stopped) are backfilled over
    /// REST like any other gap — up to <c>MaxBackfillTrades</c>; what the exchange no longer serves is reported on
    /// <c>market.gap</c>, never skipped silently. Ids far below the stored one mean the exchange's ids started over
    /// (another source on the same data, say): that market then continues from its new ids, with a warning.
    /// </summary>
    private async Task ResumeAsync(Trade first, CancellationToken ct)
    {
        if (await LastPublishedIdAsync(first.Symbol, ct) is not { } last)
        {
            return;
        }

        if (first.TradeId > last || last - first.TradeId <= maxBackfillTrades)
        {
            _sequencer.Resume(first.Symbol, last);
            logger.LogInformation("{Exchange} {Symbol} continues after trade id {Last}, the last one published before this start", exchange, first.Symbol, last);
            return;
        }

        logger.LogWarning(
            "{Exchange} {Symbol}: the first live trade id {First} is far below the last one published ({Last}); the exchange's ids started over, so the market continues from the new ids",
            exchange, first.Symbol, first.TradeId, last);
    }

    /// <summary>
    /// Publishes the trades the exchange printed after the last published id, up to its newest. The last id is this
    /// run's, or MARKET_RAW's before the market's first live trade; a market never published has nothing to catch up
    /// from. The stored id only becomes this run's continuation point when the exchange has trades above it — ids
    /// that started over are left to <see cref="ResumeAsync"/> at the first live trade.
    /// </summary>
    private async Task CatchUpAsync(string symbol, CancellationToken ct)
    {
        var known = _sequencer.Last(symbol);
        if ((known ?? await LastPublishedIdAsync(symbol, ct)) is not { } last)
        {
            return;
        }

        IReadOnlyList<Trade> fetched;
        try
        {
            fetched = await backfill.FetchAsync(symbols.Get(exchange, symbol), last + 1, null, maxBackfillTrades, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Nothing is lost by failing here: the next live trade reveals the same trades as a gap.
            logger.LogWarning("Catching up {Exchange} {Symbol} after trade id {Last} failed ({Error}); its next live trade will reveal the gap",
                exchange, symbol, last, ex.Message);
            return;
        }

        var newest = fetched.Where(t => t.Symbol == symbol).Select(t => t.TradeId).DefaultIfEmpty(last).Max();
        if (newest <= last)
        {
            return;
        }

        if (known is null)
        {
            _resumeChecked.Add(symbol);
            _sequencer.Resume(symbol, last);
        }

        logger.LogInformation("{Exchange} {Symbol}: catching up trade ids {From}..{To} printed while it was not connected", exchange, symbol, last + 1, newest);
        await PublishBackfillAsync(symbol, last + 1, newest, fetched, failure: null, ct);
    }

    /// <summary>
    /// The last id MARKET_RAW holds for the market, asked until the stream answers: starting a market from its first
    /// live trade without it would leave the trades between the previous owner's last one and this one unpublished
    /// and unreported. Only "nothing stored for this market" starts it fresh.
    /// </summary>
    private async Task<long?> LastPublishedIdAsync(string symbol, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await publisher.LastPublishedIdAsync(exchange, symbol, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Could not read the last published trade of {Exchange} {Symbol} (attempt {Attempt}: {Error}); asking again in {Delay}",
                    exchange, symbol, attempt, ex.Message, delay);
                await Task.Delay(delay, time, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task FlushAsync(List<Trade> batch, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return;
        }

        await publisher.PublishLiveAsync(batch, ct);
        metrics.Published(exchange, batch.Count);
        batch.Clear();
    }

    private async Task FillGapAsync(string symbol, long from, long to, CancellationToken ct)
    {
        metrics.Gap(exchange);
        var size = to - from + 1;
        logger.LogWarning("Gap in {Exchange} {Symbol}: trade ids {From}..{To} ({Count}) missing; backfilling over REST",
            exchange, symbol, from, to, size);
        IReadOnlyList<Trade> fetched = [];
        string? failure = null;
        try
        {
            fetched = await backfill.FetchAsync(symbols.Get(exchange, symbol), from, to, maxBackfillTrades, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            failure = ex.Message;
            logger.LogError(ex, "Backfill of {Exchange} {Symbol} {From}..{To} failed", exchange, symbol, from, to);
        }

        await PublishBackfillAsync(symbol, from, to, fetched, failure, ct);
    }

    /// <summary>Publishes what a backfill of <paramref name="from"/>..<paramref name="to"/> found, and reports on market.gap what it did not.</summary>
    private async Task PublishBackfillAsync(string symbol, long from, long to, IReadOnlyList<Trade> fetched, string? failure, CancellationToken ct)
    {
        var outcome = _sequencer.Fill(symbol, from, to, fetched);
        await publisher.PublishLiveAsync(outcome.Trades, ct);
        metrics.Backfilled(exchange, outcome.Trades.Count);
        metrics.Published(exchange, outcome.Trades.Count);
        if (outcome.Trades.Count > 0)
        {
            logger.LogInformation("Backfilled {Count} {Exchange} {Symbol} trades ({From}..{To})", outcome.Trades.Count, exchange, symbol, from, to);
        }

        foreach (var (missingFrom, missingTo) in outcome.Missing)
        {
            var reason = failure is null
                ? $"the exchange's REST history does not have them (asked {from}..{to}, limit {maxBackfillTrades})"
                : $"backfill failed: {failure}";
            metrics.Unfilled(exchange, missingTo - missingFrom + 1);
            logger.LogError("Unfillable gap in {Exchange} {Symbol}: trade ids {From}..{To} are lost: {Reason}",
                exchange, symbol, missingFrom, missingTo, reason);
            await publisher.PublishGapAsync(new MarketGap(exchange, symbol, missingFrom, missingTo, time.GetUtcNow(), reason), ct);
        }
    }
}
