using System.Globalization;
using System.Text.Json;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.ExchangeSimulator.Replay;

/// <summary>What a replay file holds: a recorded WebSocket session or a Binance public-data CSV.</summary>
public static class ReplayFormats
{
    /// <summary><c>&lt;receive epoch&gt;: &lt;frame&gt;</c> per line, as the captures in shared/data (cryptofeed's recorder).</summary>
    public const string Capture = "capture";

    /// <summary>data.binance.vision spot trades: <c>id,price,qty,quote_qty,time,is_buyer_maker[,is_best_match]</c>.</summary>
    public const string BinanceTrades = "binance-trades";

    /// <summary>data.binance.vision aggTrades: <c>agg_id,price,qty,first_id,last_id,time,is_buyer_maker[,is_best_match]</c>.</summary>
    public const string BinanceAggTrades = "binance-aggtrades";

    public static readonly string[] All = [Capture, BinanceTrades, BinanceAggTrades];
}

/// <summary>
/// One exchange trade print read from a replay file, in the exchange's own terms: Binance aggregate id with its first and
/// last trade id; OKX one <c>trades</c> entry (<c>count</c> trades ending at its <c>tradeId</c>).
/// </summary>
public sealed record ReplayTrade(
    string ExchangeSymbol, long AggregateId, long FirstTradeId, long LastTradeId, decimal Price, decimal Quantity, bool BuyerIsMaker, long TimeMs);

/// <summary>
/// One message to send. <see cref="Text"/> is the captured frame, sent byte for byte to the sessions subscribed to
/// <see cref="Stream"/> (Binance stream name, OKX instId); null for CSV rows, which the sessions format like their
/// own prints. <see cref="At"/> is the capture's clock in seconds (receive time, or trade time for CSV): the replay
/// keeps the gaps between frames, divided by the speed.
/// </summary>
public sealed record ReplayFrame(double At, string? Stream, string? Text, IReadOnlyList<ReplayTrade> Trades);

/// <summary>Reads replay files lazily (a CSV may have millions of rows), skipping what a server would never send.</summary>
public static class ReplayReader
{
    public static IEnumerable<ReplayFrame> Read(TextReader reader, string exchange, string format, string? exchangeSymbol)
    {
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            ReplayFrame? frame;
            try
            {
                frame = format switch
                {
                    ReplayFormats.Capture when exchange == Exchanges.Binance => BinanceCaptureLine(line),
                    ReplayFormats.Capture => OkxCaptureLine(line),
                    ReplayFormats.BinanceTrades => CsvLine(line, exchangeSymbol!, aggregated: false),
                    _ => CsvLine(line, exchangeSymbol!, aggregated: true),
                };
            }
            catch (Exception ex) when (ex is JsonException or FormatException or OverflowException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
            {
                throw new InvalidDataException($"line {lineNumber}: {ex.Message}", ex);
            }

            if (frame is not null)
            {
                yield return frame;
            }
        }
    }

    /// <summary>
    /// The capture's frames: <c>1617566592.629139: {"stream":"btcusdt@aggTrade","data":{..}}</c>. Lines the client sent
    /// or connect lines (<c>wss://… &lt;-</c>) are not the server's and are skipped.
    /// </summary>
    private static (double At, string Json)? SplitCaptureLine(string line)
    {
        var colon = line.IndexOf(": ", StringComparison.Ordinal);
        if (colon <= 0 || !char.IsAsciiDigit(line[0])
            || !double.TryParse(line.AsSpan(0, colon), NumberStyles.Float, CultureInfo.InvariantCulture, out var at))
        {
            return null;
        }

        return (at, line[(colon + 2)..]);
    }

    private static ReplayFrame? BinanceCaptureLine(string line)
    {
        if (SplitCaptureLine(line) is not { } split)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(split.Json);
        var root = doc.RootElement;
        if (!root.TryGetProperty("stream", out var streamElement) || !root.TryGetProperty("data", out var data))
        {
            return null; // a reply to a request (SUBSCRIBE result): the simulator answers those itself
        }

        var stream = streamElement.GetString()!;
        List<ReplayTrade> trades = [];
        switch (data.TryGetProperty("e", out var e) ? e.GetString() : null)
        {
            case "aggTrade":
                trades.Add(new ReplayTrade(data.GetProperty("s").GetString()!, data.GetProperty("a").GetInt64(),
                    data.GetProperty("f").GetInt64(), data.GetProperty("l").GetInt64(), Decimal(data.GetProperty("p")),
                    Decimal(data.GetProperty("q")), data.GetProperty("m").GetBoolean(), data.GetProperty("T").GetInt64()));
                break;
            case "trade":
                var id = data.GetProperty("t").GetInt64();
                trades.Add(new ReplayTrade(data.GetProperty("s").GetString()!, id, id, id, Decimal(data.GetProperty("p")),
                    Decimal(data.GetProperty("q")), data.GetProperty("m").GetBoolean(), data.GetProperty("T").GetInt64()));
                break;
        }

        return new ReplayFrame(split.At, stream, split.Json, trades);
    }

    private static ReplayFrame? OkxCaptureLine(string line)
    {
        if (SplitCaptureLine(line) is not { } split)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(split.Json);
        var root = doc.RootElement;
        // Subscribe acks and errors are the simulator's own answers to the client's own requests.
        if (root.TryGetProperty("event", out _) || !root.TryGetProperty("arg", out var arg) || !root.TryGetProperty("data", out var data)
            || arg.GetProperty("channel").GetString() != "trades")
        {
            return null;
        }

        var trades = new List<ReplayTrade>();
        foreach (var entry in data.EnumerateArray())
        {
            var last = long.Parse(entry.GetProperty("tradeId").GetString()!, CultureInfo.InvariantCulture);
            // An aggregated entry stands for `count` trades ending at tradeId; captures before 2023 have no count.
            var count = entry.TryGetProperty("count", out var c) && c.GetString() is { Length: > 0 } n ? long.Parse(n, CultureInfo.InvariantCulture) : 1;
            trades.Add(new ReplayTrade(entry.GetProperty("instId").GetString()!, 0, last - count + 1, last, Decimal(entry.GetProperty("px")),
                Decimal(entry.GetProperty("sz")), entry.GetProperty("side").GetString() == "sell",
                long.Parse(entry.GetProperty("ts").GetString()!, CultureInfo.InvariantCulture)));
        }

        return new ReplayFrame(split.At, arg.GetProperty("instId").GetString(), split.Json, trades);
    }

    /// <summary>A public-data row; a header line is skipped. Times in µs (2025+ spot files) become ms.</summary>
    private static ReplayFrame? CsvLine(string line, string exchangeSymbol, bool aggregated)
    {
        var f = line.Split(',');
        if (!char.IsAsciiDigit(f[0].Trim().FirstOrDefault()))
        {
            return null; // header
        }

        static long Long(string s) => long.Parse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
        static decimal Dec(string s) => decimal.Parse(s.Trim(), NumberStyles.Number, CultureInfo.InvariantCulture);
        static bool Bool(string s) => bool.Parse(s.Trim());
        static long Millis(long t) => t >= 100_000_000_000_000 ? t / 1000 : t;

        ReplayTrade trade;
        if (aggregated)
        {
            trade = new ReplayTrade(exchangeSymbol, Long(f[0]), Long(f[3]), Long(f[4]), Dec(f[1]), Dec(f[2]), Bool(f[6]), Millis(Long(f[5])));
        }
        else
        {
            // A single trade is served as its own aggregate (a = f = l = the trade id): the stream a client subscribes
            // to (aggTrade or trade) then carries the file's ids either way.
            var id = Long(f[0]);
            trade = new ReplayTrade(exchangeSymbol, id, id, id, Dec(f[1]), Dec(f[2]), Bool(f[5]), Millis(Long(f[4])));
        }

        return new ReplayFrame(trade.TimeMs / 1000.0, null, null, [trade]);
    }

    private static decimal Decimal(JsonElement element) =>
        decimal.Parse(element.GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture);
}
