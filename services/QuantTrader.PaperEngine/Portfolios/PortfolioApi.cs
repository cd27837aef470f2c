using QuantTrader.PaperEngine.Engine;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.PaperEngine.Portfolios;

public static class PortfolioApi
{
    public static WebApplication MapPortfolioApi(this WebApplication app)
    {
        app.MapGet("/api/v1/portfolio", async (HttpContext http, ExchangeLoop loop, CancellationToken ct) =>
                TypedResults.Ok(await loop.GetPortfolioAsync(http.GetCaller().UserId, ct)))
            .WithTags("Trading").RequireCaller()
            .WithSummary("Balances (free, locked), positions with average entry price and unrealized PnL, equity and realized PnL, valued in USDT at the last trade prices.");
        return app;
    }
}
