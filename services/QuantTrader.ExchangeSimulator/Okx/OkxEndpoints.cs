using System.Globalization;
using QuantTrader.ExchangeSimulator.Binance;
using QuantTrader.ExchangeSimulator.Market;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.ExchangeSimulator.Okx;

/// <summary>OKX v5: the public WebSocket and the REST endpoints the ingestor uses.</summary>
public static class OkxEndpoints
{
    public static WebApplication MapOkx(this WebApplication app)
    {
        app.Map("/ws/v5/public", StreamAsync).ExcludeFromDescription();
        app.MapGet("/api/v5/market/history-trades", HistoryTrades).ExcludeFromDescription();
        app.MapGet("/api/v5/public/instruments", Instruments).ExcludeFromDescription();
        return app;
    }

    private static async Task StreamAsync(HttpContext context, SimMarket market, IHostApplicationLifetime lifetime)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var session = new OkxSession(socket, BinanceEndpoints.Remote(context), market, market.Options.Okx);
        await market.RunSessionAsync(session, lifetime.ApplicationStopping);
    }

    /// <summary>
    /// <c>type=1</c> (by trade id, the default): <c>after</c> = trades older than that id, <c>before</c> = newer; newest
    /// first, at most 100. Single trades: aggregated prints are served expanded, as OKX's history does.
    /// </summary>
    private static IResult HistoryTrades(SimMarket market, string? instId, long? after, long? before, int? limit)
    {
        if (market.Find(Exchanges.Okx, instId) is not { } instrument || instrument.Instrument.ExchangeSymbol != instId)
        {
            return Results.Json(new { code = "51001", msg = "Instrument ID does not exist.", data = Array.Empty<object>() }, statusCode: 400);
        }

        var take = Math.Clamp(limit ?? 100, 1, 100);
        var trades = instrument.Recorded()
            .SelectMany(p => p.SingleTrades().Select(t => (Print: p, t.TradeId, t.Quantity)))
            .Where(t => (after is null || t.TradeId < after) && (before is null || t.TradeId > before))
            .Reverse()
            .Take(take)
            .Select(t => new
            {
                instId = instrument.Instrument.ExchangeSymbol,
                side = t.Print.BuyerIsMaker ? "sell" : "buy",
                sz = t.Quantity.ToString(CultureInfo.InvariantCulture),
                px = t.Print.Price.ToString(CultureInfo.InvariantCulture),
                source = "0",
                tradeId = t.TradeId.ToString(CultureInfo.InvariantCulture),
                ts = t.Print.TimeMs.ToString(CultureInfo.InvariantCulture),
            });
        return Results.Json(new { code = "0", msg = "", data = trades });
    }

    private static IResult Instruments(SimMarket market, string? instType)
    {
        if (!string.Equals(instType, "SPOT", StringComparison.Ordinal))
        {
            return Results.Json(new { code = "51000", msg = "Parameter instType error", data = Array.Empty<object>() }, statusCode: 400);
        }

        return Results.Json(new
        {
            code = "0",
            msg = "",
            data = market.On(Exchanges.Okx).Select(i => new
            {
                instType = "SPOT",
                instId = i.Instrument.ExchangeSymbol,
                baseCcy = i.Instrument.BaseAsset,
                quoteCcy = i.Instrument.QuoteAsset,
                tickSz = i.Instrument.TickSize.ToString(CultureInfo.InvariantCulture),
                lotSz = i.Instrument.StepSize.ToString(CultureInfo.InvariantCulture),
                minSz = i.Instrument.StepSize.ToString(CultureInfo.InvariantCulture),
                state = "live",
            }),
        });
    }
}
