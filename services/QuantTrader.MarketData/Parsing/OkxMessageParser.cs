using System.Text.Json;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.MarketData.Parsing;

/// <summary>
/// OKX v5 public WebSocket frames: the <c>trades</c> (and <c>trades-all</c>) channel into <see cref="Trade"/>s,
/// event replies (<c>subscribe</c>, <c>unsubscribe</c>, <c>error</c>, <c>notice</c>) into <see cref="ExchangeEvent"/>,
/// and the text <c>pong</c> into <see cref="Pong"/>.
/// <para>
/// Instruments not in the symbol table (swaps such as <c>UNI-USD-SWAP</c>, dated futures such as
/// <c>BTC-USD-220527</c>) are <see cref="Rejected"/> with <see cref="RejectKind.UnknownSymbol"/>, not ignored: we only
/// subscribe to what we know, so one arriving means a misconfigured subscription and must be visible.
/// Other channels (<c>tickers</c>, <c>books</c>) are <see cref="Ignored"/>.
/// </para>
/// <para>
/// Aggregated messages. In the <c>trades</c> channel OKX may merge the fills of one taker order at one price into a
/// single entry: <c>count</c> is how many trades it merges, <c>tradeId</c> the id of the last of them and <c>sz</c> their
/// total size. We expand it back into <c>count</c> trades so ids stay continuous for gap detection
/// (<c>tradeId − count + 1 … tradeId</c>, ascending), all with the entry's price, side and time. OKX does not say how
/// <c>sz</c> divides, so we split it evenly in units of its last decimal place: each trade gets
/// <c>⌊units / count⌋</c> units and the first <c>units mod count</c> trades (lowest ids) one more, so the parts add up to
/// <c>sz</c> exactly. When <c>sz</c> has fewer units than <c>count</c> the unit is refined by further decimal places
/// until every trade gets a positive size. Volumes, quote volumes and VWAP are therefore exact; individual
/// sizes of the expanded trades are an estimate. A missing or empty <c>count</c> means 1.
/// </para>
/// <para>
/// Speed (issue 3): a <c>trades</c> data frame is read in one forward pass with <see cref="Utf8JsonReader"/>, numbers
/// straight from the bytes, the instrument looked up without a string. Anything that pass does not recognise as plainly
/// valid (events, other channels, escapes, duplicate fields, any invalid value) goes through the <see cref="JsonDocument"/>
/// path instead, which alone decides what is ignored or rejected and why.
/// </para>
/// </summary>
public sealed class OkxMessageParser
{
    /// <summary>Refuse to fabricate more trades than this from one entry: such a count is corrupt, not a market.</summary>
    public const int MaxAggregatedCount = 100_000;

    private readonly SymbolNormalizer _symbols;
    private readonly ExchangeSymbolLookup _lookup;

    public OkxMessageParser()
        : this(SymbolNormalizer.CreateDefault())
    {
    }

    public OkxMessageParser(SymbolNormalizer symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        _symbols = symbols;
        _lookup = new ExchangeSymbolLookup(symbols, Exchanges.Okx);
    }

    public ParseResult Parse(string frame) => Utf8Fields.WithUtf8(frame, this, static (parser, utf8) => parser.Parse(utf8));

    public ParseResult Parse(ReadOnlySpan<byte> utf8Frame)
    {
        if (utf8Frame.Trim(" \t\r\n"u8).SequenceEqual("pong"u8))
        {
            return Pong.Instance;
        }

        return TryParseTrades(utf8Frame) ?? ParseDocument(utf8Frame);
    }

    /// <summary>The general path: every frame the single pass does not take, and the judge of every rejection.</summary>
    internal ParseResult ParseDocument(ReadOnlySpan<byte> utf8Frame)
    {
        using var document = JsonFrame.TryParse(utf8Frame, out var rejected);
        if (document is null)
        {
            return rejected!;
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new Rejected(RejectKind.MalformedJson, $"Expected a JSON object, got {root.ValueKind}.");
        }

        ReadArg(root, out var channel, out var argInstId);
        if (root.TryGetProperty("event", out var eventElement))
        {
            return ParseEvent(root, eventElement, channel, argInstId);
        }

        if (!root.TryGetProperty("data", out var data))
        {
            return new Rejected(RejectKind.MalformedJson, "Neither an 'event' nor a 'data' message.");
        }

        if (channel is null)
        {
            return new Rejected(RejectKind.MalformedJson, "Data message without 'arg.channel'.");
        }

        if (channel is not ("trades" or "trades-all"))
        {
            return new Ignored($"Channel {channel}.");
        }

        if (data.ValueKind != JsonValueKind.Array)
        {
            return new Rejected(RejectKind.MalformedJson, "Field 'data' must be an array.");
        }

        var trades = new List<ParsedTrade>(data.GetArrayLength());
        foreach (var item in data.EnumerateArray())
        {
            var failure = ParseEntry(item, argInstId, trades);
            if (failure is not null)
            {
                return failure;
            }
        }

        return new TradesParsed(trades);
    }

    /// <summary>
    /// Splits <paramref name="total"/> into <paramref name="count"/> positive parts that add up to it exactly
    /// (the rule in the class remarks). Null when it cannot be done within decimal's 28 decimal places.
    /// </summary>
    public static decimal[]? SplitQuantity(decimal total, int count)
    {
        if (total <= 0 || count < 1)
        {
            return null;
        }

        if (count == 1)
        {
            return [total];
        }

        // total = units × 10^-scale exactly; units is decimal's 96-bit mantissa.
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(total, bits);
        UInt128 units = ((UInt128)(uint)bits[2] << 64) | ((UInt128)(uint)bits[1] << 32) | (uint)bits[0];
        int scale = total.Scale;
        while (units < (UInt128)count)
        {
            if (scale == 28)
            {
                return null;
            }

            units *= 10;
            scale++;
        }

        var share = units / (uint)count;
        var remainder = (int)(units % (uint)count);
        var small = ToDecimal(share, scale);
        var large = ToDecimal(share + 1, scale);
        var parts = new decimal[count];
        for (var i = 0; i < count; i++)
        {
            parts[i] = i < remainder ? large : small;
        }

        return parts;
    }

    private static decimal ToDecimal(UInt128 units, int scale) =>
        new((int)(uint)units, (int)(uint)(units >> 32), (int)(uint)(units >> 64), false, (byte)scale);

    private Rejected? ParseEntry(JsonElement item, string? argInstId, List<ParsedTrade> trades)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return new Rejected(RejectKind.MalformedJson, "A 'data' entry must be an object.");
        }

        string? instId = argInstId;
        if (item.TryGetProperty("instId", out var instElement))
        {
            instId = instElement.ValueKind == JsonValueKind.String ? instElement.GetString() : null;
        }

        if (instId is null)
        {
            return JsonFrame.Missing("instId");
        }

        if (!_symbols.TryNormalize(Exchanges.Okx, instId, out var instrument))
        {
            return new Rejected(RejectKind.UnknownSymbol, $"Unknown OKX instrument '{instId}'.");
        }

        var failure = JsonFrame.FirstFailure(
            JsonFrame.Long(item, "tradeId", out var lastTradeId),
            JsonFrame.PositiveDecimal(item, "px", out var price),
            JsonFrame.PositiveDecimal(item, "sz", out var size),
            JsonFrame.String(item, "side", out var sideText),
            JsonFrame.UnixMilliseconds(item, "ts", out var time),
            ReadCount(item, out var count));
        if (failure is not null)
        {
            return failure;
        }

        TakerSide side;
        switch (sideText)
        {
            case "buy":
                side = TakerSide.Buy;
                break;
            case "sell":
                side = TakerSide.Sell;
                break;
            default:
                return new Rejected(RejectKind.InvalidValue, $"Field 'side' must be buy or sell, was '{sideText}'.");
        }

        var firstTradeId = lastTradeId - count + 1;
        if (firstTradeId < 1)
        {
            return new Rejected(RejectKind.InvalidValue, $"count {count} does not fit below tradeId {lastTradeId}.");
        }

        var sizes = SplitQuantity(size, count);
        if (sizes is null)
        {
            return new Rejected(RejectKind.InvalidValue, $"sz {size} cannot be split into {count} trades.");
        }

        for (var i = 0; i < count; i++)
        {
            var trade = new Trade(Exchanges.Okx, instrument.Symbol, firstTradeId + i, price, sizes[i], side, time);
            trades.Add(new ParsedTrade(trade));
        }

        return null;
    }

    private static Rejected? ReadCount(JsonElement item, out int count)
    {
        count = 1;
        if (!item.TryGetProperty("count", out var element)
            || element.ValueKind == JsonValueKind.Null
            || (element.ValueKind == JsonValueKind.String && element.GetString()!.Length == 0))
        {
            return null;
        }

        var failure = JsonFrame.Long(item, "count", out var value);
        if (failure is not null)
        {
            return failure;
        }

        if (value < 1 || value > MaxAggregatedCount)
        {
            return new Rejected(RejectKind.InvalidValue, $"Field 'count' must be 1..{MaxAggregatedCount}, was {value}.");
        }

        count = (int)value;
        return null;
    }

    /// <summary>
    /// The single pass over a <c>trades</c>/<c>trades-all</c> data frame. Null whenever the frame is anything but
    /// valid trades in the plain form OKX sends (and <c>arg</c> before <c>data</c>); <see cref="ParseDocument"/> decides then.
    /// </summary>
    internal ParseResult? TryParseTrades(ReadOnlySpan<byte> utf8Frame)
    {
        try
        {
            return TryParseTradesCore(utf8Frame);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private TradesParsed? TryParseTradesCore(ReadOnlySpan<byte> utf8Frame)
    {
        var reader = new Utf8JsonReader(utf8Frame, new JsonReaderOptions { MaxDepth = 16 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        ReadOnlySpan<byte> channel = default;
        ReadOnlySpan<byte> argInstId = default;
        var hasArg = false;
        var hasInstId = false;
        List<ParsedTrade>? trades = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("arg"u8))
            {
                if (hasArg || !reader.Read() || !ReadArg(ref reader, out channel, out argInstId, out hasInstId))
                {
                    return null;
                }

                hasArg = true;
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                // Entries are resolved against arg.instId as they are read, so arg must come first (it does).
                if (trades is not null || !hasArg
                    || !(channel.SequenceEqual("trades"u8) || channel.SequenceEqual("trades-all"u8))
                    || !reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                {
                    return null;
                }

                trades = new List<ParsedTrade>(1);
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    if (!ReadEntry(ref reader, hasInstId ? argInstId : default, hasInstId, trades))
                    {
                        return null;
                    }
                }

                if (reader.TokenType != JsonTokenType.EndArray)
                {
                    return null;
                }
            }
            else if (reader.ValueTextEquals("event"u8))
            {
                return null;
            }
            else
            {
                reader.Read();
                Utf8Fields.SkipValue(ref reader);
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || trades is null || reader.Read())
        {
            return null;
        }

        return new TradesParsed(trades);
    }

    private static bool ReadArg(
        scoped ref Utf8JsonReader reader, out ReadOnlySpan<byte> channel, out ReadOnlySpan<byte> instId, out bool hasInstId)
    {
        channel = default;
        instId = default;
        hasInstId = false;
        var hasChannel = false;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("channel"u8))
            {
                if (hasChannel || !reader.Read() || !Utf8Fields.TryPlainString(ref reader, out channel))
                {
                    return false;
                }

                hasChannel = true;
            }
            else if (reader.ValueTextEquals("instId"u8))
            {
                if (hasInstId || !reader.Read() || !Utf8Fields.TryPlainString(ref reader, out instId))
                {
                    return false;
                }

                hasInstId = true;
            }
            else
            {
                reader.Read();
                Utf8Fields.SkipValue(ref reader);
            }
        }

        return hasChannel && reader.TokenType == JsonTokenType.EndObject;
    }

    /// <summary>One <c>data</c> entry, from its start to its end; adds its trade(s) only when all of it is valid.</summary>
    private bool ReadEntry(scoped ref Utf8JsonReader reader, ReadOnlySpan<byte> argInstId, bool hasArgInstId, List<ParsedTrade> trades)
    {
        const int InstIdBit = 1, TradeIdBit = 2, PriceBit = 4, SizeBit = 8, SideBit = 16, TimeBit = 32, CountBit = 64;
        const int Required = TradeIdBit | PriceBit | SizeBit | SideBit | TimeBit;
        var seen = 0;
        ReadOnlySpan<byte> instId = argInstId;
        long lastTradeId = 0, timeMs = 0, count = 1;
        decimal price = 0m, size = 0m;
        var side = TakerSide.Buy;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped)
            {
                return false;
            }

            var bit = reader.ValueSpan switch
            {
                var n when n.SequenceEqual("instId"u8) => InstIdBit,
                var n when n.SequenceEqual("tradeId"u8) => TradeIdBit,
                var n when n.SequenceEqual("px"u8) => PriceBit,
                var n when n.SequenceEqual("sz"u8) => SizeBit,
                var n when n.SequenceEqual("side"u8) => SideBit,
                var n when n.SequenceEqual("ts"u8) => TimeBit,
                var n when n.SequenceEqual("count"u8) => CountBit,
                _ => 0,
            };
            if (!reader.Read() || (seen & bit) != 0)
            {
                return false;
            }

            seen |= bit;
            var ok = bit switch
            {
                0 => SkipAndTrue(ref reader),
                InstIdBit => Utf8Fields.TryPlainString(ref reader, out instId),
                TradeIdBit => Utf8Fields.TryLong(ref reader, allowString: true, out lastTradeId),
                PriceBit => Utf8Fields.TryPositiveDecimal(ref reader, out price),
                SizeBit => Utf8Fields.TryPositiveDecimal(ref reader, out size),
                SideBit => TrySide(ref reader, out side),
                TimeBit => Utf8Fields.TryLong(ref reader, allowString: true, out timeMs)
                    && Utf8Fields.IsPlausibleEpochMilliseconds(timeMs),
                _ => TryCount(ref reader, out count),
            };
            if (!ok)
            {
                return false;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || (seen & Required) != Required
            || (!hasArgInstId && (seen & InstIdBit) == 0))
        {
            return false;
        }

        var symbol = _lookup.Find(instId);
        var firstTradeId = lastTradeId - count + 1;
        if (symbol is null || firstTradeId < 1)
        {
            return false;
        }

        var time = DateTimeOffset.FromUnixTimeMilliseconds(timeMs);
        if (count == 1)
        {
            trades.Add(new ParsedTrade(new Trade(Exchanges.Okx, symbol, lastTradeId, price, size, side, time)));
            return true;
        }

        var sizes = SplitQuantity(size, (int)count);
        if (sizes is null)
        {
            return false;
        }

        for (var i = 0; i < sizes.Length; i++)
        {
            trades.Add(new ParsedTrade(new Trade(Exchanges.Okx, symbol, firstTradeId + i, price, sizes[i], side, time)));
        }

        return true;
    }

    private static bool SkipAndTrue(ref Utf8JsonReader reader)
    {
        Utf8Fields.SkipValue(ref reader);
        return true;
    }

    private static bool TrySide(ref Utf8JsonReader reader, out TakerSide side)
    {
        side = TakerSide.Buy;
        if (!Utf8Fields.TryPlainString(ref reader, out var text))
        {
            return false;
        }

        if (text.SequenceEqual("sell"u8))
        {
            side = TakerSide.Sell;
            return true;
        }

        return text.SequenceEqual("buy"u8);
    }

    /// <summary><c>count</c>: absent, null or "" mean 1 (as in <see cref="ReadCount"/>); else 1..<see cref="MaxAggregatedCount"/>.</summary>
    private static bool TryCount(ref Utf8JsonReader reader, out long count)
    {
        count = 1;
        if (reader.TokenType == JsonTokenType.Null
            || (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && reader.ValueSpan.IsEmpty))
        {
            return true;
        }

        return Utf8Fields.TryLong(ref reader, allowString: true, out count) && count >= 1 && count <= MaxAggregatedCount;
    }

    private static ExchangeEvent ParseEvent(JsonElement root, JsonElement eventElement, string? channel, string? instId)
    {
        var name = eventElement.ValueKind == JsonValueKind.String ? eventElement.GetString() : null;
        var kind = name switch
        {
            "subscribe" => ExchangeEventKind.Subscribed,
            "unsubscribe" => ExchangeEventKind.Unsubscribed,
            "error" => ExchangeEventKind.Error,
            "notice" => ExchangeEventKind.Notice,
            _ => ExchangeEventKind.Other,
        };
        var code = root.TryGetProperty("code", out var c) ? c.ToString() : null;
        var message = root.TryGetProperty("msg", out var m) ? m.ToString() : null;
        if (kind == ExchangeEventKind.Other && message is null)
        {
            message = name;
        }

        return new ExchangeEvent(kind, code, message, channel, instId);
    }

    private static void ReadArg(JsonElement root, out string? channel, out string? instId)
    {
        channel = null;
        instId = null;
        if (root.TryGetProperty("arg", out var arg) && arg.ValueKind == JsonValueKind.Object)
        {
            if (arg.TryGetProperty("channel", out var ch) && ch.ValueKind == JsonValueKind.String)
            {
                channel = ch.GetString();
            }

            if (arg.TryGetProperty("instId", out var id) && id.ValueKind == JsonValueKind.String)
            {
                instId = id.GetString();
            }
        }
    }
}
