using System.Text.Json;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.MarketData.Parsing;

/// <summary>
/// Binance spot WebSocket frames, combined-stream (<c>{"stream":"btcusdt@trade","data":{..}}</c>) or raw
/// (<c>{"e":"trade",..}</c>), into <see cref="Trade"/>s.
/// <list type="bullet">
/// <item><c>trade</c>: one trade, id <c>t</c>.</item>
/// <item><c>aggTrade</c>: one record for trades <c>f..l</c> at one price; <see cref="Trade.TradeId"/> is the aggregate
/// id <c>a</c> (what REST <c>/api/v3/aggTrades?fromId=</c> backfills from) and <see cref="ParsedTrade.TradeCount"/>
/// is <c>l − f + 1</c>. It is not split: Binance does not say how the quantity divides.</item>
/// <item>Taker side from <c>m</c> (buyer is maker): <c>m = true</c> means the seller took, so <see cref="TakerSide.Sell"/>.</item>
/// <item>Kline, depth and ticker events and the <c>{"result":null,"id":1}</c> subscription reply are <see cref="Ignored"/>;
/// <c>{"error":{..}}</c> replies are an <see cref="ExchangeEvent"/> of kind Error.</item>
/// </list>
/// </summary>
public sealed class BinanceMessageParser
{
    private readonly SymbolNormalizer _symbols;

    public BinanceMessageParser()
        : this(SymbolNormalizer.CreateDefault())
    {
    }

    public BinanceMessageParser(SymbolNormalizer symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        _symbols = symbols;
    }

    public ParseResult Parse(string frame) => JsonFrame.WithUtf8(frame, Parse);

    public ParseResult Parse(ReadOnlySpan<byte> utf8Frame)
    {
        using var document = JsonFrame.TryParse(utf8Frame, out var rejected);
        if (document is null)
        {
            return rejected!;
        }

        var unwrapped = Unwrap(document.RootElement, out var data, out var stream);
        if (unwrapped is not null)
        {
            return unwrapped;
        }

        if (!data.TryGetProperty("e", out var eventType) || eventType.ValueKind != JsonValueKind.String)
        {
            // bookTicker and partial depth carry no event type; nothing here for us.
            return new Ignored(stream is null ? "No event type." : $"Stream {stream} has no event type.");
        }

        if (eventType.ValueEquals("trade"u8))
        {
            return ParseTrade(data, stream);
        }

        if (eventType.ValueEquals("aggTrade"u8))
        {
            return ParseAggTrade(data, stream);
        }

        return new Ignored($"Event {eventType.GetString()}.");
    }

    /// <summary>The <c>kline</c> event as a Contracts <see cref="Kline"/> (Binance's own candle, used to check ours).</summary>
    /// <returns><see cref="KlineParsed"/>, <see cref="Ignored"/> for any other event, or <see cref="Rejected"/>.</returns>
    public ParseResult ParseKline(string frame) => JsonFrame.WithUtf8(frame, ParseKline);

    /// <inheritdoc cref="ParseKline(string)"/>
    public ParseResult ParseKline(ReadOnlySpan<byte> utf8Frame)
    {
        using var document = JsonFrame.TryParse(utf8Frame, out var rejected);
        if (document is null)
        {
            return rejected!;
        }

        var unwrapped = Unwrap(document.RootElement, out var data, out var stream);
        if (unwrapped is not null)
        {
            return unwrapped;
        }

        if (!data.TryGetProperty("e", out var eventType) || !eventType.ValueEquals("kline"u8))
        {
            return new Ignored("Not a kline event.");
        }

        if (!data.TryGetProperty("k", out var k) || k.ValueKind != JsonValueKind.Object)
        {
            return JsonFrame.Missing("k");
        }

        var instrument = Instrument(k, stream, out var symbolRejected);
        if (instrument is null)
        {
            return symbolRejected!;
        }

        var failure = JsonFrame.FirstFailure(
            JsonFrame.UnixMilliseconds(k, "t", out var openTime),
            JsonFrame.UnixMilliseconds(k, "T", out var closeTime),
            JsonFrame.String(k, "i", out var interval),
            JsonFrame.PositiveDecimal(k, "o", out var open),
            JsonFrame.PositiveDecimal(k, "h", out var high),
            JsonFrame.PositiveDecimal(k, "l", out var low),
            JsonFrame.PositiveDecimal(k, "c", out var close),
            JsonFrame.NonNegativeDecimal(k, "v", out var volume),
            JsonFrame.NonNegativeDecimal(k, "q", out var quoteVolume),
            JsonFrame.Long(k, "n", out var trades),
            JsonFrame.NonNegativeDecimal(k, "V", out var takerBuyVolume),
            JsonFrame.NonNegativeDecimal(k, "Q", out var takerBuyQuoteVolume),
            JsonFrame.Bool(k, "x", out var closed));
        if (failure is not null)
        {
            return failure;
        }

        return new KlineParsed(new Kline(
            Exchanges.Binance, instrument.Symbol, interval, openTime, closeTime,
            open, high, low, close, volume, quoteVolume, trades, takerBuyVolume, takerBuyQuoteVolume, closed));
    }

    /// <summary>Finds the event object: <c>data</c> of a combined-stream frame, or the frame itself.</summary>
    private static ParseResult? Unwrap(JsonElement root, out JsonElement data, out string? stream)
    {
        data = root;
        stream = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new Rejected(RejectKind.MalformedJson, $"Expected a JSON object, got {root.ValueKind}.");
        }

        if (root.TryGetProperty("error", out var error))
        {
            string? code = null;
            string? message = null;
            if (error.ValueKind == JsonValueKind.Object)
            {
                code = error.TryGetProperty("code", out var c) ? c.ToString() : null;
                message = error.TryGetProperty("msg", out var m) ? m.ToString() : null;
            }

            return new ExchangeEvent(ExchangeEventKind.Error, code, message ?? error.ToString(), null, null);
        }

        if (root.TryGetProperty("result", out _) && root.TryGetProperty("id", out _))
        {
            return new Ignored("Subscription reply.");
        }

        if (root.TryGetProperty("stream", out var streamElement))
        {
            if (streamElement.ValueKind != JsonValueKind.String)
            {
                return new Rejected(RejectKind.MalformedJson, "Field 'stream' must be a string.");
            }

            stream = streamElement.GetString();
            if (!root.TryGetProperty("data", out data) || data.ValueKind != JsonValueKind.Object)
            {
                return new Rejected(RejectKind.MalformedJson, "Combined-stream frame without a 'data' object.");
            }
        }

        return null;
    }

    private ParseResult ParseTrade(JsonElement data, string? stream)
    {
        var instrument = Instrument(data, stream, out var symbolRejected);
        if (instrument is null)
        {
            return symbolRejected!;
        }

        var failure = JsonFrame.FirstFailure(
            JsonFrame.Long(data, "t", out var tradeId),
            JsonFrame.PositiveDecimal(data, "p", out var price),
            JsonFrame.PositiveDecimal(data, "q", out var quantity),
            JsonFrame.UnixMilliseconds(data, "T", out var time),
            JsonFrame.Bool(data, "m", out var buyerIsMaker));
        if (failure is not null)
        {
            return failure;
        }

        var trade = new Trade(Exchanges.Binance, instrument.Symbol, tradeId, price, quantity, TakerOf(buyerIsMaker), time);
        return new TradesParsed([new ParsedTrade(trade)]);
    }

    private ParseResult ParseAggTrade(JsonElement data, string? stream)
    {
        var instrument = Instrument(data, stream, out var symbolRejected);
        if (instrument is null)
        {
            return symbolRejected!;
        }

        var failure = JsonFrame.FirstFailure(
            JsonFrame.Long(data, "a", out var aggregateId),
            JsonFrame.PositiveDecimal(data, "p", out var price),
            JsonFrame.PositiveDecimal(data, "q", out var quantity),
            JsonFrame.Long(data, "f", out var firstId),
            JsonFrame.Long(data, "l", out var lastId),
            JsonFrame.UnixMilliseconds(data, "T", out var time),
            JsonFrame.Bool(data, "m", out var buyerIsMaker));
        if (failure is not null)
        {
            return failure;
        }

        var count = lastId - firstId + 1;
        if (firstId < 0 || count < 1 || count > int.MaxValue)
        {
            return new Rejected(RejectKind.InvalidValue, $"Trade id range f={firstId} l={lastId} is impossible.");
        }

        var trade = new Trade(Exchanges.Binance, instrument.Symbol, aggregateId, price, quantity, TakerOf(buyerIsMaker), time);
        return new TradesParsed([new ParsedTrade(trade, (int)count)]);
    }

    /// <summary>Resolves <c>s</c>, and checks it agrees with the stream name it came on.</summary>
    private Instrument? Instrument(JsonElement data, string? stream, out Rejected? rejected)
    {
        rejected = JsonFrame.String(data, "s", out var exchangeSymbol);
        if (rejected is not null)
        {
            return null;
        }

        if (stream is not null)
        {
            var at = stream.IndexOf('@', StringComparison.Ordinal);
            var streamSymbol = at < 0 ? stream : stream[..at];
            if (!string.Equals(streamSymbol, exchangeSymbol, StringComparison.OrdinalIgnoreCase))
            {
                rejected = new Rejected(RejectKind.InvalidValue, $"Stream {stream} carried symbol {exchangeSymbol}.");
                return null;
            }
        }

        if (!_symbols.TryNormalize(Exchanges.Binance, exchangeSymbol, out var instrument))
        {
            rejected = new Rejected(RejectKind.UnknownSymbol, $"Unknown Binance symbol '{exchangeSymbol}'.");
            return null;
        }

        return instrument;
    }

    private static TakerSide TakerOf(bool buyerIsMaker) => buyerIsMaker ? TakerSide.Sell : TakerSide.Buy;
}
