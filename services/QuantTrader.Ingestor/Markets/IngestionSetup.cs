using NATS.Client.JetStream;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Ingestor.Backfill;
using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.Ingestor.Publishing;
using QuantTrader.MarketData.Normalization;
using QuantTrader.MarketData.Parsing;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Ingestor.Markets;

public static class IngestionSetup
{
    /// <summary>The name its partition leases go by (<c>LEASES_INGESTOR</c>).</summary>
    public const string ServiceName = "ingestor";

    /// <summary>The live feed: symbol table, exchange connectors, gap backfill and JetStream publishing.</summary>
    public static IHostApplicationBuilder AddMarketIngestion(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<MarketDataOptions>(builder.Configuration.GetSection("MarketData"));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => SymbolNormalizer.CreateDefault());
        services.AddSingleton(sp => new BinanceMessageParser(sp.GetRequiredService<SymbolNormalizer>()));
        services.AddSingleton(sp => new OkxMessageParser(sp.GetRequiredService<SymbolNormalizer>()));
        services.AddSingleton<IngestorMetrics>();
        services.AddSingleton<MarketCatalog>();
        services.AddSingleton(sp => new TradePublisher(
            sp.GetRequiredService<INatsJSContext>(), sp.GetRequiredService<ILogger<TradePublisher>>(), sp.GetRequiredService<TimeProvider>(),
            Math.Clamp(sp.GetRequiredService<IOptions<MarketDataOptions>>().Value.MaxTradesPerMessage, 1, TradeMessages.MaxPerMessage)));
        services.AddSingleton<TradePipelineFactory>();
        services.AddHttpClient("exchange-metadata");
        services.AddHttpClient<BinanceBackfill>();
        services.AddHttpClient<OkxBackfill>();
        services.AddSingleton<ITradeBackfill>(sp => sp.GetRequiredService<BinanceBackfill>());
        services.AddSingleton<ITradeBackfill>(sp => sp.GetRequiredService<OkxBackfill>());

        services.AddSingleton<MarketFeeds>();
        services.AddSingleton<MarketOwners>();

        // Order matters: the stream and the symbol table are ready before any partition is claimed. Each replica
        // connects the markets of the partitions it owns (docs/architecture.md, "Ingestor replicas").
        services.AddHostedService<IngestionStartup>();
        builder.AddPartitionedWork<MarketPartitionWork>(ServiceName);
        return builder;
    }
}

/// <summary>
/// Creates (or updates) MARKET_RAW and MARKET_HISTORY, which the ingestor owns (in that order: an older MARKET_RAW
/// still listed the history subjects), and loads the symbol table, before connecting.
/// </summary>
internal sealed class IngestionStartup(INatsJSContext js, MarketCatalog catalog, Microsoft.Extensions.Options.IOptions<MarketDataOptions> options, ILogger<IngestionStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await StreamSetup.EnsureAsync(js, Streams.MarketRaw(), logger, cancellationToken);
        await StreamSetup.EnsureAsync(js, Streams.MarketHistory(), logger, cancellationToken);
        await catalog.LoadAsync(cancellationToken);
        logger.LogInformation("Market data source {Source}: Binance {BinanceUrl}, OKX {OkxUrl}; ingesting {Markets}",
            options.Value.Source, options.Value.Binance.StreamUrl, options.Value.Okx.StreamUrl,
            string.Join(", ", catalog.All.Select(m => $"{m.Exchange}:{m.Symbol}")));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
