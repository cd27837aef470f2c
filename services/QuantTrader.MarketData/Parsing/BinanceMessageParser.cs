using System.Text;
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
/// <para>
/// Speed (issue 3): a trade or aggTrade frame is read in one forward pass with <see cref="Utf8JsonReader"/>, numbers
/// straight from the bytes, the symbol looked up without a string. Anything that pass does not recognise as a
/// plainly valid trade (control replies, other events, escapes, duplicate fields, any invalid value) goes through the
/// <see cref="JsonDocument"/> path instead, which alone decides what is ignored or rejected and why.
/// </para>
/// </summary>
public sealed class BinanceMessageParser
{
    private readonly SymbolNormalizer _symbols;
    private readonly ExchangeSymbolLookup _lookup;

    public BinanceMessageParser()
        : this(SymbolNormalizer.CreateDefault())
    {
    }

    public BinanceMessageParser(SymbolNormalizer symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        _symbols = symbols;
        _lookup = new ExchangeSymbolLookup(symbols, Exchanges.Binance);
    }

    public ParseResult Parse(string frame) => Utf8Fields.WithUtf8(frame, this, static (parser, utf8) => parser.Parse(utf8));

    public ParseResult Parse(ReadOnlySpan<byte> utf8Frame) => TryParseTrade(utf8Frame) ?? ParseDocument(utf8Frame);

    /// <summary>The general path: every frame the single pass does not take, and the judge of every rejection.</summary>
    internal ParseResult ParseDocument(ReadOnlySpan<byte> utf8Frame)
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
    public ParseResult ParseKline(string frame) =>
        Utf8Fields.WithUtf8(frame, this, static (parser, utf8) => parser.ParseKline(utf8));

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

    /// <summary>
    /// The single pass over a combined-stream or raw <c>trade</c>/<c>aggTrade</c> frame. Null whenever the frame is
    /// anything but a valid trade in the plain form exchanges send; the result is then decided by <see cref="ParseDocument"/>.
    /// </summary>
    internal ParseResult? TryParseTrade(ReadOnlySpan<byte> utf8Frame)
    {
        try
        {
            return TryParseTradeCore(utf8Frame);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private ParseResult? TryParseTradeCore(ReadOnlySpan<byte> utf8Frame)
    {
        var template = default(TradeFields);
        if (MatchCombinedTemplate(utf8Frame, ref template, out var templateStream))
        {
            return Build(ref template, combined: true, templateStream);
        }

        var reader = new Utf8JsonReader(utf8Frame, new JsonReaderOptions { MaxDepth = 16 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject
            || !reader.Read() || reader.TokenType != JsonTokenType.PropertyName)
        {
            return null;
        }

        var fields = default(TradeFields);
        ReadOnlySpan<byte> stream = default;
        var combined = reader.ValueTextEquals("stream"u8);
        if (combined)
        {
            // {"stream":"btcusdt@aggTrade","data":{..}} and nothing else at the top.
            if (!reader.Read() || !Utf8Fields.TryPlainString(ref reader, out stream)
                || !reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("data"u8)
                || !reader.Read() || reader.TokenType != JsonTokenType.StartObject
                || !reader.Read() || !ReadEvent(ref reader, ref fields, isRoot: false)
                || !reader.Read() || reader.TokenType != JsonTokenType.EndObject)
            {
                return null;
            }
        }
        else if (!ReadEvent(ref reader, ref fields, isRoot: true))
        {
            return null;
        }

        if (reader.Read())
        {
            return null; // data after the value
        }

        return Build(ref fields, combined, stream);
    }

    /// <summary>
    /// The combined-stream frame exactly as Binance sends it (<c>{"stream":"..","data":{"e":"aggTrade","E":..,"s":"..",
    /// "a":..,"p":"..","q":"..","f":..,"l":..,"T":..,"m":..,"M":..}}</c>, or the <c>trade</c> event with <c>t</c>),
    /// matched byte by byte: about a third of a token walk. False at the first deviation.
    /// </summary>
    private static bool MatchCombinedTemplate(ReadOnlySpan<byte> utf8Frame, ref TradeFields f, out ReadOnlySpan<byte> stream)
    {
        var t = new FrameTemplate(utf8Frame);
        stream = default;
        if (!t.Literal("{\"stream\":\""u8) || !t.StringBody(out stream)
            || !t.Literal(",\"data\":{\"e\":\""u8) || !t.StringBody(out f.Event)
            || !t.Literal(",\"E\":"u8) || !t.Integer(out _)
            || !t.Literal(",\"s\":\""u8) || !t.StringBody(out f.Symbol))
        {
            return false;
        }

        if (f.Event.SequenceEqual("aggTrade"u8))
        {
            if (!t.Literal(",\"a\":"u8) || !t.Integer(out f.AggregateId)
                || !t.Literal(",\"p\":\""u8) || !t.StringBody(out var price) || !Utf8Fields.TryPositiveDecimal(price, out f.Price)
                || !t.Literal(",\"q\":\""u8) || !t.StringBody(out var quantity) || !Utf8Fields.TryPositiveDecimal(quantity, out f.Quantity)
                || !t.Literal(",\"f\":"u8) || !t.Integer(out f.FirstId)
                || !t.Literal(",\"l\":"u8) || !t.Integer(out f.LastId))
            {
                return false;
            }

            f.Seen = TradeFields.AggregateIdBit | TradeFields.FirstIdBit | TradeFields.LastIdBit;
        }
        else if (f.Event.SequenceEqual("trade"u8))
        {
            if (!t.Literal(",\"t\":"u8) || !t.Integer(out f.TradeId)
                || !t.Literal(",\"p\":\""u8) || !t.StringBody(out var price) || !Utf8Fields.TryPositiveDecimal(price, out f.Price)
                || !t.Literal(",\"q\":\""u8) || !t.StringBody(out var quantity) || !Utf8Fields.TryPositiveDecimal(quantity, out f.Quantity))
            {
                return false;
            }

            f.Seen = TradeFields.TradeIdBit;
        }
        else
        {
            return false;
        }

        if (!t.Literal(",\"T\":"u8) || !t.Integer(out f.TimeMs) || !Utf8Fields.IsPlausibleEpochMilliseconds(f.TimeMs)
            || !t.Literal(",\"m\":"u8) || !t.Boolean(out f.BuyerIsMaker)
            || !t.Literal(",\"M\":"u8) || !t.Boolean(out _)
            || !t.Literal("}}"u8) || !t.AtEnd)
        {
            return false;
        }

        f.Seen |= TradeFields.EventType | TradeFields.SymbolBit | TradeFields.PriceBit | TradeFields.QuantityBit
            | TradeFields.TimeBit | TradeFields.MakerBit;
        return true;
    }

    /// <summary>Reads an event object's fields, from its first property name (or end) to its end.</summary>
    private static bool ReadEvent(scoped ref Utf8JsonReader reader, ref TradeFields f, bool isRoot)
    {
        while (reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped)
            {
                return false;
            }

            var name = reader.ValueSpan;
            if (!reader.Read())
            {
                return false;
            }

            if (name.Length != 1)
            {
                // Binance event fields are one letter. At the top of a raw frame a longer name may be "error",
                // "result" or "stream": the general path sorts those out.
                if (isRoot)
                {
                    return false;
                }

                Utf8Fields.SkipValue(ref reader);
            }
            else if (!ReadField(ref reader, ref f, name[0]))
            {
                return false;
            }

            if (!reader.Read())
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }

    private static bool ReadField(scoped ref Utf8JsonReader reader, ref TradeFields f, byte name)
    {
        var bit = name switch
        {
            (byte)'e' => TradeFields.EventType,
            (byte)'s' => TradeFields.SymbolBit,
            (byte)'t' => TradeFields.TradeIdBit,
            (byte)'a' => TradeFields.AggregateIdBit,
            (byte)'p' => TradeFields.PriceBit,
            (byte)'q' => TradeFields.QuantityBit,
            (byte)'f' => TradeFields.FirstIdBit,
            (byte)'l' => TradeFields.LastIdBit,
            (byte)'T' => TradeFields.TimeBit,
            (byte)'m' => TradeFields.MakerBit,
            _ => 0,
        };
        if (bit == 0)
        {
            Utf8Fields.SkipValue(ref reader);
            return true;
        }

        if ((f.Seen & bit) != 0)
        {
            return false; // a repeated field: let the general path apply its rule
        }

        f.Seen |= bit;
        switch (bit)
        {
            case TradeFields.EventType:
                // Any other event (kline, depth) is the general path's to ignore: stop reading at once.
                return Utf8Fields.TryPlainString(ref reader, out f.Event)
                    && (f.Event.SequenceEqual("aggTrade"u8) || f.Event.SequenceEqual("trade"u8));
            case TradeFields.SymbolBit:
                return Utf8Fields.TryPlainString(ref reader, out f.Symbol);
            case TradeFields.TradeIdBit:
                return Utf8Fields.TryLong(ref reader, allowString: false, out f.TradeId);
            case TradeFields.AggregateIdBit:
                return Utf8Fields.TryLong(ref reader, allowString: false, out f.AggregateId);
            case TradeFields.PriceBit:
                return Utf8Fields.TryPositiveDecimal(ref reader, out f.Price);
            case TradeFields.QuantityBit:
                return Utf8Fields.TryPositiveDecimal(ref reader, out f.Quantity);
            case TradeFields.FirstIdBit:
                return Utf8Fields.TryLong(ref reader, allowString: false, out f.FirstId);
            case TradeFields.LastIdBit:
                return Utf8Fields.TryLong(ref reader, allowString: false, out f.LastId);
            case TradeFields.TimeBit:
                return Utf8Fields.TryLong(ref reader, allowString: false, out f.TimeMs)
                    && Utf8Fields.IsPlausibleEpochMilliseconds(f.TimeMs);
            default: // MakerBit
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                {
                    return false;
                }

                f.BuyerIsMaker = reader.TokenType == JsonTokenType.True;
                return true;
        }
    }

    private TradesParsed? Build(scoped ref TradeFields f, bool combined, scoped ReadOnlySpan<byte> stream)
    {
        const int Common = TradeFields.EventType | TradeFields.SymbolBit | TradeFields.PriceBit | TradeFields.QuantityBit
            | TradeFields.TimeBit | TradeFields.MakerBit;
        bool aggregate;
        if (f.Event.SequenceEqual("aggTrade"u8))
        {
            aggregate = true;
        }
        else if (f.Event.SequenceEqual("trade"u8))
        {
            aggregate = false;
        }
        else
        {
            return null;
        }

        var required = Common | (aggregate
            ? TradeFields.AggregateIdBit | TradeFields.FirstIdBit | TradeFields.LastIdBit
            : TradeFields.TradeIdBit);
        if ((f.Seen & required) != required)
        {
            return null;
        }

        if (combined)
        {
            var at = stream.IndexOf((byte)'@');
            var streamSymbol = at < 0 ? stream : stream[..at];
            if (!Ascii.EqualsIgnoreCase(streamSymbol, f.Symbol))
            {
                return null;
            }
        }

        var symbol = _lookup.Find(f.Symbol);
        if (symbol is null)
        {
            return null;
        }

        var count = 1L;
        if (aggregate)
        {
            count = f.LastId - f.FirstId + 1;
            if (f.FirstId < 0 || count < 1 || count > int.MaxValue)
            {
                return null;
            }
        }

        var trade = new Trade(
            Exchanges.Binance, symbol, aggregate ? f.AggregateId : f.TradeId, f.Price, f.Quantity, TakerOf(f.BuyerIsMaker),
            DateTimeOffset.FromUnixTimeMilliseconds(f.TimeMs));
        return new TradesParsed([new ParsedTrade(trade, (int)count)]);
    }

    /// <summary>The fields of one trade event as the single pass finds them; <see cref="Seen"/> has a bit per field read.</summary>
    private ref struct TradeFields
    {
        public const int EventType = 1;
        public const int SymbolBit = 1 << 1;
        public const int TradeIdBit = 1 << 2;
        public const int AggregateIdBit = 1 << 3;
        public const int PriceBit = 1 << 4;
        public const int QuantityBit = 1 << 5;
        public const int FirstIdBit = 1 << 6;
        public const int LastIdBit = 1 << 7;
        public const int TimeBit = 1 << 8;
        public const int MakerBit = 1 << 9;

        public int Seen;
        public ReadOnlySpan<byte> Event;
        public ReadOnlySpan<byte> Symbol;
        public long TradeId;
        public long AggregateId;
        public decimal Price;
        public decimal Quantity;
        public long FirstId;
        public long LastId;
        public long TimeMs;
        public bool BuyerIsMaker;
    }

    private static TakerSide TakerOf(bool buyerIsMaker) => buyerIsMaker ? TakerSide.Sell : TakerSide.Buy;
}
