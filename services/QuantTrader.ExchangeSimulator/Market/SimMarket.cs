using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.ExchangeSimulator.Market;

/// <summary>The simulated Binance and OKX: their instruments, their open connections, and what they printed.</summary>
public sealed class SimMarket
{
    private static readonly Dictionary<string, decimal> StartPrices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["BTC"] = 64_000m, ["ETH"] = 3_100m, ["SOL"] = 145m, ["BNB"] = 580m, ["XRP"] = 0.52m,
        ["DOGE"] = 0.12m, ["ADA"] = 0.45m, ["DOT"] = 6.5m, ["UNI"] = 7.5m, ["LTC"] = 80m,
    };

    private readonly Dictionary<(string Exchange, string Symbol), SimInstrument> _instruments = new();
    private readonly ConcurrentDictionary<Guid, SimSession> _open = new();
    private readonly ConcurrentQueue<SimSession> _closed = new();

    public SimMarket(IOptions<SimulatorOptions> options)
    {
        Options = options.Value;
        var random = Options.Seed is int seed ? new Random(seed) : new Random();
        var table = SymbolNormalizer.CreateDefault();
        foreach (var exchange in new[] { Exchanges.Binance, Exchanges.Okx })
        {
            foreach (var symbol in (Options.Symbols.Count > 0 ? Options.Symbols : ["BTCUSDT", "ETHUSDT", "SOLUSDT"]).Select(s => s.Trim().ToUpperInvariant()).Distinct())
            {
                var instrument = table.Get(exchange, symbol);
                var start = StartPrices.GetValueOrDefault(instrument.BaseAsset, 10m);
                _instruments[(exchange, instrument.Symbol)] = new SimInstrument(
                    exchange, instrument, start, Options.TradesPerSecond, new Random(random.Next()));
            }
        }
    }

    public SimulatorOptions Options { get; }

    public IEnumerable<SimInstrument> Instruments => _instruments.Values;

    public IEnumerable<SimInstrument> On(string exchange) => _instruments.Values.Where(i => i.Exchange == exchange);

    /// <summary>By normalized symbol or the exchange's spelling (<c>BTCUSDT</c>, <c>btcusdt</c>, <c>BTC-USDT</c>).</summary>
    public SimInstrument? Find(string exchange, string? symbol)
    {
        if (symbol is null)
        {
            return null;
        }

        var normalized = symbol.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        return _instruments.GetValueOrDefault((exchange, normalized));
    }

    public IEnumerable<SimSession> OpenSessions(string? exchange = null) =>
        _open.Values.Where(s => exchange is null || s.Exchange == exchange);

    public IEnumerable<SimSession> AllSessions() => _open.Values.Concat(_closed).OrderBy(s => s.OpenedAt);

    public async Task RunSessionAsync(SimSession session, CancellationToken ct)
    {
        _open[session.Id] = session;
        try
        {
            await session.RunAsync(ct);
        }
        finally
        {
            _open.TryRemove(session.Id, out _);
            _closed.Enqueue(session);
            while (_closed.Count > 500 && _closed.TryDequeue(out _))
            {
            }
        }
    }

    /// <summary>Hands a replayed frame (and the prints it made here) to every open session of the exchange.</summary>
    public void BroadcastReplay(string exchange, Replay.ReplayFrame frame, IReadOnlyList<SimPrint> prints)
    {
        foreach (var session in _open.Values)
        {
            if (session.Exchange == exchange)
            {
                session.OnReplay(frame, prints);
            }
        }
    }

    /// <summary>Hands a new print to every open session of its exchange (each decides whether it subscribed).</summary>
    public void Broadcast(SimPrint print)
    {
        foreach (var session in _open.Values)
        {
            if (session.Exchange == print.Exchange)
            {
                session.OnPrint(print);
            }
        }
    }
}

/// <summary>Makes the prints: every instrument's due trades every 10 ms, at its configured rate.</summary>
public sealed class TradeGenerator(SimMarket market, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        var last = time.GetTimestamp();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = time.GetTimestamp();
            var elapsed = time.GetElapsedTime(last, now).TotalSeconds;
            last = now;
            var wallClock = time.GetUtcNow();
            foreach (var instrument in market.Instruments)
            {
                var due = instrument.Due(elapsed);
                for (var i = 0; i < due; i++)
                {
                    var print = instrument.Next(wallClock, out var hidden);
                    if (print is not null && !hidden)
                    {
                        market.Broadcast(print);
                    }
                }
            }
        }
    }
}
