using System.Text.RegularExpressions;
using QuantTrader.Contracts.MarketData;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;
using QuantTrader.ServiceDefaults.Queries;

namespace QuantTrader.Persistence.Queries;

public sealed record TradeView(long TradeId, DateTimeOffset Time, decimal Price, decimal Quantity, TakerSide Side, int Count);

public sealed record KlineView(
    DateTimeOffset OpenTime, DateTimeOffset CloseTime, decimal Open, decimal High, decimal Low, decimal Close,
    decimal Volume, decimal QuoteVolume, long Trades, bool Closed, decimal TakerBuyVolume, decimal TakerBuyQuoteVolume);

/// <summary>
/// Stored trades and klines (API.md "Market data"), public like all market data. Lists are oldest first: with
/// <c>from</c> they start there; without it they are the newest <c>limit</c> rows (still returned oldest first).
/// How far back is the caller's plan <c>HistoryDays</c> (anonymous callers: the free plan's), counted from the
/// market's newest row (<see cref="HistoryWindow"/>); what is kept at all is bounded by retention (Persistence:Retention).
/// </summary>
public static partial class MarketDataApi
{
    public static readonly string[] Exchanges = ["binance", "okx"];

    public static WebApplication MapMarketDataApi(this WebApplication app)
    {
        var markets = app.MapGroup("/api/v1/markets/{exchange}/{symbol}").WithTags("Market data");
        markets.MapGet("/trades", GetTradesAsync)
            .WithSummary("Stored trades, oldest first: from/to (ISO-8601 or epoch ms, inclusive), limit (default 500, max 1000).");
        markets.MapGet("/klines", GetKlinesAsync)
            .WithSummary("Stored klines of one interval by open time, oldest first; the newest may be open (closed: false).");
        return app;
    }

    private static async Task<IResult> GetTradesAsync(
        string exchange, string symbol, string? from, string? to, string? limit, MarketDataQueries queries, HttpContext http, IConfiguration configuration, CancellationToken ct)
    {
        if (!TryMarket(exchange, symbol, out var market, out var problem) || !ListQuery.TryParse(from, to, limit, out var query, out problem))
        {
            return problem!;
        }
        var caller = http.FindCaller();
        var days = HistoryWindow.DaysFor(caller, configuration);
        var horizon = HistoryWindow.Horizon(await queries.NewestTradeAsync(market.Exchange, market.Symbol, ct), days);
        if ((HistoryWindow.Refusal("from", query.From, horizon, days, caller) ?? HistoryWindow.Refusal("to", query.To, horizon, days, caller)) is { } refused)
        {
            return refused;
        }
        return TypedResults.Ok(await queries.TradesAsync(market.Exchange, market.Symbol, query, horizon, ct));
    }

    private static async Task<IResult> GetKlinesAsync(
        string exchange, string symbol, string? interval, string? from, string? to, string? limit, MarketDataQueries queries, HttpContext http, IConfiguration configuration, CancellationToken ct)
    {
        if (!TryMarket(exchange, symbol, out var market, out var problem) || !ListQuery.TryParse(from, to, limit, out var query, out problem))
        {
            return problem!;
        }
        if (string.IsNullOrEmpty(interval))
        {
            return ProblemResults.Validation("interval", $"'interval' is required: one of {string.Join(' ', KlineIntervals.All.Keys)}.");
        }
        if (!KlineIntervals.IsKnown(interval))
        {
            return ProblemResults.Validation("interval", $"Unknown interval '{interval}': use one of {string.Join(' ', KlineIntervals.All.Keys)}.");
        }
        var caller = http.FindCaller();
        var days = HistoryWindow.DaysFor(caller, configuration);
        var horizon = HistoryWindow.Horizon(await queries.NewestKlineAsync(market.Exchange, market.Symbol, interval, ct), days);
        if ((HistoryWindow.Refusal("from", query.From, horizon, days, caller) ?? HistoryWindow.Refusal("to", query.To, horizon, days, caller)) is { } refused)
        {
            return refused;
        }
        return TypedResults.Ok(await queries.KlinesAsync(market.Exchange, market.Symbol, interval, query, horizon, ct));
    }

    private static bool TryMarket(string exchange, string symbol, out (string Exchange, string Symbol) market, out IResult? problem)
    {
        market = default;
        problem = null;
        var e = exchange.ToLowerInvariant();
        if (!Exchanges.Contains(e))
        {
            problem = ProblemResults.Validation("exchange", $"Unknown exchange '{exchange}': use one of {string.Join(", ", Exchanges)}.");
            return false;
        }
        var s = symbol.ToUpperInvariant();
        if (!SymbolPattern().IsMatch(s))
        {
            problem = ProblemResults.Validation("symbol", $"'{symbol}' is not a normalized symbol (letters and digits, like BTCUSDT).");
            return false;
        }
        market = (e, s);
        return true;
    }

    [GeneratedRegex("^[A-Z0-9]{2,30}$")]
    private static partial Regex SymbolPattern();
}
