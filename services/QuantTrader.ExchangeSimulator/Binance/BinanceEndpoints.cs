using System.Globalization;
using Microsoft.AspNetCore.WebSockets;
using Microsoft.Extensions.Options;
using QuantTrader.ExchangeSimulator.Market;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.ExchangeSimulator.Binance;

/// <summary>Binance spot: the combined-stream WebSocket and the REST endpoints the ingestor uses.</summary>
public static class BinanceEndpoints
{
    public const int MaxStreamsPerConnection = 1024;

    public static WebApplication MapBinance(this WebApplication app)
    {
        app.Map("/stream", StreamAsync).ExcludeFromDescription();
        app.MapGet("/api/v3/aggTrades", AggTrades).ExcludeFromDescription();
        app.MapGet("/api/v3/exchangeInfo", ExchangeInfo).ExcludeFromDescription();
        app.MapGet("/api/v3/ping", () => Results.Json(new { })).ExcludeFromDescription();
        return app;
    }

    private static async Task StreamAsync(HttpContext context, SimMarket market, IHostApplicationLifetime lifetime)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var streams = (context.Request.Query["streams"].ToString())
            .Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (streams.Length > MaxStreamsPerConnection)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new { code = -1, msg = $"Too many streams: {streams.Length} > {MaxStreamsPerConnection}." });
            return;
        }

        var options = market.Options.Binance;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = options.PingInterval,
            KeepAliveTimeout = options.PongTimeout,
        });
        var session = new BinanceSession(socket, Remote(context), streams, options);
        await market.RunSessionAsync(session, lifetime.ApplicationStopping);
    }

    private static IResult AggTrades(SimMarket market, string? symbol, long? fromId, long? startTime, long? endTime, int? limit)
    {
        if (market.Find(Exchanges.Binance, symbol) is not { } instrument || instrument.Instrument.ExchangeSymbol != symbol)
        {
            return Results.Json(new { code = -1121, msg = "Invalid symbol." }, statusCode: 400);
        }

        var take = Math.Clamp(limit ?? 500, 1, 1000);
        IEnumerable<SimPrint> prints = instrument.Recorded();
        if (fromId is long from)
        {
            prints = prints.Where(p => p.AggregateId >= from).Take(take);
        }
        else
        {
            prints = prints.Where(p => (startTime is null || p.TimeMs >= startTime) && (endTime is null || p.TimeMs <= endTime));
            prints = startTime is null ? prints.TakeLast(take) : prints.Take(take);
        }

        return Results.Json(prints.Select(p => new Dictionary<string, object>
        {
            ["a"] = p.AggregateId,
            ["p"] = p.Price.ToString(CultureInfo.InvariantCulture),
            ["q"] = p.Quantity.ToString(CultureInfo.InvariantCulture),
            ["f"] = p.FirstTradeId,
            ["l"] = p.LastTradeId,
            ["T"] = p.TimeMs,
            ["m"] = p.BuyerIsMaker,
            ["M"] = true,
        }));
    }

    private static IResult ExchangeInfo(SimMarket market) => Results.Json(new
    {
        timezone = "UTC",
        serverTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        symbols = market.On(Exchanges.Binance).Select(i => new
        {
            symbol = i.Instrument.ExchangeSymbol,
            status = "TRADING",
            baseAsset = i.Instrument.BaseAsset,
            quoteAsset = i.Instrument.QuoteAsset,
            filters = new object[]
            {
                new { filterType = "PRICE_FILTER", minPrice = Fixed(i.Instrument.TickSize), maxPrice = "1000000.00000000", tickSize = Fixed(i.Instrument.TickSize) },
                new { filterType = "LOT_SIZE", minQty = Fixed(i.Instrument.StepSize), maxQty = "9000.00000000", stepSize = Fixed(i.Instrument.StepSize) },
                new { filterType = "NOTIONAL", minNotional = Fixed(i.Instrument.MinNotional), applyMinToMarket = true },
            },
        }),
    }, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web) { PropertyNamingPolicy = null });

    /// <summary>Binance writes filters with eight decimals.</summary>
    private static string Fixed(decimal value) => value.ToString("0.00000000", CultureInfo.InvariantCulture);

    internal static string Remote(HttpContext context) =>
        $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
}
