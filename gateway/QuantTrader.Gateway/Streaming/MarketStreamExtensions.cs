using QuantTrader.Gateway.Authentication;

namespace QuantTrader.Gateway.Streaming;

/// <summary>The streaming API (<c>GET /api/v1/stream</c>, docs/streaming.md): its services and its endpoint.</summary>
public static class MarketStreamExtensions
{
    public const string Path = "/api/v1/stream";

    public static IHostApplicationBuilder AddMarketStream(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StreamOptions>().BindConfiguration(StreamOptions.Section);
        builder.Services.AddSingleton<MarketFeeds>();
        builder.Services.AddSingleton<ConnectionLimits>();
        builder.Services.AddSingleton<StreamSessions>();
        builder.Services.AddSingleton<AccountStreams>();
        builder.Services.AddSingleton<IAccountChangeObserver>(sp => sp.GetRequiredService<AccountStreams>());
        builder.Services.AddHttpClient(PortfolioFeed.HttpClientName);
        return builder;
    }

    public static WebApplication MapMarketStream(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet(Path, async (HttpContext context, StreamSessions sessions) => await sessions.AcceptAsync(context) ?? Results.Empty)
            .ExcludeFromDescription();
        return app;
    }
}
