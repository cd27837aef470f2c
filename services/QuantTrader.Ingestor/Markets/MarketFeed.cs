using QuantTrader.Ingestor.Connectors;
using QuantTrader.Ingestor.Publishing;

namespace QuantTrader.Ingestor.Markets;

/// <summary>
/// One exchange's markets of one partition while this replica owns it: the exchange connections that carry them and
/// the pipeline that sequences, backfills and publishes their trades. Stopping is a drain: the connections close
/// first, then everything they delivered is published and acknowledged, and only then does <see cref="RunAsync"/>
/// return — so when the lease is released, the last message on each market's subject is the last trade this owner
/// will ever publish, and the next owner continues right after it.
/// </summary>
public sealed class MarketFeed(ExchangeConnector connector, TradePipeline pipeline)
{
    public string Exchange => connector.Exchange;

    public IReadOnlyList<Market> Markets => connector.Markets;

    /// <param name="stopReceiving">Hand-over or shutdown: stop receiving, publish what was received.</param>
    /// <param name="abandon">The lease is lost (another replica may own the partition now): publish nothing more.</param>
    public async Task RunAsync(CancellationToken stopReceiving, CancellationToken abandon)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopReceiving, abandon);
        var publishing = pipeline.RunAsync(abandon);
        var receiving = connector.RunAsync(stop.Token);
        try
        {
            if (await Task.WhenAny(receiving, publishing) == publishing)
            {
                // The pipeline failed (or was abandoned) and reads nothing more: the connections would only wait on it.
                await stop.CancelAsync();
            }

            await receiving;
        }
        finally
        {
            pipeline.Complete();
            // Whatever ended the receiving, the lease is not given back while trades of this owner are still on their way.
            await publishing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await publishing;
    }
}
