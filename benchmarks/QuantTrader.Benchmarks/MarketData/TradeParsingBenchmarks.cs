using System.Text.Json;
using BenchmarkDotNet.Attributes;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.Benchmarks.MarketData;

/// <summary>
/// Issue 3: parse + normalize alone on one core, goal ≥ 2 M frames/s (≤ 500 ns per frame), ten times ccxt's own
/// Binance trade parser on this kind of machine (~190k frames/s). Input: 64 real combined-stream <c>aggTrade</c>
/// frames as UTF-8 bytes (what the WebSocket hands the ingestor). Baseline: <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/>
/// of the same bytes — the DOM the parser builds before it reads fields — so the ratio is the cost of validation,
/// symbol normalization and the <c>Trade</c> records on top of bare JSON parsing.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class BinanceTradeParsingBenchmarks
{
    private const int FrameCount = 64;
    private readonly BinanceMessageParser _parser = new();
    private byte[][] _frames = [];

    [GlobalSetup]
    public void Setup()
    {
        _frames = Fixtures.Frames("binance_aggTrade.jsonl", FrameCount);
        foreach (var frame in _frames)
        {
            // A benchmark of the reject path would flatter the parser: every frame must yield exactly one trade.
            if (_parser.Parse(frame) is not TradesParsed { Trades.Count: 1 })
            {
                throw new InvalidOperationException("A fixture frame did not parse into one trade.");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FrameCount, Description = "Baseline: JsonDocument.Parse of the same frame")]
    public int JsonDocumentParse() => TradeParsing.JsonDocumentParse(_frames);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "Floor: Utf8JsonReader walk of the same frame")]
    public int Utf8JsonReaderWalk() => TradeParsing.ReaderWalk(_frames);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "BinanceMessageParser.Parse aggTrade (goal >= 2 M frames/s)")]
    public int BinanceParse()
    {
        var trades = 0;
        foreach (var frame in _frames)
        {
            if (_parser.Parse(frame) is TradesParsed parsed)
            {
                trades += parsed.Trades.Count;
            }
        }

        return trades;
    }
}

/// <summary>
/// Issue 3, OKX side: parse + normalize of 64 real OKX v5 <c>trades</c> frames for BTC-USDT (one trade each);
/// same goal (≥ 2 M frames/s) and same baseline as <see cref="BinanceTradeParsingBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class OkxTradeParsingBenchmarks
{
    private const int FrameCount = 64;
    private readonly OkxMessageParser _parser = new();
    private byte[][] _frames = [];

    [GlobalSetup]
    public void Setup()
    {
        _frames = Fixtures.Frames("okx_trades.jsonl", FrameCount);
        foreach (var frame in _frames)
        {
            if (_parser.Parse(frame) is not TradesParsed { Trades.Count: 1 })
            {
                throw new InvalidOperationException("A fixture frame did not parse into one trade.");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FrameCount, Description = "Baseline: JsonDocument.Parse of the same frame")]
    public int JsonDocumentParse() => TradeParsing.JsonDocumentParse(_frames);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "Floor: Utf8JsonReader walk of the same frame")]
    public int Utf8JsonReaderWalk() => TradeParsing.ReaderWalk(_frames);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "OkxMessageParser.Parse trades (goal >= 2 M frames/s)")]
    public int OkxParse()
    {
        var trades = 0;
        foreach (var frame in _frames)
        {
            if (_parser.Parse(frame) is TradesParsed parsed)
            {
                trades += parsed.Trades.Count;
            }
        }

        return trades;
    }
}

/// <summary>The two baselines, shared so both exchanges are measured against exactly the same code.</summary>
internal static class TradeParsing
{
    public static int JsonDocumentParse(byte[][] frames)
    {
        var kinds = 0;
        foreach (var frame in frames)
        {
            using var document = JsonDocument.Parse(frame);
            kinds += (int)document.RootElement.ValueKind;
        }

        return kinds;
    }

    /// <summary>Tokenizing only: no DOM, no strings, no numbers. No real parser can be cheaper than this.</summary>
    public static int ReaderWalk(byte[][] frames)
    {
        var tokens = 0;
        foreach (var frame in frames)
        {
            var reader = new Utf8JsonReader(frame);
            while (reader.Read())
            {
                tokens++;
            }
        }

        return tokens;
    }
}
