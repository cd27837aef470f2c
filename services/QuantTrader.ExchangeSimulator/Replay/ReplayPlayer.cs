using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using QuantTrader.ExchangeSimulator.Market;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.ExchangeSimulator.Replay;

/// <summary>Why a replay cannot start: the HTTP status and the request field to fix.</summary>
public sealed class ReplayRefusedException(int status, string field, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Field { get; } = field;
}

/// <summary>What a replay printed in one market of the simulator: the capture's ids, first to last.</summary>
public sealed record ReplayMarket(string Symbol, long FirstTradeId, long LastTradeId, long Prints);

/// <summary>One replay: its source, its progress, and how it ended.</summary>
public sealed class ReplayJob
{
    private long _framesSent;
    private long _printsMade;

    public Guid Id { get; } = Guid.NewGuid();

    public required string Exchange { get; init; }

    public required string Source { get; init; }

    public required string Format { get; init; }

    public required double Speed { get; init; }

    /// <summary>Frames in the file this replay will send (server frames only; client lines and acks are skipped).</summary>
    public required long Frames { get; init; }

    /// <summary>Markets of this simulator the file prints in (ids as <c>GET /control/trades</c> reports them: Binance aggregate ids).</summary>
    public required IReadOnlyList<ReplayMarket> Markets { get; init; }

    /// <summary>Exchange symbols in the file this simulator does not list: their frames go only to sessions subscribed to them.</summary>
    public required IReadOnlyList<string> OtherSymbols { get; init; }

    public string Status { get; internal set; } = "running";

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? FinishedAt { get; internal set; }

    public string? Error { get; internal set; }

    public long FramesSent => Interlocked.Read(ref _framesSent);

    public long PrintsMade => Interlocked.Read(ref _printsMade);

    internal CancellationTokenSource Cancel { get; } = new();

    internal void Sent(int prints)
    {
        Interlocked.Increment(ref _framesSent);
        Interlocked.Add(ref _printsMade, prints);
    }
}

/// <summary>
/// Replays a recorded exchange session or a Binance public-data CSV over the simulator's real WebSocket endpoints.
/// The file is read twice: once to check it and learn which markets it prints in, then to send it, keeping the gaps
/// between frames divided by the speed (0: as fast as the sessions take them). Trades in markets the simulator lists
/// are printed there with the file's ids, prices and times — recorded, so REST backfill and <c>/control/trades</c>
/// know them — and that market's random walk pauses until the replay ends, then continues after the replayed ids.
/// </summary>
public sealed class ReplayPlayer(SimMarket market, IOptions<SimulatorOptions> options, IHostApplicationLifetime lifetime, ILogger<ReplayPlayer> logger)
{
    private readonly ConcurrentDictionary<Guid, ReplayJob> _jobs = new();

    public IEnumerable<ReplayJob> Jobs => _jobs.Values.OrderBy(j => j.StartedAt);

    public ReplayJob? Find(Guid id) => _jobs.GetValueOrDefault(id);

    /// <summary>A file from <c>Simulator:Replay:Directory</c>, by name (no paths: the control API serves no other files).</summary>
    public string ResolveFile(string name)
    {
        var directory = options.Value.Replay.Directory;
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new ReplayRefusedException(400, "file", "No replay directory is configured (Simulator:Replay:Directory); upload the file as the request body instead.");
        }

        if (name != Path.GetFileName(name) || name is "." or "..")
        {
            throw new ReplayRefusedException(400, "file", $"'{name}' is not a plain file name inside the replay directory.");
        }

        var path = Path.Combine(Path.GetFullPath(directory), name);
        return File.Exists(path)
            ? path
            : throw new ReplayRefusedException(404, "file", $"No file '{name}' in the replay directory {Path.GetFullPath(directory)}.");
    }

    /// <summary>Checks the file and starts sending it; the returned job reports progress.</summary>
    public ReplayJob Start(string exchange, string path, string source, string? format, string? symbol, double? speed, bool deleteWhenDone)
    {
        format = (format ?? ReplayFormats.Capture).Trim().ToLowerInvariant();
        exchange = exchange.Trim().ToLowerInvariant();
        if (exchange is not (Exchanges.Binance or Exchanges.Okx))
        {
            throw new ReplayRefusedException(400, "exchange", "One of binance, okx.");
        }

        if (!ReplayFormats.All.Contains(format))
        {
            throw new ReplayRefusedException(400, "format", $"One of {string.Join(", ", ReplayFormats.All)}.");
        }

        string? exchangeSymbol = null;
        if (format != ReplayFormats.Capture)
        {
            if (exchange != Exchanges.Binance)
            {
                throw new ReplayRefusedException(400, "exchange", $"{format} files are Binance's; replay them on binance.");
            }

            exchangeSymbol = market.Find(exchange, symbol)?.Instrument.ExchangeSymbol
                ?? throw new ReplayRefusedException(400, "symbol", $"A CSV names no symbol: give one the simulator lists on {exchange} (symbol={symbol ?? "missing"}).");
        }

        var rate = speed ?? options.Value.Replay.Speed;
        if (rate < 0 || double.IsNaN(rate))
        {
            throw new ReplayRefusedException(400, "speed", "A multiple of real time (1 = as recorded, 10 = ten times faster), or 0 for as fast as possible.");
        }

        var (frames, markets, others) = Survey(path, exchange, format, exchangeSymbol);
        var claimed = new List<SimInstrument>();
        try
        {
            foreach (var (instrument, first) in markets.Values.Select(m => (m.Instrument, m.First)))
            {
                if (!instrument.TryBeginReplay())
                {
                    throw new ReplayRefusedException(409, "file", $"Another replay is printing {instrument.Instrument.Symbol} on {exchange}.");
                }

                claimed.Add(instrument);
                if (!instrument.Accepts(first))
                {
                    throw new ReplayRefusedException(409, "file",
                        $"The file's first {instrument.Instrument.Symbol} trade (id {Id(exchange, first)}) is not after what the simulator already printed there " +
                        $"(id {instrument.LastId}); the ingestor would drop every replayed trade as a duplicate. Replay it into a freshly started simulator.");
                }
            }
        }
        catch
        {
            claimed.ForEach(i => i.EndReplay());
            throw;
        }

        var job = new ReplayJob
        {
            Exchange = exchange,
            Source = source,
            Format = format,
            Speed = rate,
            Frames = frames,
            Markets = [.. markets.Values.Select(m => new ReplayMarket(m.Instrument.Instrument.Symbol, Id(exchange, m.First),
                exchange == Exchanges.Binance ? m.Last.AggregateId : m.Last.LastTradeId, m.Prints))],
            OtherSymbols = [.. others.Order(StringComparer.Ordinal)],
        };
        _jobs[job.Id] = job;
        logger.LogInformation("Replay {Id}: {Source} ({Format}) on {Exchange} at speed {Speed}: {Frames} frames, markets {Markets}",
            job.Id, source, format, exchange, rate, frames, string.Join(", ", job.Markets.Select(m => $"{m.Symbol} {m.FirstTradeId}..{m.LastTradeId}")));
        _ = Task.Run(() => RunAsync(job, path, exchangeSymbol, claimed, deleteWhenDone));
        return job;
    }

    public bool Stop(Guid id)
    {
        if (_jobs.GetValueOrDefault(id) is not { } job)
        {
            return false;
        }

        job.Cancel.Cancel();
        return true;
    }

    /// <summary>Binance counts an aggTrade by its aggregate id, OKX by single trade ids (an entry starts at tradeId − count + 1).</summary>
    private static long Id(string exchange, ReplayTrade trade) => exchange == Exchanges.Binance ? trade.AggregateId : trade.FirstTradeId;

    private sealed class Surveyed(SimInstrument instrument, ReplayTrade first)
    {
        public SimInstrument Instrument { get; } = instrument;

        public ReplayTrade First { get; } = first;

        public ReplayTrade Last { get; set; } = first;

        public long Prints { get; set; }
    }

    private (long Frames, Dictionary<string, Surveyed> Markets, HashSet<string> Others) Survey(string path, string exchange, string format, string? exchangeSymbol)
    {
        long frames = 0;
        var markets = new Dictionary<string, Surveyed>(StringComparer.Ordinal);
        var others = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var reader = File.OpenText(path);
            foreach (var frame in ReplayReader.Read(reader, exchange, format, exchangeSymbol))
            {
                frames++;
                foreach (var trade in frame.Trades)
                {
                    if (!markets.TryGetValue(trade.ExchangeSymbol, out var seen))
                    {
                        // Only the exchange's own spelling is a match (BTCUSDT on Binance, BTC-USDT on OKX).
                        if (market.Find(exchange, trade.ExchangeSymbol) is not { } instrument || instrument.Instrument.ExchangeSymbol != trade.ExchangeSymbol)
                        {
                            others.Add(trade.ExchangeSymbol);
                            continue;
                        }

                        markets[trade.ExchangeSymbol] = seen = new Surveyed(instrument, trade);
                    }

                    seen.Last = trade;
                    seen.Prints++;
                }
            }
        }
        catch (InvalidDataException ex)
        {
            throw new ReplayRefusedException(400, "file", $"Not a {format} file for {exchange}: {ex.Message}");
        }

        return frames == 0
            ? throw new ReplayRefusedException(400, "file", $"The file holds no {exchange} frames in the {format} format.")
            : (frames, markets, others);
    }

    private async Task RunAsync(ReplayJob job, string path, string? exchangeSymbol, List<SimInstrument> claimed, bool deleteWhenDone)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(job.Cancel.Token, lifetime.ApplicationStopping);
        var ct = stop.Token;
        try
        {
            using var reader = File.OpenText(path);
            var clock = Stopwatch.StartNew();
            double? firstAt = null;
            var prints = new List<SimPrint>();
            foreach (var frame in ReplayReader.Read(reader, job.Exchange, job.Format, exchangeSymbol))
            {
                ct.ThrowIfCancellationRequested();
                firstAt ??= frame.At;
                if (job.Speed > 0)
                {
                    // The recorded gap to the first frame, scaled; sleeping only when ahead keeps a slow machine catching up.
                    var due = TimeSpan.FromSeconds((frame.At - firstAt.Value) / job.Speed) - clock.Elapsed;
                    if (due > TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(due, ct);
                    }
                }

                prints.Clear();
                foreach (var trade in frame.Trades)
                {
                    if (market.Find(job.Exchange, trade.ExchangeSymbol) is { } instrument && claimed.Contains(instrument)
                        && instrument.Replay(trade) is { } print)
                    {
                        prints.Add(print);
                    }
                }

                market.BroadcastReplay(job.Exchange, frame, prints);
                job.Sent(prints.Count);
            }

            job.Status = "completed";
        }
        catch (OperationCanceledException)
        {
            job.Status = "stopped";
        }
        catch (Exception ex)
        {
            job.Status = "failed";
            job.Error = ex.Message;
            logger.LogError(ex, "Replay {Id} of {Source} failed", job.Id, job.Source);
        }
        finally
        {
            job.FinishedAt = DateTimeOffset.UtcNow;
            claimed.ForEach(i => i.EndReplay());
            if (deleteWhenDone)
            {
                File.Delete(path);
            }

            logger.LogInformation("Replay {Id} {Status}: {Frames} frames, {Prints} prints", job.Id, job.Status, job.FramesSent, job.PrintsMade);
        }
    }
}
