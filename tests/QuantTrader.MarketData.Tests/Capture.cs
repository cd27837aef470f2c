using System.Globalization;

namespace QuantTrader.MarketData.Tests;

/// <summary>One received frame of a cryptofeed capture: <c>&lt;receive epoch&gt;: &lt;json&gt;</c>.</summary>
public sealed record CapturedFrame(int LineNumber, decimal ReceivedAt, string Json);

/// <summary>Reads the captures under fixtures/ (see fixtures/SOURCE.md).</summary>
public static class Capture
{
    public const string BinanceSpot = "binance_ws/cryptofeed_BINANCE-ee25be_kline1m_aggTrade_2021-04-04.txt";
    public const string Okx = "okx_ws/cryptofeed_OKX_ws_trades_2022-05-13.txt";

    /// <summary>
    /// Received frames only. cryptofeed also logs what it sent (<c>wss://… &lt;- epoch: json</c>); those lines are
    /// skipped: they are our own subscribe requests, not exchange output.
    /// </summary>
    public static IReadOnlyList<CapturedFrame> Read(string relativePath)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", relativePath);
        var frames = new List<CapturedFrame>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || !char.IsAsciiDigit(line[0]))
            {
                continue;
            }

            var separator = line.IndexOf(": ", StringComparison.Ordinal);
            Assert.True(separator > 0, $"line {lineNumber} has no '<epoch>: ' prefix");
            var epoch = decimal.Parse(line.AsSpan(0, separator), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            frames.Add(new CapturedFrame(lineNumber, epoch, line[(separator + 2)..]));
        }

        return frames;
    }
}
