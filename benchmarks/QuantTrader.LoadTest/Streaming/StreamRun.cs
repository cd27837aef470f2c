using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace QuantTrader.LoadTest.Streaming;

public sealed record StreamResult(
    int Clients,
    double Rate,
    TimeSpan Elapsed,
    int Channels,
    long Frames,
    long Trades,
    long Lost,
    int Closed,
    (double P50, double P99, double Max) Latency,
    double GatewayCores,
    double GatewayPeakMiB)
{
    /// <summary>Gateway CPU per delivered frame, in microseconds.</summary>
    public double CpuMicrosPerFrame => Frames == 0 ? double.NaN : GatewayCores * Elapsed.TotalSeconds * 1e6 / Frames;

    public bool Ok => Latency.P99 < 50 && Lost == 0;
}

/// <summary>
/// <c>--mode stream --clients N</c>: N WebSocket clients of the gateway's streaming API, each subscribed to the trades
/// and 1m candles of every market, while the simulator prints <c>--rate</c> trades/s across them. Measures the print →
/// client latency (the trade's exchange time, stamped by the simulator on this box, to the frame's arrival), trades a
/// client that kept up did not get (the simulator's ids go up by one per market: a gap is a loss), and the gateway's
/// CPU per delivered frame.
/// </summary>
public sealed class StreamRun(SystemUnderTest system, LoadOptions options)
{
    public const string Begin = "<!-- stream-harness:begin -->";
    public const string End = "<!-- stream-harness:end -->";

    public async Task<StreamResult> RunAsync(CancellationToken ct)
    {
        using var simulator = system.Client("exchange-simulator");
        using var gateway = system.Client("gateway");
        var address = new UriBuilder(gateway.BaseAddress!) { Scheme = "ws", Path = "/api/v1/stream" }.Uri;
        string[] channels =
        [
            .. SystemUnderTest.Exchanges.SelectMany(e => SystemUnderTest.Symbols.Select(s => $"trades.{e}.{s}")),
            .. SystemUnderTest.Exchanges.SelectMany(e => SystemUnderTest.Symbols.Select(s => $"candles.{e}.1m.{s}")),
        ];

        Console.WriteLine($"connecting {options.Clients} clients, {channels.Length} channels each …");
        var latency = new Percentiles();
        var clients = new List<Client>();
        for (var i = 0; i < options.Clients; i++)
        {
            var client = new Client(latency);
            await client.ConnectAsync(address, channels, ct);
            clients.Add(client);
        }
        await Task.WhenAll(clients.Select(c => c.Subscribed.WaitAsync(TimeSpan.FromSeconds(60), ct)));

        var stats = new ProcessStats(LoadOptions.RepositoryRoot(), system.DataDirectory);
        var perMarket = options.Rate / (SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length);
        Console.WriteLine($"driving {options.Rate:N0} trades/s ({perMarket:N2}/s per market) for {options.DurationSeconds} s …");
        foreach (var client in clients)
        {
            client.Measuring = true;
        }
        stats.Start();
        var watch = Stopwatch.StartNew();
        (await simulator.PostAsJsonAsync("/control/rate", new { tradesPerSecond = perMarket }, ct)).EnsureSuccessStatusCode();
        while (watch.Elapsed < TimeSpan.FromSeconds(options.DurationSeconds))
        {
            stats.SampleMemory();
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
        (await simulator.PostAsJsonAsync("/control/rate", new { tradesPerSecond = 0 }, ct)).EnsureSuccessStatusCode();
        await Task.Delay(TimeSpan.FromSeconds(2), ct); // what is in flight arrives
        var elapsed = watch.Elapsed;
        var gatewayRow = stats.Finish(elapsed).FirstOrDefault(r => r.Name == "QuantTrader.Gateway");
        foreach (var client in clients)
        {
            client.Measuring = false;
        }

        var closed = clients.Count(c => c.ClosedBy is not null);
        var result = new StreamResult(options.Clients, options.Rate, elapsed, channels.Length,
            clients.Sum(c => Interlocked.Read(ref c.Frames)), clients.Sum(c => Interlocked.Read(ref c.Trades)),
            clients.Where(c => c.ClosedBy is null).Sum(c => c.Lost), closed, latency.Summary(), gatewayRow.Cores, gatewayRow.PeakMiB);
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
        return result;
    }

    public static string FinalLine(StreamResult r) => string.Create(CultureInfo.InvariantCulture,
        $"stream: {(r.Ok ? "ok" : "goal missed")} — {r.Clients} clients, {r.Frames / r.Elapsed.TotalSeconds:N0} frames/s delivered, print → client p50 {r.Latency.P50:F1} ms p99 {r.Latency.P99:F1} ms, {r.Lost} lost, {r.Closed} closed, gateway {r.GatewayCores:F2} cores = {r.CpuMicrosPerFrame:F1} µs CPU per frame");

    public static string Markdown(StreamResult r, string command)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(Begin);
        sb.AppendLine("## Streaming API (`--mode stream`)");
        sb.AppendLine();
        sb.AppendLine(Report.MachineLine());
        sb.AppendLine(c, $"- Command: `{command}`");
        sb.AppendLine(c, $"- {r.Clients} WebSocket clients through the gateway, each subscribed to {r.Channels} channels (trades and 1m candles of every market); the simulator prints {r.Rate:N0} trades/s across the markets for {r.Elapsed.TotalSeconds:F0} s. The clients run in the harness, on the same box.");
        sb.AppendLine();
        sb.AppendLine("| measure | value | goal |");
        sb.AppendLine("|---|---|---|");
        sb.AppendLine(c, $"| frames delivered | {r.Frames:N0} ({r.Frames / r.Elapsed.TotalSeconds:N0}/s), {r.Trades:N0} trades | |");
        sb.AppendLine(c, $"| print → client latency p50 / p99 / max | {r.Latency.P50:F1} / {r.Latency.P99:F1} / {r.Latency.Max:F1} ms | p99 < 50 ms: {Report.Met(r.Latency.P99 < 50)} |");
        sb.AppendLine(c, $"| trades lost by clients that kept up | {r.Lost} | 0: {Report.Met(r.Lost == 0)} |");
        sb.AppendLine(c, $"| clients closed (slow consumer or otherwise) | {r.Closed} | |");
        sb.AppendLine(c, $"| gateway CPU | {r.GatewayCores:F2} cores, {r.CpuMicrosPerFrame:F1} µs per delivered frame; peak {r.GatewayPeakMiB:F0} MiB | |");
        sb.AppendLine();
        sb.AppendLine(c, $"Final line: `{FinalLine(r)}`");
        sb.AppendLine(End);
        return sb.ToString();
    }

    private sealed class Client(Percentiles latency) : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly Dictionary<string, long> _lastId = [];
        private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _pending;
        private Task? _reading;
        private Task? _pinging;
        private readonly CancellationTokenSource _stop = new();

        public long Frames;
        public long Trades;
        public long Lost;
        public volatile bool Measuring;
        public WebSocketCloseStatus? ClosedBy;

        public Task Subscribed => _subscribed.Task;

        public async Task ConnectAsync(Uri address, string[] channels, CancellationToken ct)
        {
            await _socket.ConnectAsync(address, ct);
            _pending = channels.Length;
            _reading = Task.Run(ReadAsync, CancellationToken.None);
            await SendAsync(new { type = "subscribe", channels }, ct);
            _pinging = Task.Run(async () =>
            {
                try
                {
                    while (!_stop.IsCancellationRequested)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(25), _stop.Token);
                        await SendAsync(new { type = "ping" }, _stop.Token);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
                {
                }
            }, CancellationToken.None);
        }

        private async Task SendAsync(object message, CancellationToken ct) =>
            await _socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, ct);

        private async Task ReadAsync()
        {
            var buffer = new byte[256 * 1024];
            try
            {
                while (true)
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        if (length == buffer.Length)
                        {
                            Array.Resize(ref buffer, buffer.Length * 2);
                        }
                        result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                        length += result.Count;
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        ClosedBy = _socket.CloseStatus;
                        return;
                    }
                    Handle(buffer.AsSpan(0, length));
                }
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
            {
                ClosedBy ??= WebSocketCloseStatus.Empty;
            }
        }

        private void Handle(ReadOnlySpan<byte> frame)
        {
            var now = DateTimeOffset.UtcNow;
            using var document = JsonDocument.Parse(frame.ToArray());
            var root = document.RootElement;
            var type = root.GetProperty("type").GetString();
            if (type == "subscribed")
            {
                if (Interlocked.Decrement(ref _pending) == 0)
                {
                    _subscribed.TrySetResult();
                }
                return;
            }
            if (type != "trades" && type != "candle")
            {
                return;
            }
            Interlocked.Increment(ref Frames);
            if (type != "trades")
            {
                return;
            }
            var channel = root.GetProperty("channel").GetString()!;
            foreach (var trade in root.GetProperty("data").EnumerateArray())
            {
                var id = trade.GetProperty("tradeId").GetInt64();
                if (_lastId.TryGetValue(channel, out var last) && id > last + 1 && Measuring)
                {
                    Lost += id - last - 1;
                }
                _lastId[channel] = Math.Max(id, last);
                Interlocked.Increment(ref Trades);
                if (Measuring)
                {
                    latency.Add((now - trade.GetProperty("time").GetDateTimeOffset()).TotalMilliseconds);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _socket.Abort();
            if (_reading is not null)
            {
                await _reading;
            }
            if (_pinging is not null)
            {
                await _pinging;
            }
            _socket.Dispose();
            _stop.Dispose();
        }
    }
}
