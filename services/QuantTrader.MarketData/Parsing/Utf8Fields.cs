using System.Buffers;
using System.Text;
using System.Text.Json;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.MarketData.Parsing;

/// <summary>
/// Allocation-free readers for the single-pass trade-frame parsers. Each accepts only the plain, common spelling of a
/// value and answers false for anything else; the caller then hands the whole frame to the <see cref="JsonDocument"/>
/// path, which decides (and words) the outcome. So these never reject, and need not agree with every corner of
/// <c>decimal.TryParse</c>: only where they say true.
/// </summary>
internal static class Utf8Fields
{
    /// <summary>Most significant digits a <see cref="ulong"/> mantissa always holds.</summary>
    private const int MaxDigits = 19;

    /// <summary>
    /// A strictly positive decimal written as digits with at most one inner point (<c>58001.03000000</c>, <c>3</c>),
    /// with the same value and scale <c>decimal.Parse</c> gives (trailing zeros kept, as they are in a kline's sums).
    /// </summary>
    public static bool TryPositiveDecimal(ReadOnlySpan<byte> text, out decimal value)
    {
        value = 0m;
        ulong mantissa = 0;
        var digits = 0;
        var point = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var d = (uint)(c - '0');
            if (d <= 9)
            {
                if (++digits > MaxDigits)
                {
                    return false;
                }

                mantissa = (mantissa * 10) + d;
            }
            else if (c == '.' && point < 0 && i > 0 && i < text.Length - 1)
            {
                point = i;
            }
            else
            {
                return false;
            }
        }

        if (mantissa == 0)
        {
            return false;
        }

        var scale = point < 0 ? 0 : text.Length - point - 1;
        value = new decimal((int)(uint)mantissa, (int)(uint)(mantissa >> 32), 0, isNegative: false, (byte)scale);
        return true;
    }

    /// <summary>A non-negative integer of 1–18 plain digits (OKX sends ids and times as strings).</summary>
    public static bool TryDigits(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }

        foreach (var c in text)
        {
            var d = (uint)(c - '0');
            if (d > 9)
            {
                return false;
            }

            value = (value * 10) + d;
        }

        return true;
    }

    /// <summary>An integer from a JSON number, or (when <paramref name="allowString"/>) a plain digit string.</summary>
    public static bool TryLong(ref Utf8JsonReader reader, bool allowString, out long value)
    {
        value = 0;
        return reader.TokenType switch
        {
            JsonTokenType.Number => reader.TryGetInt64(out value),
            JsonTokenType.String => allowString && !reader.ValueIsEscaped && TryDigits(reader.ValueSpan, out value),
            _ => false,
        };
    }

    /// <summary>A positive decimal from a plain (unescaped) JSON string.</summary>
    public static bool TryPositiveDecimal(ref Utf8JsonReader reader, out decimal value)
    {
        value = 0m;
        return reader.TokenType == JsonTokenType.String
            && !reader.ValueIsEscaped
            && TryPositiveDecimal(reader.ValueSpan, out value);
    }

    /// <summary>The raw bytes of a plain (unescaped) JSON string.</summary>
    public static bool TryPlainString(scoped ref Utf8JsonReader reader, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
        {
            return false;
        }

        value = reader.ValueSpan;
        return true;
    }

    /// <summary>Milliseconds since the epoch inside the plausible range <see cref="JsonFrame.UnixMilliseconds"/> accepts.</summary>
    public static bool IsPlausibleEpochMilliseconds(long ms) => ms >= 946_684_800_000L && ms <= 7_258_118_400_000L;

    /// <summary>Moves past the value just read (a whole object or array when it starts one).</summary>
    public static void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            reader.Skip();
        }
    }

    /// <summary>Encodes <paramref name="frame"/> as UTF-8 on the stack (short frames) or in a pooled buffer, and parses it.</summary>
    public static ParseResult WithUtf8<TParser>(string frame, TParser parser, Func<TParser, ReadOnlySpan<byte>, ParseResult> parse)
    {
        ArgumentNullException.ThrowIfNull(frame);
        const int StackChars = 512;
        if (frame.Length <= StackChars)
        {
            Span<byte> buffer = stackalloc byte[StackChars * 3];
            var length = Encoding.UTF8.GetBytes(frame, buffer);
            return parse(parser, buffer[..length]);
        }

        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(frame.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(frame, rented);
            return parse(parser, rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>
/// Exchange spelling as UTF-8 bytes → normalized symbol, without a string per frame. A snapshot of the
/// <see cref="SymbolNormalizer"/> table for one exchange, rebuilt when the table changes (<see cref="SymbolNormalizer.All"/>
/// is replaced on every registration), so it always answers what <see cref="SymbolNormalizer.TryNormalize"/> would.
/// Thread-safe: the snapshot is immutable and swapped whole.
/// </summary>
internal sealed class ExchangeSymbolLookup(SymbolNormalizer symbols, string exchange)
{
    private const int MaxSymbolLength = 64;
    private volatile Snapshot? _snapshot;

    /// <summary>The normalized symbol of a known ASCII exchange spelling (any case), else null.</summary>
    public string? Find(ReadOnlySpan<byte> exchangeSymbol)
    {
        var table = symbols.All;
        var snapshot = _snapshot;
        if (snapshot is null || !ReferenceEquals(snapshot.Table, table))
        {
            snapshot = new Snapshot(table, exchange);
            _snapshot = snapshot;
        }

        // A stream carries one symbol: the last hit, compared byte for byte, answers almost every frame.
        var last = snapshot.LastHit;
        if (last is not null && exchangeSymbol.SequenceEqual(last.Spelling))
        {
            return last.Symbol;
        }

        if (exchangeSymbol.IsEmpty || exchangeSymbol.Length > MaxSymbolLength)
        {
            return null;
        }

        Span<char> chars = stackalloc char[MaxSymbolLength];
        if (Ascii.ToUtf16(exchangeSymbol, chars, out var written) != OperationStatus.Done)
        {
            return null;
        }

        if (!snapshot.BySpelling.TryGetValue(chars[..written], out var symbol))
        {
            return null;
        }

        snapshot.LastHit = new Hit(exchangeSymbol.ToArray(), symbol);
        return symbol;
    }

    private sealed record Hit(byte[] Spelling, string Symbol);

    private sealed class Snapshot
    {
        public Snapshot(IReadOnlyList<Instrument> table, string exchange)
        {
            Table = table;
            var bySpelling = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var instrument in table)
            {
                if (string.Equals(instrument.Exchange, exchange, StringComparison.OrdinalIgnoreCase))
                {
                    bySpelling[instrument.ExchangeSymbol] = instrument.Symbol;
                }
            }

            BySpelling = bySpelling.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public IReadOnlyList<Instrument> Table { get; }

        public Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> BySpelling { get; }

        /// <summary>Replaced whole (a reference write), so readers on other threads see an old or a new pair, never a mix.</summary>
        public Hit? LastHit { get; set; }
    }
}

/// <summary>
/// Matches a frame against the exact byte layout an exchange sends, field by field, with no whitespace. Every
/// accepted piece is valid JSON by construction (strings of printable ASCII without quote or backslash, integers in
/// JSON's grammar), so a frame that matches to its last byte is valid JSON whose reading is exactly the one the
/// token reader would give; any deviation stops the match and the caller reads the frame the general way.
/// </summary>
internal ref struct FrameTemplate(ReadOnlySpan<byte> frame)
{
    private readonly ReadOnlySpan<byte> _frame = frame;
    private int _at;

    public readonly bool AtEnd => _at == _frame.Length;

    public bool Literal(ReadOnlySpan<byte> text)
    {
        if (!_frame[_at..].StartsWith(text))
        {
            return false;
        }

        _at += text.Length;
        return true;
    }

    /// <summary>The content of a string whose opening quote was already matched, up to (and past) its closing quote.</summary>
    public bool StringBody(out ReadOnlySpan<byte> value)
    {
        var rest = _frame[_at..];
        var end = rest.IndexOf((byte)'"');
        value = end < 0 ? default : rest[..end];
        if (end < 0 || value.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E) || value.Contains((byte)'\\'))
        {
            return false;
        }

        _at += end + 1;
        return true;
    }

    /// <summary>A JSON integer of at most 18 digits without sign or leading zero (ids and epoch times).</summary>
    public bool Integer(out long value)
    {
        value = 0;
        var start = _at;
        while (_at < _frame.Length && (uint)(_frame[_at] - '0') <= 9)
        {
            _at++;
        }

        var digits = _frame[start.._at];
        return (digits.Length == 1 || (digits.Length > 1 && digits[0] != '0')) && Utf8Fields.TryDigits(digits, out value);
    }

    public bool Boolean(out bool value)
    {
        value = Literal("true"u8);
        return value || Literal("false"u8);
    }
}
