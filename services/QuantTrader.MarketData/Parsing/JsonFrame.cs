using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace QuantTrader.MarketData.Parsing;

/// <summary>
/// Field readers shared by the exchange parsers. Each returns null on success or the <see cref="Rejected"/> that
/// describes the first problem, so a parser can stop at once and never return half a frame.
/// Property names are compared case-sensitively: Binance uses <c>t</c>/<c>T</c> and <c>e</c>/<c>E</c> for different things.
/// </summary>
internal static class JsonFrame
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>Parses exactly one JSON value; trailing garbage makes the whole frame malformed.</summary>
    public static JsonDocument? TryParse(ReadOnlySpan<byte> utf8, out Rejected? rejected)
    {
        rejected = null;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = DocumentOptions.MaxDepth });
            var document = JsonDocument.ParseValue(ref reader);
            try
            {
                if (reader.Read())
                {
                    document.Dispose();
                    rejected = new Rejected(RejectKind.MalformedJson, "Data after the JSON value.");
                    return null;
                }
            }
            catch (JsonException ex)
            {
                document.Dispose();
                rejected = new Rejected(RejectKind.MalformedJson, ex.Message);
                return null;
            }

            return document;
        }
        catch (JsonException ex)
        {
            rejected = new Rejected(RejectKind.MalformedJson, ex.Message);
            return null;
        }
    }

    /// <summary>Runs <paramref name="parse"/> over the UTF-8 bytes of <paramref name="frame"/> using a pooled buffer.</summary>
    public static ParseResult WithUtf8(string frame, Func<ReadOnlySpan<byte>, ParseResult> parse)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(frame.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(frame, buffer);
            return parse(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static Rejected? String(JsonElement obj, string name, out string value)
    {
        value = string.Empty;
        if (!obj.TryGetProperty(name, out var element))
        {
            return Missing(name);
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            return new Rejected(RejectKind.MissingField, $"Field '{name}' must be a string, was {element.ValueKind}.");
        }

        value = element.GetString()!;
        return null;
    }

    public static Rejected? Bool(JsonElement obj, string name, out bool value)
    {
        value = false;
        if (!obj.TryGetProperty(name, out var element))
        {
            return Missing(name);
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.True:
                value = true;
                return null;
            case JsonValueKind.False:
                return null;
            default:
                return new Rejected(RejectKind.MissingField, $"Field '{name}' must be true or false, was {element.ValueKind}.");
        }
    }

    /// <summary>A strictly positive decimal, from a JSON string (how exchanges send prices) or number; no exponent in strings.</summary>
    public static Rejected? PositiveDecimal(JsonElement obj, string name, out decimal value)
    {
        var rejected = Decimal(obj, name, out value);
        if (rejected is null && value <= 0)
        {
            return new Rejected(RejectKind.InvalidValue, $"Field '{name}' must be positive, was {value}.");
        }

        return rejected;
    }

    /// <summary>A decimal ≥ 0 (kline volumes may be zero).</summary>
    public static Rejected? NonNegativeDecimal(JsonElement obj, string name, out decimal value)
    {
        var rejected = Decimal(obj, name, out value);
        if (rejected is null && value < 0)
        {
            return new Rejected(RejectKind.InvalidValue, $"Field '{name}' must not be negative, was {value}.");
        }

        return rejected;
    }

    private static Rejected? Decimal(JsonElement obj, string name, out decimal value)
    {
        value = 0;
        if (!obj.TryGetProperty(name, out var element))
        {
            return Missing(name);
        }

        var ok = element.ValueKind switch
        {
            JsonValueKind.String => decimal.TryParse(
                element.GetString(),
                NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture,
                out value),
            JsonValueKind.Number => element.TryGetDecimal(out value),
            _ => false,
        };
        return ok ? null : NotANumber(name, element);
    }

    /// <summary>An integer from a JSON number or a digit string (OKX sends ids and times as strings).</summary>
    public static Rejected? Long(JsonElement obj, string name, out long value)
    {
        value = 0;
        if (!obj.TryGetProperty(name, out var element))
        {
            return Missing(name);
        }

        var ok = element.ValueKind switch
        {
            JsonValueKind.String => long.TryParse(
                element.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value),
            JsonValueKind.Number => element.TryGetInt64(out value),
            _ => false,
        };
        return ok ? null : NotANumber(name, element);
    }

    /// <summary>Milliseconds since the Unix epoch, as an UTC time.</summary>
    public static Rejected? UnixMilliseconds(JsonElement obj, string name, out DateTimeOffset value)
    {
        value = default;
        var rejected = Long(obj, name, out var ms);
        if (rejected is not null)
        {
            return rejected;
        }

        // Before 2000 or after 2200 is a unit mix-up (seconds or microseconds), not a trade time.
        if (ms < 946_684_800_000L || ms > 7_258_118_400_000L)
        {
            return new Rejected(RejectKind.InvalidValue, $"Field '{name}' = {ms} is not a plausible epoch time in milliseconds.");
        }

        value = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return null;
    }

    /// <summary>
    /// The first problem among field reads that were all evaluated (so every out value is assigned), in the order
    /// the fields are listed.
    /// </summary>
    public static Rejected? FirstFailure(params ReadOnlySpan<Rejected?> results)
    {
        foreach (var result in results)
        {
            if (result is not null)
            {
                return result;
            }
        }

        return null;
    }

    public static Rejected Missing(string name) => new(RejectKind.MissingField, $"Field '{name}' is missing.");

    private static Rejected NotANumber(string name, JsonElement element) =>
        new(RejectKind.InvalidNumber, $"Field '{name}' is not a number: {Truncate(element.GetRawText())}.");

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
