using QuantTrader.Ingestor.Diagnostics;

namespace QuantTrader.Ingestor.Markets;

public static class MarketsApi
{
    public static WebApplication MapMarketsApi(this WebApplication app)
    {
        // Public (the gateway lets market routes through without a key).
        app.MapGet("/api/v1/markets", (MarketCatalog catalog) => TypedResults.Ok(catalog.All))
            .WithTags("Market data")
            .WithSummary("Markets being ingested")
            .WithDescription("Every exchange and symbol the ingestor is subscribed to, with base and quote assets and the exchange's own spelling.");

        // Service-internal (not routed by the gateway): what the connectors counted, for operators and tests.
        app.MapGet("/ingestion/status", (IngestorMetrics metrics) => TypedResults.Ok(metrics.Snapshot()))
            .ExcludeFromDescription();
        return app;
    }
}
