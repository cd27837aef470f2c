using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Ingestor;
using QuantTrader.Ingestor.Backfill;
using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.Ingestor.Publishing;
using QuantTrader.MarketData.Normalization;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.LoadTest;

/// <summary>One round: frames through the ingestor's path and the same payloads published raw, trades/s each.</summary>
public sealed record IngestPublishRound(int Round, double RawPerSecond, double IngestorPerSecond);

/// <summary>
/// Issue 3's benchmark: parse + normalize + publish throughput of the ingestor against raw JetStream publishing of
/// the same payloads, in the same run, on a nats-server of its own (<c>nats-server -js</c> on a free port, a temporary
/// store, MARKET_RAW with its real configuration). The ingestor side is its real path from a received frame on:
/// <see cref="BinanceMessageParser"/> (parse + normalize), the exchange's <see cref="TradePipeline"/> (sequencer,
/// batches of up to 1024) and <see cref="TradePublisher"/> (JSON, trace headers, concurrent publish, acks awaited).
/// The raw side publishes the JSON those trades serialize to, with the same subjects and message ids, concurrently in
/// batches of the same size, acks awaited: the best the broker does for this payload on this machine. The frames are
/// the real Binance aggTrade frames of tests/fixtures/exchange-captures, repeated with fresh consecutive ids per symbol
/// (the sequencer sees no gap, JetStream's duplicate window drops nothing); the rounds alternate raw and ingestor so
/// both see the same machine.
/// </summary>
public static class IngestPublishBenchmark
{
    private const int Batch = 1024;

    /// <param name="tradesPerMessage">The ingestor's <c>MarketData:MaxTradesPerMessage</c>; the raw baseline is always one message per trade.</param>
    public static async Task<IReadOnlyList<IngestPublishRound>> RunAsync(string repositoryRoot, int frames, int rounds, int tradesPerMessage, CancellationToken ct)
    {
        var templates = Templates(Path.Combine(repositoryRoot, "tests", "fixtures", "exchange-captures", "cryptofeed_BINANCE-ee25be_kline1m_aggTrade_2021-04-04.txt"));
        await using var server = await NatsServer.StartAsync(ct);
        await using var nats = new NatsConnection(new NatsOpts { Url = server.Url });
        var js = new NatsJSContext(nats);
        await js.CreateOrUpdateStreamAsync(Streams.MarketRaw(), ct);

        var symbols = SymbolNormalizer.CreateDefault();
        var parser = new BinanceMessageParser(symbols);
        var results = new List<IngestPublishRound>();
        for (var round = 1; round <= rounds; round++)
        {
            // Id spaces far apart per round and side: nothing is a duplicate of anything published before.
            var rawFrames = Frames(templates, frames, idBase: (round * 2L) * 1_000_000_000L);
            var ingestFrames = Frames(templates, frames, idBase: (round * 2L + 1) * 1_000_000_000L);
            var raw = RawPayloads(parser, rawFrames);

            var rawRate = await RawAsync(js, raw, ct);
            var ingestRate = await IngestorAsync(js, parser, symbols, ingestFrames, tradesPerMessage, ct);
            results.Add(new IngestPublishRound(round, rawRate, ingestRate));
            Console.WriteLine($"round {round}: raw JetStream {rawRate:N0} trades/s, ingestor {ingestRate:N0} trades/s, ratio {ingestRate / rawRate:0.00}");
        }

        return results;
    }

    /// <summary>The capture's aggTrade frames the normalizer knows (BTCUSDT, ETHUSDT, DOTUSDT), with their symbol.</summary>
    private static List<(string Symbol, string Frame)> Templates(string capture)
    {
        var list = new List<(string, string)>();
        foreach (var line in File.ReadLines(capture))
        {
            var json = line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..];
            if (json.Contains("@aggTrade", StringComparison.Ordinal))
            {
                using var doc = JsonDocument.Parse(json);
                list.Add((doc.RootElement.GetProperty("data").GetProperty("s").GetString()!, json));
            }
        }

        return list;
    }

    private static readonly Regex AggregateId = new("\"a\":\\d+", RegexOptions.Compiled);

    private static byte[][] Frames(List<(string Symbol, string Frame)> templates, int count, long idBase)
    {
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        var frames = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var (symbol, template) = templates[i % templates.Count];
            var id = next[symbol] = next.GetValueOrDefault(symbol, idBase) + 1;
            frames[i] = Encoding.UTF8.GetBytes(AggregateId.Replace(template, $"\"a\":{id}", 1));
        }

        return frames;
    }

    private static (string Subject, byte[] Data, string MessageId)[] RawPayloads(BinanceMessageParser parser, byte[][] frames) =>
        [.. frames.Select(frame =>
        {
            var trade = ((TradesParsed)parser.Parse(frame)).Trades[0];
            var t = trade.TradeCount == trade.Trade.Count ? trade.Trade : trade.Trade with { Count = trade.TradeCount };
            return (Subjects.MarketRaw(t.Exchange, t.Symbol), JsonSerializer.SerializeToUtf8Bytes(t, ContractsJsonContext.Wire.Trade), t.MessageId);
        })];

    private static async Task<double> RawAsync(NatsJSContext js, (string Subject, byte[] Data, string MessageId)[] payloads, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var futures = new List<NatsJSPublishConcurrentFuture>(Batch);
        for (var i = 0; i < payloads.Length; i += Batch)
        {
            futures.Clear();
            for (var j = i; j < Math.Min(i + Batch, payloads.Length); j++)
            {
                futures.Add(await js.PublishConcurrentAsync(payloads[j].Subject, payloads[j].Data,
                    opts: new NatsJSPubOpts { MsgId = payloads[j].MessageId }, cancellationToken: ct));
            }

            foreach (var future in futures)
            {
                await using (future)
                {
                    var ack = await future.GetResponseAsync(ct);
                    ack.EnsureSuccess();
                    if (ack.Duplicate)
                    {
                        throw new InvalidOperationException("A raw payload was a duplicate: the benchmark would measure dropped messages.");
                    }
                }
            }
        }

        return payloads.Length / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> IngestorAsync(NatsJSContext js, BinanceMessageParser parser, SymbolNormalizer symbols, byte[][] frames, int tradesPerMessage, CancellationToken ct)
    {
        var metrics = new IngestorMetrics();
        var options = Options.Create(new MarketDataOptions { Binance = { RestUrl = "http://127.0.0.1:9" } });
        var publisher = new TradePublisher(js, NullLogger<TradePublisher>.Instance, TimeProvider.System, tradesPerMessage);
        // The real backfill (a gap would be fetched over REST); the run checks afterwards that none happened.
        using var http = new HttpClient();
        var pipeline = new TradePipeline(Exchanges.Binance, new BinanceBackfill(http, options), publisher, metrics, symbols,
            options.Value.MaxBackfillTrades, NullLogger.Instance, TimeProvider.System);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watch = Stopwatch.StartNew();
        var running = pipeline.RunAsync(stop.Token);

        // What ExchangeConnector does with each received frame.
        foreach (var frame in frames)
        {
            if (parser.Parse(frame) is not TradesParsed parsed)
            {
                throw new InvalidOperationException("A benchmark frame did not parse to a trade.");
            }

            foreach (var item in parsed.Trades)
            {
                var trade = item.TradeCount == item.Trade.Count ? item.Trade : item.Trade with { Count = item.TradeCount };
                await pipeline.WriteAsync(trade, stop.Token);
            }
        }

        while (metrics.Snapshot().GetValueOrDefault("binance.published") < frames.Length)
        {
            if (running.IsCompleted)
            {
                await running; // surfaces the pipeline's failure
            }

            await Task.Delay(2, ct);
        }

        var elapsed = watch.Elapsed;
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }

        var totals = metrics.Snapshot();
        if (totals.GetValueOrDefault("binance.gaps") != 0 || totals.GetValueOrDefault("binance.duplicates") != 0)
        {
            throw new InvalidOperationException($"The ingestor run saw gaps or duplicates: {string.Join(", ", totals)}");
        }

        return frames.Length / elapsed.TotalSeconds;
    }

    /// <summary><c>nats-server -js</c> on a free port with a temporary store; killed and removed on dispose (also used by <see cref="BatchSaverBenchmark"/>).</summary>
    internal sealed class NatsServer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _store;

        private NatsServer(Process process, string store, string url)
        {
            _process = process;
            _store = store;
            Url = url;
        }

        public string Url { get; }

        public static async Task<NatsServer> StartAsync(CancellationToken ct)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var store = Path.Combine(Path.GetTempPath(), $"quanttrader-bench-nats-{Guid.NewGuid():N}");
            var process = Process.Start(new ProcessStartInfo("nats-server", ["-js", "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-sd", store])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new InvalidOperationException("nats-server did not start");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new NatsServer(process, store, $"nats://127.0.0.1:{port}");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port, ct);
                    return server;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
                {
                    await Task.Delay(100, ct);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
            Directory.Delete(_store, recursive: true);
        }
    }
}

/// <summary>The docs/benchmarks.md rows of an ingest-publish run: medians over the rounds and each round's ratio.</summary>
public static class IngestPublishReport
{
    public static string Markdown(IReadOnlyList<IngestPublishRound> rounds, string command)
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }

        var raw = Median(rounds.Select(r => r.RawPerSecond));
        var ingest = Median(rounds.Select(r => r.IngestorPerSecond));
        var ratios = rounds.Select(r => r.IngestorPerSecond / r.RawPerSecond).ToList();
        var ratio = Median(ratios);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return string.Create(inv, $"""
            Command: `{command}`

            | benchmark | result | rate | ratio | alloc | goal | met? |
            | --- | ---: | ---: | ---: | ---: | --- | --- |
            | baseline: raw JetStream publish of the same payloads | {1e9 / raw:N0} ns/trade | {raw:N0} /s | 1.00 | | | |
            | **ingestor: parse + normalize + publish** | **{1e9 / ingest:N0} ns/trade** | {ingest:N0} /s | **{ratio:0.00}** (rounds: {string.Join(", ", ratios.Select(r => r.ToString("0.00", inv)))}) | | ≥ 0.50 of raw | **{(ratio >= 0.5 ? "met" : "missed")}** |
            """);
    }
}
