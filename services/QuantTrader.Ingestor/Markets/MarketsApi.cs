using QuantTrader.Contracts.Messaging;
using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Ingestor.Markets;

/// <summary>
/// A market as <c>GET /api/v1/markets</c> shows it: the catalog's entry, its partition, and the ingestor replica
/// connected to it now (null while it moves between replicas).
/// </summary>
public sealed record MarketView(string Exchange, string Symbol, string Base, string Quote, string ExchangeSymbol, int Partition, string? IngestedBy);

public static class MarketsApi
{
    public static WebApplication MapMarketsApi(this WebApplication app)
    {
        // Public (the gateway lets market routes through without a key). The same from every replica: the markets are
        // configuration, their owners are in the shared lease bucket.
        app.MapGet("/api/v1/markets", async (MarketCatalog catalog, MarketOwners owners, CancellationToken ct) =>
            {
                var current = await owners.CurrentAsync(ct);
                return TypedResults.Ok(catalog.All.Select(m =>
                {
                    var partition = Partitions.OfMarket(m.Exchange, m.Symbol);
                    return new MarketView(m.Exchange, m.Symbol, m.Base, m.Quote, m.ExchangeSymbol, partition, current.GetValueOrDefault(partition));
                }));
            })
            .WithTags("Market data")
            .WithSummary("Markets being ingested")
            .WithDescription("Every exchange and symbol the ingestor is subscribed to, with base and quote assets, the exchange's own spelling, "
                + "the market's partition and the ingestor replica that holds its connection now (null while it moves to another replica).");

        // Service-internal (not routed by the gateway): what this replica's connectors counted (each replica counts the
        // markets it owns), and which partitions it owns — for operators and tests.
        app.MapGet("/ingestion/status", (IngestorMetrics metrics) => TypedResults.Ok(metrics.Snapshot()))
            .ExcludeFromDescription();
        app.MapGet("/ingestion/partitions", (PartitionLeases leases) => TypedResults.Ok(new { leases.Instance, leases.Owned }))
            .ExcludeFromDescription();
        return app;
    }
}
