using QuantTrader.Contracts.MarketData;
using QuantTrader.ExchangeSimulator.Binance;
using QuantTrader.ExchangeSimulator.Market;
using QuantTrader.ExchangeSimulator.Okx;
using QuantTrader.MarketData.Normalization;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.ExchangeSimulator.Control;

public sealed record RateRequest(string? Exchange, string? Symbol, double TradesPerSecond);

public sealed record ExchangeRequest(string? Exchange);

public sealed record SkipIdsRequest(string Exchange, string Symbol, int Count, bool Recoverable = true);

public sealed record MalformedRequest(string Exchange, string? Kind, string? Symbol);

public sealed record NoticeRequest(double? GraceSeconds);

public sealed record InjectTradeRequest(string Exchange, string Symbol, decimal Price, decimal Quantity, TakerSide Side);

/// <summary>Issue 3's fault names in one call: <c>disconnect</c>, <c>stall</c>, <c>malformed</c>, <c>gap</c>, <c>notice</c>.</summary>
public sealed record FaultRequest(string Exchange, string Kind, string? Symbol, int? Count, string? Malformed);

/// <summary>
/// The simulator's control API, for tests and the load harness (not part of any exchange's protocol).
/// Everything it changes takes effect on the live connections at once.
/// </summary>
public static class ControlApi
{
    public static WebApplication MapControlApi(this WebApplication app)
    {
        var control = app.MapGroup("/control").WithTags("Simulator control");

        // What the simulator printed, as QuantTrader must publish it (Binance: one trade per aggTrade with its count;
        // OKX: aggregated entries expanded), so tests compare the ingested stream exactly.
        control.MapGet("/trades", (SimMarket market, string exchange, string symbol, long? fromId) =>
            market.Find(exchange, symbol) is { } instrument
                ? Results.Ok(instrument.Recorded().SelectMany(p => p.Normalized()).Where(t => fromId is null || t.TradeId >= fromId))
                : ProblemResults.NotFound($"Symbol {symbol} on {exchange}"));

        // The prints as the exchange made them (OKX: one entry of `count` trades ending at LastTradeId).
        control.MapGet("/prints", (SimMarket market, string exchange, string symbol) =>
            market.Find(exchange, symbol) is { } instrument
                ? Results.Ok(instrument.Recorded().Select(p => new
                {
                    p.AggregateId, p.FirstTradeId, p.LastTradeId, p.Count, p.Price, p.Quantity, p.Side, p.Time,
                }))
                : ProblemResults.NotFound($"Symbol {symbol} on {exchange}"));

        // Cheap counters for the load harness: the newest id per market (ids only go up by one).
        control.MapGet("/stats", (SimMarket market) => market.Instruments.Select(i => new
        {
            i.Exchange, i.Instrument.Symbol, LastTradeId = i.LastNormalizedId, i.TradesPerSecond,
        }));

        control.MapPost("/trades", (SimMarket market, InjectTradeRequest request) =>
        {
            if (Find(market, request.Exchange, request.Symbol, out var problem) is not { } instrument)
            {
                return problem!;
            }

            if (request.Price <= 0 || request.Quantity <= 0)
            {
                return ProblemResults.Validation(request.Price <= 0 ? "price" : "quantity", "Price and quantity must be positive.");
            }

            var print = instrument.Inject(DateTimeOffset.UtcNow, request.Price, request.Quantity, request.Side == TakerSide.Sell);
            market.Broadcast(print);
            return Results.Ok(print.Normalized());
        });

        control.MapGet("/connections", (SimMarket market, string? exchange) => market.AllSessions()
            .Where(s => exchange is null || s.Exchange == exchange)
            .Select(s => new
            {
                s.Id, s.Exchange, s.Remote, s.OpenedAt, s.ClosedAt, s.CloseReason, s.Stalled,
                FramesSent = Interlocked.Read(ref s.FramesSent), s.Subscriptions,
            }));

        control.MapPost("/rate", (SimMarket market, RateRequest request) =>
        {
            if (request.TradesPerSecond < 0 || request.TradesPerSecond > 1_000_000)
            {
                return ProblemResults.Validation("tradesPerSecond", "Between 0 and 1,000,000 trades per second per symbol.");
            }

            var changed = market.Instruments
                .Where(i => request.Exchange is null || i.Exchange == request.Exchange)
                .Where(i => request.Symbol is null || i.Instrument.Symbol == request.Symbol.ToUpperInvariant())
                .ToList();
            changed.ForEach(i => i.TradesPerSecond = request.TradesPerSecond);
            return Results.Ok(new { changed = changed.Count });
        });

        control.MapPost("/drop-connections", (SimMarket market, ExchangeRequest request) =>
            Results.Ok(new { dropped = Drop(market, request.Exchange) }));

        control.MapPost("/stall", (SimMarket market, ExchangeRequest request) =>
            Results.Ok(new { stalled = Stall(market, request.Exchange) }));

        control.MapPost("/skip-ids", (SimMarket market, SkipIdsRequest request) => SkipIds(market, request));

        control.MapPost("/malformed", (SimMarket market, MalformedRequest request) => Malformed(market, request));

        control.MapPost("/notice-64008", (SimMarket market, NoticeRequest request) =>
        {
            var grace = request.GraceSeconds is double s ? TimeSpan.FromSeconds(s) : market.Options.Okx.NoticeGrace;
            var sessions = market.OpenSessions(Exchanges.Okx).OfType<OkxSession>().ToList();
            sessions.ForEach(session => session.SendUpgradeNotice(grace));
            return Results.Ok(new { noticed = sessions.Count });
        });

        control.MapPost("/faults", (SimMarket market, FaultRequest request) => request.Kind switch
        {
            "disconnect" => Results.Ok(new { dropped = Drop(market, request.Exchange) }),
            "stall" => Results.Ok(new { stalled = Stall(market, request.Exchange) }),
            "malformed" => Malformed(market, new MalformedRequest(request.Exchange, request.Malformed, request.Symbol)),
            "gap" => SkipIds(market, new SkipIdsRequest(request.Exchange, request.Symbol ?? "BTCUSDT", request.Count ?? 5)),
            _ => ProblemResults.Validation("kind", "One of disconnect, stall, malformed, gap."),
        });

        return app;
    }

    private static int Drop(SimMarket market, string? exchange)
    {
        var sessions = market.OpenSessions(exchange).ToList();
        sessions.ForEach(s => s.Abort("dropped by the control API"));
        return sessions.Count;
    }

    private static int Stall(SimMarket market, string? exchange)
    {
        var sessions = market.OpenSessions(exchange).ToList();
        sessions.ForEach(s => s.Stalled = true);
        return sessions.Count;
    }

    private static IResult SkipIds(SimMarket market, SkipIdsRequest request)
    {
        if (Find(market, request.Exchange, request.Symbol, out var problem) is not { } instrument)
        {
            return problem!;
        }

        if (request.Count is < 1 or > 100_000)
        {
            return ProblemResults.Validation("count", "Between 1 and 100,000.");
        }

        if (!request.Recoverable)
        {
            var (from, to) = instrument.SkipUnrecoverable(request.Count);
            return Results.Ok(new { from, to, recoverable = false });
        }

        var after = instrument.LastId;
        instrument.HideNext(request.Count);
        return Results.Ok(new { afterId = after, count = request.Count, recoverable = true });
    }

    private static IResult Malformed(SimMarket market, MalformedRequest request)
    {
        var kind = request.Kind ?? "json";
        if (kind is not ("json" or "price" or "symbol"))
        {
            return ProblemResults.Validation("kind", "One of json (truncated frame), price (non-numeric price), symbol (unknown symbol).");
        }

        var instrument = market.Find(request.Exchange, request.Symbol ?? "BTCUSDT");
        if (instrument is null)
        {
            return ProblemResults.NotFound($"Symbol {request.Symbol} on {request.Exchange}");
        }

        var sent = 0;
        foreach (var session in market.OpenSessions(request.Exchange))
        {
            switch (session)
            {
                case BinanceSession binance:
                    binance.SendMalformed(kind, instrument);
                    sent++;
                    break;
                case OkxSession okx:
                    okx.SendMalformed(kind, instrument);
                    sent++;
                    break;
            }
        }

        return Results.Ok(new { sent });
    }

    private static SimInstrument? Find(SimMarket market, string exchange, string symbol, out IResult? problem)
    {
        var instrument = market.Find(exchange, symbol);
        problem = instrument is null ? ProblemResults.NotFound($"Symbol {symbol} on {exchange}") : null;
        return instrument;
    }
}
