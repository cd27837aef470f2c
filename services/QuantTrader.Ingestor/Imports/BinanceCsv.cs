using System.Globalization;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Ingestor.Imports;

/// <summary>The Binance public-data CSV layouts (data.binance.vision, spot).</summary>
public static class ImportFormats
{
    /// <summary><c>id,price,qty,quote_qty,time,is_buyer_maker,is_best_match</c></summary>
    public const string Trades = "binance-trades";

    /// <summary><c>agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker,is_best_match</c></summary>
    public const string AggTrades = "binance-aggtrades";

    /// <summary><c>open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore</c></summary>
    public const string Klines = "binance-klines";

    public static readonly IReadOnlyList<string> All = [Trades, AggTrades, Klines];
}

/// <summary>
/// One line of a Binance public-data CSV into a <see cref="Trade"/> or a <see cref="Kline"/>. A header line (the
/// first field not a number) is recognised and skipped; timestamps may be milliseconds (files before 2025) or
/// microseconds (spot files from 2025 on), told apart by magnitude. A bad line yields an error naming the field,
/// never a half-read row.
/// </summary>
public static class BinanceCsv
{
    // Only to tell milliseconds from microseconds by magnitude; the accepted range is [Earliest, now + FutureSlack].
    private const long MinMs = 946_684_800_000L; // 2000-01-01
    private const long MaxMs = 7_258_118_400_000L; // 2200-01-01

    /// <summary>No crypto market traded before 2009: an earlier time is a broken file, not history.</summary>
    public static readonly DateTimeOffset Earliest = new(2009, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Clock skew allowed past now; anything later would be a kline or trade from the future.</summary>
    public static readonly TimeSpan FutureSlack = TimeSpan.FromMinutes(1);

    public enum LineKind
    {
        Trade,
        Kline,
        Header,
        Blank,
        Error,
    }

    /// <param name="TimeOutOfRange">The error is a time outside [<see cref="Earliest"/>, now + <see cref="FutureSlack"/>]: the whole upload is refused for it.</param>
    public readonly record struct Line(LineKind Kind, Trade? Trade = null, Kline? Kline = null, string? Error = null, bool TimeOutOfRange = false);

    /// <param name="now">The present: a time later than now + <see cref="FutureSlack"/> is refused.</param>
    public static Line Parse(string format, string exchange, string symbol, string text, DateTimeOffset now)
    {
        var latest = now + FutureSlack;
        if (string.IsNullOrWhiteSpace(text))
        {
            return new Line(LineKind.Blank);
        }

        var f = text.TrimEnd('\r').Split(',');
        if (!long.TryParse(f[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && f[0].Trim().Length > 0 && char.IsLetter(f[0].Trim()[0]))
        {
            return new Line(LineKind.Header);
        }

        try
        {
            return format switch
            {
                ImportFormats.Trades => Need(f, 6) ?? new Line(LineKind.Trade, Trade: new Trade(
                    exchange, symbol, Long(f, 0, "id"), Positive(f, 1, "price"), Positive(f, 2, "qty"),
                    Bool(f, 5, "is_buyer_maker") ? TakerSide.Sell : TakerSide.Buy, Time(f, 4, "time", latest))),
                ImportFormats.AggTrades => AggTrade(f, exchange, symbol, latest),
                ImportFormats.Klines => KlineLine(f, exchange, symbol, latest),
                _ => new Line(LineKind.Error, Error: $"unknown format '{format}'"),
            };
        }
        catch (TimeOutOfRangeException ex)
        {
            return new Line(LineKind.Error, Error: ex.Message, TimeOutOfRange: true);
        }
        catch (FormatException ex)
        {
            return new Line(LineKind.Error, Error: ex.Message);
        }
    }

    /// <summary>A kline's interval from its open and close times (Binance: close = open + interval − 1 ms).</summary>
    public static string? IntervalOf(DateTimeOffset open, DateTimeOffset close)
    {
        var length = close - open + TimeSpan.FromMilliseconds(1);
        foreach (var (name, span) in Intervals)
        {
            if (span == length)
            {
                return name;
            }
        }

        return null;
    }

    private static readonly (string, TimeSpan)[] Intervals =
    [
        ("1s", TimeSpan.FromSeconds(1)), ("1m", TimeSpan.FromMinutes(1)), ("3m", TimeSpan.FromMinutes(3)),
        ("5m", TimeSpan.FromMinutes(5)), ("15m", TimeSpan.FromMinutes(15)), ("30m", TimeSpan.FromMinutes(30)),
        ("1h", TimeSpan.FromHours(1)), ("2h", TimeSpan.FromHours(2)), ("4h", TimeSpan.FromHours(4)),
        ("6h", TimeSpan.FromHours(6)), ("8h", TimeSpan.FromHours(8)), ("12h", TimeSpan.FromHours(12)),
        ("1d", TimeSpan.FromDays(1)), ("3d", TimeSpan.FromDays(3)), ("1w", TimeSpan.FromDays(7)),
    ];

    private static Line AggTrade(string[] f, string exchange, string symbol, DateTimeOffset latest)
    {
        if (Need(f, 7) is { } missing)
        {
            return missing;
        }

        var first = Long(f, 3, "first_trade_id");
        var last = Long(f, 4, "last_trade_id");
        if (last < first || last - first >= int.MaxValue)
        {
            return new Line(LineKind.Error, Error: $"first_trade_id {first} and last_trade_id {last} are not a range");
        }

        return new Line(LineKind.Trade, Trade: new Trade(
            exchange, symbol, Long(f, 0, "agg_trade_id"), Positive(f, 1, "price"), Positive(f, 2, "quantity"),
            Bool(f, 6, "is_buyer_maker") ? TakerSide.Sell : TakerSide.Buy, Time(f, 5, "transact_time", latest), (int)(last - first + 1)));
    }

    private static Line KlineLine(string[] f, string exchange, string symbol, DateTimeOffset latest)
    {
        if (Need(f, 11) is { } missing)
        {
            return missing;
        }

        var open = Time(f, 0, "open_time", latest);
        var close = Time(f, 6, "close_time", latest);
        var interval = IntervalOf(open, close);
        if (interval is null)
        {
            return new Line(LineKind.Error, Error: $"open_time {open:O} and close_time {close:O} are not one Binance interval apart");
        }

        return new Line(LineKind.Kline, Kline: new Kline(
            exchange, symbol, interval, open, close,
            Positive(f, 1, "open"), Positive(f, 2, "high"), Positive(f, 3, "low"), Positive(f, 4, "close"),
            NonNegative(f, 5, "volume"), NonNegative(f, 7, "quote_volume"), Long(f, 8, "count"),
            NonNegative(f, 9, "taker_buy_volume"), NonNegative(f, 10, "taker_buy_quote_volume"), Closed: true));
    }

    private static Line? Need(string[] f, int count) =>
        f.Length >= count ? null : new Line(LineKind.Error, Error: $"expected at least {count} fields, found {f.Length}");

    private static long Long(string[] f, int i, string name) =>
        long.TryParse(f[i].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"{name} '{f[i]}' is not an integer");

    private static decimal Decimal(string[] f, int i, string name) =>
        decimal.TryParse(f[i].Trim(), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"{name} '{f[i]}' is not a number");

    private static decimal Positive(string[] f, int i, string name)
    {
        var v = Decimal(f, i, name);
        return v > 0 ? v : throw new FormatException($"{name} {v} must be positive");
    }

    private static decimal NonNegative(string[] f, int i, string name)
    {
        var v = Decimal(f, i, name);
        return v >= 0 ? v : throw new FormatException($"{name} {v} must not be negative");
    }

    private static bool Bool(string[] f, int i, string name) => f[i].Trim().ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new FormatException($"{name} '{f[i]}' is not true or false"),
    };

    /// <summary>
    /// Milliseconds or microseconds since the epoch (told apart by size), kept to the microsecond, and within
    /// [<see cref="Earliest"/>, <paramref name="latest"/>].
    /// </summary>
    private static DateTimeOffset Time(string[] f, int i, string name, DateTimeOffset latest)
    {
        var raw = Long(f, i, name);
        DateTimeOffset time;
        if (raw >= MinMs * 1000 && raw <= MaxMs * 1000)
        {
            time = DateTimeOffset.UnixEpoch.AddTicks(raw * 10);
        }
        else if (raw >= MinMs && raw <= MaxMs)
        {
            time = DateTimeOffset.FromUnixTimeMilliseconds(raw);
        }
        else
        {
            throw new TimeOutOfRangeException($"{name} {raw} is neither epoch milliseconds nor microseconds between {Earliest:yyyy-MM-dd} and now");
        }

        if (time < Earliest || time > latest)
        {
            throw new TimeOutOfRangeException($"{name} {raw} ({time:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}) is outside [{Earliest:yyyy-MM-dd}, now + {FutureSlack.TotalMinutes:0} min]");
        }

        return time;
    }

    private sealed class TimeOutOfRangeException(string message) : FormatException(message);
}
