using System.Globalization;
using Microsoft.Extensions.Configuration;
using QuantTrader.AppHost.Kubernetes;

namespace QuantTrader.AppHost.Infrastructure;

/// <summary>
/// Where market data comes from: <c>QuantTrader:MarketData:Source</c> = <c>simulator</c> (default: the exchange
/// simulator runs as resource <c>exchange-simulator</c> and the ingestor connects to it, offline) or <c>live</c>
/// (the ingestor's own defaults: wss://stream.binance.com:9443, wss://ws.okx.com:8443/ws/v5/public and their REST bases).
/// </summary>
public static class MarketDataSource
{
    /// <param name="dataDirectory">The run's data folder: the simulator keeps its markets' ids and prices there across restarts.</param>
    public static IResourceBuilder<ProjectResource> WithMarketData(this IResourceBuilder<ProjectResource> ingestor, IDistributedApplicationBuilder builder, string dataDirectory)
    {
        var section = builder.Configuration.GetSection("QuantTrader:MarketData");
        // A deployment (publish mode: Kubernetes manifests) trades on the real exchanges unless told otherwise;
        // a local run is offline against the simulator.
        var source = (section["Source"] ?? (builder.ExecutionContext.IsPublishMode ? "live" : "simulator")).Trim().ToLowerInvariant();
        if (source == "live")
        {
            // The exchanges' WebSocket and REST endpoints (Binance 9443 and 443, OKX 8443 and 443).
            return ingestor.WithEnvironment("MarketData__Source", "live").WithExternalEgress("exchange feeds", 443, 8443, 9443);
        }

        if (source is not ("simulator" or "sim"))
        {
            throw new InvalidOperationException($"QuantTrader:MarketData:Source must be 'simulator' or 'live', not '{source}'.");
        }

        // The simulator's control API sits on a fixed, documented port (8091); tests pass 0 for any free port.
        var port = section.GetValue("SimulatorPort", 8091);
        // Binance cuts connections after 24 h; a shorter simulated lifetime exercises the ingestor's switch-over often.
        var lifetime = section.GetValue("ConnectionLifetime", TimeSpan.FromHours(24));
        var rotateAfter = lifetime - TimeSpan.FromTicks(Math.Min(lifetime.Ticks / 4, TimeSpan.FromMinutes(30).Ticks));

        var simulator = builder.AddProject<Projects.QuantTrader_ExchangeSimulator>("exchange-simulator", launchProfileName: null)
            .WithHttpEndpoint(port: port > 0 ? port : null, name: "http")
            .WithHttpHealthCheck("/health")
            .WithEnvironment("Simulator__Binance__ConnectionLifetime", lifetime.ToString("c", CultureInfo.InvariantCulture));
        if (!builder.ExecutionContext.IsPublishMode)
        {
            // Trade ids go on across restarts, as on a real exchange (SimState): ids that went back made every consumer
            // ignore a market until they climbed past the old ones. (A deployment has no local data folder.)
            simulator.WithEnvironment("Simulator__StateFile", Path.Combine(dataDirectory, "exchange-simulator", "state.json"));
        }
        var endpoint = simulator.GetEndpoint("http");

        return ingestor
            .WithReference(simulator)
            .WaitFor(simulator)
            .WithEnvironment("MarketData__Source", "simulator")
            .WithEnvironment("MarketData__Binance__StreamUrl", ReferenceExpression.Create($"ws://{endpoint.Property(EndpointProperty.HostAndPort)}/stream"))
            .WithEnvironment("MarketData__Binance__RestUrl", endpoint)
            .WithEnvironment("MarketData__Binance__RotateAfter", rotateAfter.ToString("c", CultureInfo.InvariantCulture))
            .WithEnvironment("MarketData__Okx__StreamUrl", ReferenceExpression.Create($"ws://{endpoint.Property(EndpointProperty.HostAndPort)}/ws/v5/public"))
            .WithEnvironment("MarketData__Okx__RestUrl", endpoint)
            // A simulated feed that goes quiet is a fault we inject: notice it sooner than on the real exchange.
            .WithEnvironment("MarketData__Binance__StaleAfter", "00:00:10")
            .WithEnvironment("MarketData__Okx__StaleAfter", "00:00:10")
            .WithEnvironment("MarketData__Okx__PingAfterIdle", "00:00:05");
    }
}
