using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using QuantTrader.ExchangeSimulator.Market;

namespace QuantTrader.ExchangeSimulator.Binance;

/// <summary>
/// A Binance spot combined-stream connection (<c>/stream?streams=btcusdt@trade/ethusdt@aggTrade</c>): frames are
/// <c>{"stream":..,"data":{..}}</c> with Binance's field names; SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS are
/// answered; more than the allowed incoming messages per second cut the connection, as does the lifetime (24 h).
/// Pings every 20 s with a pong expected are done by the WebSocket layer (<see cref="WebSocketAcceptContext.KeepAliveInterval"/>
/// and <c>KeepAliveTimeout</c>): the client must echo the payload or the connection is aborted.
/// </summary>
public sealed class BinanceSession(WebSocket socket, string remote, IEnumerable<string> streams, SimulatorOptions.BinanceOptions options)
    : SimSession(QuantTrader.MarketData.Normalization.Exchanges.Binance, socket, remote)
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string AggTrade, string Trade)> StreamNameCache = new(StringComparer.Ordinal);

    private readonly HashSet<string> _streams = new(streams, StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public override IReadOnlyCollection<string> Subscriptions
    {
        get
        {
            lock (_lock)
            {
                return [.. _streams];
            }
        }
    }

    public override void OnPrint(SimPrint print)
    {
        var (aggStream, tradeStream) = StreamNames(print.Instrument.ExchangeSymbol);
        bool agg, single;
        lock (_lock)
        {
            agg = _streams.Contains(aggStream);
            single = _streams.Contains(tradeStream);
        }

        if (agg)
        {
            Send(AggTradeFrame(print));
        }

        if (single)
        {
            foreach (var (id, quantity) in print.SingleTrades())
            {
                Send(TradeFrame(print, id, quantity));
            }
        }
    }

    public override void OnReplay(Replay.ReplayFrame frame, IReadOnlyList<SimPrint> prints)
    {
        if (frame.Text is not null && frame.Stream is not null && Subscribed(frame.Stream))
        {
            Send(frame.Text);
        }

        foreach (var print in prints)
        {
            var name = print.Instrument.ExchangeSymbol.ToLowerInvariant();
            if (frame.Stream != name + "@aggTrade" && Subscribed(name + "@aggTrade"))
            {
                Send(AggTradeFrame(print));
            }

            if (frame.Stream != name + "@trade" && Subscribed(name + "@trade"))
            {
                foreach (var (id, quantity) in print.SingleTrades())
                {
                    Send(TradeFrame(print, id, quantity));
                }
            }
        }
    }

    /// <summary>
    /// <c>btcusdt@aggTrade</c> and <c>btcusdt@trade</c> of an instrument, built once per symbol rather than three strings
    /// per print on every session.
    /// </summary>
    private static (string AggTrade, string Trade) StreamNames(string exchangeSymbol) =>
        StreamNameCache.GetOrAdd(exchangeSymbol, static s =>
        {
            var name = s.ToLowerInvariant();
            return (name + "@aggTrade", name + "@trade");
        });

    private bool Subscribed(string stream)
    {
        lock (_lock)
        {
            return _streams.Contains(stream);
        }
    }

    /// <summary>One broken frame on the first subscribed stream: truncated JSON, a non-numeric price, or an unknown symbol.</summary>
    public void SendMalformed(string kind, SimInstrument instrument)
    {
        var name = instrument.Instrument.ExchangeSymbol.ToLowerInvariant();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Re-uses the last id already sent, so even a parser that accepted it could not create a trade that never was.
        var id = instrument.LastId;
        Send(kind switch
        {
            "price" => $$$"""{"stream":"{{{name}}}@aggTrade","data":{"e":"aggTrade","E":{{{now}}},"s":"{{{name.ToUpperInvariant()}}}","a":{{{id}}},"p":"12x.5","q":"0.1","f":1,"l":1,"T":{{{now}}},"m":false,"M":true}}""",
            "symbol" => $$$"""{"stream":"zzzusdt@aggTrade","data":{"e":"aggTrade","E":{{{now}}},"s":"ZZZUSDT","a":{{{id}}},"p":"1.5","q":"0.1","f":1,"l":1,"T":{{{now}}},"m":false,"M":true}}""",
            _ => $$$"""{"stream":"{{{name}}}@aggTrade","data":{"e":"aggTrade","E":{{{now}}},"s":"{{{name.ToUpperInvariant()}}}","a":""",
        });
    }

    internal static string AggTradeFrame(SimPrint p)
    {
        var name = p.Instrument.ExchangeSymbol.ToLowerInvariant();
        return string.Create(CultureInfo.InvariantCulture,
            $$$"""{"stream":"{{{name}}}@aggTrade","data":{"e":"aggTrade","E":{{{p.TimeMs}}},"s":"{{{p.Instrument.ExchangeSymbol}}}","a":{{{p.AggregateId}}},"p":"{{{p.Price}}}","q":"{{{p.Quantity}}}","f":{{{p.FirstTradeId}}},"l":{{{p.LastTradeId}}},"T":{{{p.TimeMs}}},"m":{{{Bool(p.BuyerIsMaker)}}},"M":true}}""");
    }

    private static string TradeFrame(SimPrint p, long id, decimal quantity)
    {
        var name = p.Instrument.ExchangeSymbol.ToLowerInvariant();
        return string.Create(CultureInfo.InvariantCulture,
            $$$"""{"stream":"{{{name}}}@trade","data":{"e":"trade","E":{{{p.TimeMs}}},"s":"{{{p.Instrument.ExchangeSymbol}}}","t":{{{id}}},"p":"{{{p.Price}}}","q":"{{{quantity}}}","T":{{{p.TimeMs}}},"m":{{{Bool(p.BuyerIsMaker)}}},"M":true}}""");
    }

    private static string Bool(bool b) => b ? "true" : "false";

    protected override async Task ReceiveLoopAsync(CancellationToken ct)
    {
        var windowStart = DateTimeOffset.UtcNow;
        var inWindow = 0;
        while (!ct.IsCancellationRequested)
        {
            await WhileStalledAsync(ct);
            var text = await ReceiveTextAsync(ct);
            if (text is null)
            {
                return;
            }

            var now = DateTimeOffset.UtcNow;
            if (now - windowStart >= TimeSpan.FromSeconds(1))
            {
                windowStart = now;
                inWindow = 0;
            }

            if (++inWindow > options.MaxIncomingPerSecond)
            {
                // Binance: "a connection that goes beyond the limit will be disconnected".
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, $"more than {options.MaxIncomingPerSecond} incoming messages per second");
                return;
            }

            Send(Answer(text));
        }
    }

    protected override async Task TimersAsync(CancellationToken ct)
    {
        await Task.Delay(options.ConnectionLifetime, ct);
        await CloseAsync(WebSocketCloseStatus.NormalClosure, "connection lifetime exceeded");
    }

    private string Answer(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var id = root.TryGetProperty("id", out var idElement) ? idElement.GetRawText() : "null";
            var method = root.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var parameters = root.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Array
                ? p.EnumerateArray().Select(e => e.GetString() ?? "").ToList()
                : [];
            switch (method)
            {
                case "SUBSCRIBE":
                    lock (_lock)
                    {
                        _streams.UnionWith(parameters);
                    }

                    return $$"""{"result":null,"id":{{id}}}""";
                case "UNSUBSCRIBE":
                    lock (_lock)
                    {
                        _streams.ExceptWith(parameters);
                    }

                    return $$"""{"result":null,"id":{{id}}}""";
                case "LIST_SUBSCRIPTIONS":
                    return $$"""{"result":{{JsonSerializer.Serialize(Subscriptions)}},"id":{{id}}}""";
                default:
                    return $$"""{"error":{"code":2,"msg":"Invalid request: unknown method"},"id":{{id}}}""";
            }
        }
        catch (JsonException)
        {
            return """{"error":{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1"},"id":null}""";
        }
    }
}
