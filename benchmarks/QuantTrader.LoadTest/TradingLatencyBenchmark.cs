using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using NATS.Client.Core;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.LoadTest;

/// <summary>The figures of one <c>--mode trading-latency</c> run.</summary>
public sealed record TradingLatencyResult(
    LoadOptions Options,
    int Placed,
    int Refused,
    int Fills,
    int FillEvents,
    int FillsMissing,
    (double P50, double P99, double Max) Accepted,
    (double P50, double P99, double Max) TradeToFill,
    (double P50, double P99, double Max) TradeToRaw,
    (double P50, double P99, double Max) RawToFill,
    (double P50, double P99, double Max) Canceled,
    TimeSpan Elapsed,
    IReadOnlyList<(string Name, double Cores, double PeakMiB)> Processes,
    string LoadBefore = "",
    string LoadAfter = "");

/// <summary>
/// Issue 5's trading latency goals on the real system, without the throughput run's saturation: the system started
/// as the end-to-end run starts it (<see cref="SystemUnderTest"/>), a modest background of simulator trades over
/// every market, and orders placed one at a time through the gateway with a real API key. Per order it times
/// request → HTTP response (accepted); for an order that should fill, it then injects a print through the simulator
/// and times the print (its exchange time, as the fill event carries it) → fill event received on
/// <c>trading.fill.{userId}</c>, the subject a client listens on.
/// </summary>
public static class TradingLatencyBenchmark
{
    public const string Begin = "<!-- trading-latency:begin -->";
    public const string End = "<!-- trading-latency:end -->";

    private const string Exchange = "binance";

    public static async Task<TradingLatencyResult> RunAsync(LoadOptions options, CancellationToken ct)
    {
        Console.WriteLine("starting QuantTrader in simulator mode …");
        await using var system = await SystemUnderTest.StartAsync(ct);
        var natsUrl = await system.ConnectionStringAsync("nats");
        await using var nats = new NatsConnection(new NatsOpts { Url = natsUrl });
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        using var simulator = system.Client("exchange-simulator");
        using var gateway = system.Client("gateway");
        var trader = await LoadRun.TraderAsync(gateway, db, ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var prices = new ConcurrentDictionary<string, decimal>(StringComparer.Ordinal);
        var fills = new ConcurrentDictionary<Guid, OrderWatch>();
        var fillLatency = new Percentiles();
        // The fill latency split in two: the print reaching market.raw (simulator → ingestor → JetStream) and the
        // print on market.raw → its fill event (paper engine → PostgreSQL → TRADING), from when this process saw both.
        var rawSeen = new ConcurrentDictionary<(string Symbol, long TradeId), DateTimeOffset>();
        var (tradeToRaw, rawToFill) = (new Percentiles(), new Percentiles());
        var priceWatch = WatchPricesAsync(nats, prices, rawSeen, tradeToRaw, stop.Token);
        var fillWatch = WatchFillsAsync(nats, trader.UserId, fills, fillLatency, rawSeen, rawToFill, stop.Token);
        await nats.PingAsync(ct); // both subscriptions are registered with the server before anything is placed

        var perMarket = options.Rate / (SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length);
        Console.WriteLine($"background: {options.Rate:N0} trades/s ({perMarket:N1}/s on each of {SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length} markets)");
        (await simulator.PostAsJsonAsync("/control/rate", new { tradesPerSecond = perMarket }, ct)).EnsureSuccessStatusCode();
        foreach (var symbol in new[] { "BTCUSDT", "ETHUSDT" })
        {
            // A print now, so both markets have a price to place market orders against even at a background rate of 0.
            await InjectAsync(simulator, symbol, prices.GetValueOrDefault(symbol, 0m), ct);
        }
        await WaitAsync(() => prices.ContainsKey("BTCUSDT") && prices.ContainsKey("ETHUSDT"), TimeSpan.FromSeconds(30), ct);

        var accepted = new Percentiles();
        var canceled = new Percentiles();
        var (placed, refused, filled, missing) = (0, 0, 0, 0);
        var stats = new ProcessStats(LoadOptions.RepositoryRoot(), system.DataDirectory);
        stats.Start();
        var loadBefore = LoadAverage();
        var watch = Stopwatch.StartNew();
        Console.WriteLine($"placing {options.Orders:N0} orders one at a time (the first {options.Warmup} are warm-up, not counted) …");
        // --order-rate paces the counted orders (order i is sent at start + i / rate, or at once when behind); 0 sends
        // each one as soon as the previous one is done. Warm-up orders are never paced.
        var pace = options.OrderRate > 0 ? TimeSpan.FromSeconds(1 / options.OrderRate) : TimeSpan.Zero;
        var pacedStart = TimeSpan.Zero;
        for (var i = 0; i < options.Orders + options.Warmup; i++)
        {
            var counted = i >= options.Warmup;
            if (counted && pace > TimeSpan.Zero)
            {
                if (i == options.Warmup)
                {
                    pacedStart = watch.Elapsed;
                }
                var due = pacedStart + pace * (i - options.Warmup);
                if (due > watch.Elapsed)
                {
                    await Task.Delay(due - watch.Elapsed, ct);
                }
            }
            var (order, symbol, shouldFill) = NextOrder(i, prices);
            var sent = Stopwatch.GetTimestamp();
            using var response = await trader.Client.PostAsJsonAsync("/api/v1/orders", order, ct);
            var elapsed = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                refused++;
                if (refused <= 3)
                {
                    Console.WriteLine($"  order refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                }
                continue;
            }
            var placedOrder = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
            if (counted)
            {
                accepted.Add(elapsed);
                placed++;
            }

            if (shouldFill)
            {
                // Registered after the response: a fill on a background print can beat it, so the watch is shared.
                var orderWatch = fills.GetOrAdd(placedOrder, _ => new OrderWatch { Latency = fillLatency });
                orderWatch.Expect(OrderQuantity(order), counted);
                await InjectAsync(simulator, symbol, prices.GetValueOrDefault(symbol), ct);
                try
                {
                    await orderWatch.Filled.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
                    if (counted)
                    {
                        filled++;
                    }
                }
                catch (TimeoutException)
                {
                    missing++;
                }
                fills.TryRemove(placedOrder, out _);
            }
            else
            {
                // The resting order is canceled at once: open orders stay far below the risk limit however many are placed.
                var cancelSent = Stopwatch.GetTimestamp();
                using var cancel = await trader.Client.DeleteAsync($"/api/v1/orders/{placedOrder}", ct);
                if (cancel.IsSuccessStatusCode && counted)
                {
                    canceled.Add(Stopwatch.GetElapsedTime(cancelSent).TotalMilliseconds);
                }
            }
            if (i > 0 && i % 250 == 0)
            {
                Console.WriteLine($"  {i:N0} orders, accepted p50/p99 {accepted.Summary().P50:F1}/{accepted.Summary().P99:F1} ms, trade → fill {fillLatency.Summary().P50:F1}/{fillLatency.Summary().P99:F1} ms");
                stats.SampleMemory();
            }
        }
        var elapsedRun = watch.Elapsed;
        var processes = stats.Finish(elapsedRun);
        await stop.CancelAsync();
        await Task.WhenAll(priceWatch, fillWatch).ContinueWith(_ => { }, CancellationToken.None);
        (await simulator.PostAsJsonAsync("/control/rate", new { tradesPerSecond = 0 }, CancellationToken.None)).EnsureSuccessStatusCode();

        return new TradingLatencyResult(options, placed, refused, filled, fillLatency.Count, missing, accepted.Summary(), fillLatency.Summary(),
            tradeToRaw.Summary(), rawToFill.Summary(), canceled.Summary(),
            elapsedRun, processes, loadBefore, LoadAverage());
    }

    /// <summary>
    /// A cycle of five: market buy and market sell of BTCUSDT (good till filled, so the sell finds the whole buy; the
    /// position goes back to flat), a marketable limit buy and sell of
    /// ETHUSDT (takers on arrival), and a resting ETHUSDT limit buy at half the price. The first four fill on the next print.
    /// </summary>
    private static (object Order, string Symbol, bool Fills) NextOrder(int i, ConcurrentDictionary<string, decimal> prices)
    {
        var eth = prices["ETHUSDT"];
        return (i % 5) switch
        {
            0 => (new { exchange = Exchange, symbol = "BTCUSDT", side = "buy", type = "market", quantity = 0.001m, timeInForce = "gtc" }, "BTCUSDT", true),
            1 => (new { exchange = Exchange, symbol = "BTCUSDT", side = "sell", type = "market", quantity = 0.001m, timeInForce = "gtc" }, "BTCUSDT", true),
            2 => (new { exchange = Exchange, symbol = "ETHUSDT", side = "buy", type = "limit", quantity = 0.01m, price = Round(eth * 1.02m), timeInForce = "gtc" }, "ETHUSDT", true),
            3 => (new { exchange = Exchange, symbol = "ETHUSDT", side = "sell", type = "limit", quantity = 0.01m, price = Round(eth * 0.98m), timeInForce = "gtc" }, "ETHUSDT", true),
            _ => (new { exchange = Exchange, symbol = "ETHUSDT", side = "buy", type = "limit", quantity = 0.01m, price = Round(eth * 0.5m), timeInForce = "gtc" }, "ETHUSDT", false),
        };
    }

    private static decimal Round(decimal price) => Math.Round(price, 2);

    /// <summary>The 1/5/15-minute load averages: on a shared machine, what else was running says as much as the figures.</summary>
    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>One print at the market's last price (or the simulator's own, for 0), big enough to fill any harness order.</summary>
    private static async Task InjectAsync(HttpClient simulator, string symbol, decimal price, CancellationToken ct)
    {
        if (price <= 0m)
        {
            price = symbol == "BTCUSDT" ? 60_000m : 3_000m;
        }
        using var response = await simulator.PostAsJsonAsync("/control/trades",
            new { exchange = Exchange, symbol, price, quantity = 1m, side = "buy" }, ct);
        response.EnsureSuccessStatusCode();
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException("no trade of BTCUSDT and ETHUSDT reached market.raw");
            }
            await Task.Delay(50, ct);
        }
    }

    /// <summary>The last price of each binance market, as QuantTrader published it.</summary>
    private static async Task WatchPricesAsync(INatsConnection nats, ConcurrentDictionary<string, decimal> prices,
        ConcurrentDictionary<(string, long), DateTimeOffset> seen, Percentiles tradeToRaw, CancellationToken ct)
    {
        try
        {
            await foreach (var message in nats.SubscribeAsync<byte[]>(Subjects.MarketRaw(Exchange, "*"), cancellationToken: ct))
            {
                if (message.Data is not { Length: > 0 } data)
                {
                    continue;
                }
                foreach (var trade in TradeMessages.Decode(data))
                {
                    prices[trade.Symbol] = trade.Price;
                    if (trade.Symbol is "BTCUSDT" or "ETHUSDT")
                    {
                        var now = DateTimeOffset.UtcNow;
                        tradeToRaw.Add((now - trade.Time).TotalMilliseconds);
                        seen[(trade.Symbol, trade.TradeId)] = now;
                        if (seen.Count > 100_000)
                        {
                            seen.Clear(); // only the latest prints can still fill a harness order
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static decimal OrderQuantity(object order) => (decimal)order.GetType().GetProperty("quantity")!.GetValue(order)!;

    /// <summary>The fills of one harness order as they arrive, and when it is completely filled.</summary>
    private sealed class OrderWatch
    {
        private readonly Lock _gate = new();
        private readonly List<(decimal Quantity, double LatencyMs)> _early = [];
        private decimal _quantity = decimal.MaxValue;
        private decimal _filled;
        private Percentiles? _latency;

        public TaskCompletionSource Filled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The order's size, and whether its fills count (not a warm-up order); fills seen before this are kept.</summary>
        public void Expect(decimal quantity, bool counted)
        {
            lock (_gate)
            {
                _quantity = quantity;
                _latency = counted ? Latency : null;
                foreach (var (q, ms) in _early)
                {
                    Add(q, ms);
                }
                _early.Clear();
            }
        }

        public Percentiles? Latency { get; set; }

        public void OnFill(decimal quantity, double latencyMs)
        {
            lock (_gate)
            {
                if (_quantity == decimal.MaxValue)
                {
                    _early.Add((quantity, latencyMs));
                    return;
                }
                Add(quantity, latencyMs);
            }
        }

        private void Add(decimal quantity, double latencyMs)
        {
            _latency?.Add(latencyMs);
            _filled += quantity;
            if (_filled >= _quantity)
            {
                Filled.TrySetResult();
            }
        }
    }

    /// <summary>Every fill of the harness's orders: trade (print time) → fill event received, ms.</summary>
    private static async Task WatchFillsAsync(INatsConnection nats, Guid userId, ConcurrentDictionary<Guid, OrderWatch> fills, Percentiles latency,
        ConcurrentDictionary<(string, long), DateTimeOffset> rawSeen, Percentiles rawToFill, CancellationToken ct)
    {
        try
        {
            await foreach (var message in nats.SubscribeAsync<byte[]>(Subjects.TradingFill(userId), cancellationToken: ct))
            {
                var receivedAt = DateTimeOffset.UtcNow;
                if (message.Data is { } data && JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.FillEvent) is { } fill)
                {
                    fills.GetOrAdd(fill.OrderId, _ => new OrderWatch { Latency = latency })
                        .OnFill(fill.Quantity, (receivedAt - fill.Time).TotalMilliseconds);
                    if (rawSeen.TryGetValue((fill.Symbol, fill.TradeId), out var raw))
                    {
                        rawToFill.Add((receivedAt - raw).TotalMilliseconds);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>The trading-latency run as a docs/benchmarks.md subsection (between its own markers) and one final line.</summary>
public static class TradingLatencyReport
{
    public static string FinalLine(TradingLatencyResult r) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"orders={r.Placed} accepted_p50_ms={r.Accepted.P50:F2} accepted_p99_ms={r.Accepted.P99:F2} fills={r.Fills} fill_p50_ms={r.TradeToFill.P50:F2} fill_p99_ms={r.TradeToFill.P99:F2}");

    public static string Markdown(TradingLatencyResult r, string commandLine)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        static string Ms((double P50, double P99, double Max) p) => double.IsNaN(p.P50)
            ? "no samples"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.P50:F2} / {p.P99:F2} / {p.Max:F2}");

        var sb = new System.Text.StringBuilder();
        sb.AppendLine(TradingLatencyBenchmark.Begin);
        sb.AppendLine(Report.MachineLine());
        sb.AppendLine(c, $"- Command: `{commandLine}`");
        sb.AppendLine(c, $"- Load average (1/5/15 min) when the orders started: {r.LoadBefore}; when they ended: {r.LoadAfter}");
        sb.AppendLine(c, $"- {r.Placed:N0} orders placed one at a time through the gateway{(r.Options.OrderRate > 0 ? $", paced at {r.Options.OrderRate:0.##} orders/s" : ", each as soon as the previous one was done")} (plus {r.Options.Warmup} warm-up orders not counted), {r.Options.Rate:N0} background trades/s over {SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length} markets, {r.Elapsed.TotalSeconds:F0} s");
        sb.AppendLine();
        sb.AppendLine("| figure | ms p50 / p99 / max | samples | goal | |");
        sb.AppendLine("|---|---|---|---|---|");
        sb.AppendLine(c, $"| order request → accepted (HTTP response: gateway → paper engine → risk → durable) | {Ms(r.Accepted)} | {r.Placed:N0} ({r.Refused} refused) | p99 < 5 | {Report.Met(r.Accepted.P99 < 5)} |");
        sb.AppendLine(c, $"| trade (print time) → fill event received on `trading.fill.{{userId}}` | {Ms(r.TradeToFill)} | {r.FillEvents:N0} fills of {r.Fills:N0} orders ({r.FillsMissing} not filled within 10 s) | p99 < 10 | {Report.Met(r.TradeToFill.P99 < 10)} |");
        sb.AppendLine(c, $"| … of which print → on `market.raw` (simulator → ingestor → JetStream), all BTCUSDT/ETHUSDT prints | {Ms(r.TradeToRaw)} | | | |");
        sb.AppendLine(c, $"| … of which print on `market.raw` → fill event (paper engine → PostgreSQL → TRADING) | {Ms(r.RawToFill)} | | | |");
        sb.AppendLine(c, $"| cancel request → canceled (HTTP response) | {Ms(r.Canceled)} | | | |");
        sb.AppendLine();
        sb.AppendLine("| process | CPU (cores, average) | peak working set (MiB) |");
        sb.AppendLine("|---|---|---|");
        foreach (var p in r.Processes)
        {
            sb.AppendLine(c, $"| {p.Name} | {p.Cores:F2} | {p.PeakMiB:F0} |");
        }
        sb.AppendLine();
        sb.AppendLine(c, $"Final line: `{FinalLine(r)}`");
        sb.AppendLine(TradingLatencyBenchmark.End);
        return sb.ToString();
    }
}
