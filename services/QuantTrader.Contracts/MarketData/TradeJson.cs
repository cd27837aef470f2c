using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace QuantTrader.Contracts.MarketData;

/// <summary>
/// The wire JSON of <see cref="Trade"/> written and read by hand (<see cref="Utf8JsonWriter"/> /
/// <see cref="Utf8JsonReader"/>): every trade is encoded once and decoded by four services, and the options-driven
/// serializer spent ~600 ns writing and ~860 ns reading one (docs/benchmarks.md, contract serialization).
/// Writing gives byte for byte what <c>ContractsJsonContext.Wire</c> gives. Reading takes the shape we write; anything
/// else (other letter case, numbers as strings, a missing field, an unknown one) makes <see cref="TryRead"/> return
/// false and the caller reads the payload with the serializer instead, so what is accepted is unchanged.
/// </summary>
internal static class TradeJson
{
    private static readonly JsonEncodedText Exchange = JsonEncodedText.Encode("exchange");
    private static readonly JsonEncodedText Symbol = JsonEncodedText.Encode("symbol");
    private static readonly JsonEncodedText TradeId = JsonEncodedText.Encode("tradeId");
    private static readonly JsonEncodedText Price = JsonEncodedText.Encode("price");
    private static readonly JsonEncodedText Quantity = JsonEncodedText.Encode("quantity");
    private static readonly JsonEncodedText Side = JsonEncodedText.Encode("side");
    private static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText Count = JsonEncodedText.Encode("count");
    private static readonly JsonEncodedText Buy = JsonEncodedText.Encode("buy");
    private static readonly JsonEncodedText Sell = JsonEncodedText.Encode("sell");

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    // The last exchange and symbol read on this thread: a message's trades are all of one market, so after the first
    // trade these strings are compared instead of allocated again for every trade.
    [ThreadStatic]
    private static CachedName t_exchange;

    [ThreadStatic]
    private static CachedName t_symbol;

    private struct CachedName
    {
        private byte[]? _utf8;
        private string? _value;

        public string Read(ref Utf8JsonReader r)
        {
            if (_utf8 is not null && r.ValueTextEquals(_utf8))
            {
                return _value!;
            }
            _value = r.GetString()!;
            _utf8 = System.Text.Encoding.UTF8.GetBytes(_value);
            return _value;
        }
    }

    /// <summary>One trade (an object) or several (an array), as the serializer would write them.</summary>
    public static byte[] Encode(IReadOnlyList<Trade> trades, bool asArray)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.Reset(buffer);
        if (asArray)
        {
            writer.WriteStartArray();
        }
        foreach (var trade in trades)
        {
            Write(writer, trade);
        }
        if (asArray)
        {
            writer.WriteEndArray();
        }
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(Utf8JsonWriter w, Trade t)
    {
        w.WriteStartObject();
        w.WriteString(Exchange, t.Exchange);
        w.WriteString(Symbol, t.Symbol);
        w.WriteNumber(TradeId, t.TradeId);
        w.WriteNumber(Price, t.Price);
        w.WriteNumber(Quantity, t.Quantity);
        w.WriteString(Side, t.Side == TakerSide.Buy ? Buy : Sell);
        // UtcTimeConverter's format, without the string it allocates.
        Span<byte> time = stackalloc byte[40];
        t.Time.UtcDateTime.TryFormat(time, out var written, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
        w.WriteString(Time, time[..written]);
        w.WriteNumber(Count, t.Count);
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads the payload's trades (an object or an array of objects) in the shape <see cref="Encode"/> writes;
    /// false for anything else.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out Trade[] trades)
    {
        trades = [];
        var reader = new Utf8JsonReader(data);
        try
        {
            if (!reader.Read())
            {
                return false;
            }
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                if (!TryReadObject(ref reader, out var single) || reader.Read())
                {
                    return false;
                }
                trades = [single];
                return true;
            }
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                return false;
            }
            var list = new List<Trade>();
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                if (!TryReadObject(ref reader, out var trade))
                {
                    return false;
                }
                list.Add(trade);
            }
            if (reader.TokenType != JsonTokenType.EndArray || reader.Read())
            {
                return false;
            }
            trades = [.. list];
            return true;
        }
        catch (JsonException)
        {
            return false; // the serializer reports it, with its own message
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>At a StartObject: reads through its EndObject.</summary>
    private static bool TryReadObject(ref Utf8JsonReader r, out Trade trade)
    {
        trade = null!;
        string? exchange = null, symbol = null;
        long? tradeId = null;
        decimal? price = null, quantity = null;
        TakerSide? side = null;
        DateTimeOffset? time = null;
        var count = 1;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals(Exchange.EncodedUtf8Bytes))
            {
                if (!r.Read() || r.TokenType != JsonTokenType.String)
                {
                    return false;
                }
                exchange = t_exchange.Read(ref r);
            }
            else if (r.ValueTextEquals(Symbol.EncodedUtf8Bytes))
            {
                if (!r.Read() || r.TokenType != JsonTokenType.String)
                {
                    return false;
                }
                symbol = t_symbol.Read(ref r);
            }
            else if (r.ValueTextEquals(TradeId.EncodedUtf8Bytes))
            {
                if (!r.Read() || r.TokenType != JsonTokenType.Number || !r.TryGetInt64(out var id))
                {
                    return false;
                }
                tradeId = id;
            }
            else if (r.ValueTextEquals(Price.EncodedUtf8Bytes))
            {
                if (!r.Read() || r.TokenType != JsonTokenType.Number || !r.TryGetDecimal(out var p))
                {
                    return false;
                }
                price = p;
            }
            else if (r.ValueTextEquals(Quantity.EncodedUtf8Bytes))
            {
                if (!r.Read() || r.TokenType != JsonTokenType.Number || !r.TryGetDecimal(out var q))
                {
                    return false;
                }
                quantity = q;
            }
            else if (r.ValueTextEquals(Side.EncodedUtf8Bytes))
            {
                if (!r.Read() || r.TokenType != JsonTokenType.String)
                {
                    return false;
                }
                if (r.ValueTextEquals(Buy.EncodedUtf8Bytes))
                {
                    side = TakerSide.Buy;
                }
                else if (r.ValueTextEquals(Sell.EncodedUtf8Bytes))
                {
                    side = TakerSide.Sell;
                }
                else
                {
                    return false;
                }
            }
            else if (r.ValueTextEquals(Time.EncodedUtf8Bytes))
            {
                if (!r.Read() || r.TokenType != JsonTokenType.String || !r.TryGetDateTimeOffset(out var at))
                {
                    return false;
                }
                time = at.ToUniversalTime();
            }
            else if (r.ValueTextEquals(Count.EncodedUtf8Bytes))
            {
                if (!r.Read() || r.TokenType != JsonTokenType.Number || !r.TryGetInt32(out count))
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }
        if (r.TokenType != JsonTokenType.EndObject
            || exchange is null || symbol is null || tradeId is null || price is null || quantity is null || side is null || time is null)
        {
            return false;
        }
        trade = new Trade(exchange, symbol, tradeId.Value, price.Value, quantity.Value, side.Value, time.Value, count);
        return true;
    }
}
