using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using QuantTrader.ExchangeSimulator.Market;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.ExchangeSimulator.Okx;

/// <summary>
/// An OKX v5 public connection (<c>/ws/v5/public</c>): <c>{"op":"subscribe","args":[{"channel":"trades","instId":..}]}</c>
/// answered with an ack per arg or <c>{"event":"error","code":..}</c>; text <c>ping</c> answered with <c>pong</c>;
/// dropped after 30 s without anything from the client (close code 4004, like OKX); trades as
/// <c>{"arg":{..},"data":[{instId,tradeId,px,sz,side,ts,count}]}</c> where one entry may stand for <c>count</c> trades
/// ending at <c>tradeId</c>.
/// </summary>
public sealed class OkxSession(WebSocket socket, string remote, SimMarket market, SimulatorOptions.OkxOptions options)
    : SimSession(Exchanges.Okx, socket, remote)
{
    private readonly HashSet<string> _instIds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly string _connId = Guid.NewGuid().ToString("N")[..8];
    private long _seq;

    public override IReadOnlyCollection<string> Subscriptions
    {
        get
        {
            lock (_lock)
            {
                return [.. _instIds];
            }
        }
    }

    public override void OnPrint(SimPrint print)
    {
        var instId = print.Instrument.ExchangeSymbol;
        lock (_lock)
        {
            if (!_instIds.Contains(instId))
            {
                return;
            }
        }

        var side = print.BuyerIsMaker ? "sell" : "buy";
        Send(string.Create(CultureInfo.InvariantCulture,
            $$"""{"arg":{"channel":"trades","instId":"{{instId}}"},"data":[{"instId":"{{instId}}","tradeId":"{{print.LastTradeId}}","px":"{{print.Price}}","sz":"{{print.Quantity}}","side":"{{side}}","ts":"{{print.TimeMs}}","count":"{{print.Count}}","source":"0","seqId":{{Interlocked.Increment(ref _seq)}}}]}"""));
    }

    public override void OnReplay(Replay.ReplayFrame frame, IReadOnlyList<SimPrint> prints)
    {
        if (frame.Text is null)
        {
            foreach (var print in prints)
            {
                OnPrint(print);
            }

            return;
        }

        lock (_lock)
        {
            if (frame.Stream is null || !_instIds.Contains(frame.Stream))
            {
                return;
            }
        }

        Send(frame.Text);
    }

    public void SendMalformed(string kind, SimInstrument instrument)
    {
        var instId = instrument.Instrument.ExchangeSymbol;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = instrument.LastId;
        Send(kind switch
        {
            "price" => $$"""{"arg":{"channel":"trades","instId":"{{instId}}"},"data":[{"instId":"{{instId}}","tradeId":"{{id}}","px":"abc","sz":"0.1","side":"buy","ts":"{{now}}","count":"1"}]}""",
            "symbol" => $$"""{"arg":{"channel":"trades","instId":"ZZZ-USDT"},"data":[{"instId":"ZZZ-USDT","tradeId":"{{id}}","px":"1.5","sz":"0.1","side":"buy","ts":"{{now}}","count":"1"}]}""",
            _ => $$"""{"arg":{"channel":"trades","instId":"{{instId}}"},"data":[{"instId":""",
        });
    }

    /// <summary>Notice 64008, then the upgrade disconnect after <paramref name="grace"/>.</summary>
    public void SendUpgradeNotice(TimeSpan grace)
    {
        Send($$"""{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"{{_connId}}"}""");
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(grace, Aborted);
                await CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "service upgrade");
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    protected override async Task ReceiveLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await WhileStalledAsync(ct);
            var text = await ReceiveTextAsync(ct);
            if (text is null)
            {
                return;
            }

            if (text == "ping")
            {
                Send("pong");
                continue;
            }

            foreach (var reply in Answer(text))
            {
                Send(reply);
            }
        }
    }

    /// <summary>OKX drops a connection on which nothing happened for 30 s (the reason clients send <c>ping</c>).</summary>
    protected override async Task TimersAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(ct))
        {
            // A stalled (hung) server closes nothing either: ending the connection politely with 4004 would turn the
            // stall into a clean close and the client's watchdog would never be exercised.
            if (!Stalled && DateTimeOffset.UtcNow - LastActivity > options.IdleTimeout)
            {
                await CloseAsync((WebSocketCloseStatus)4004, $"No data received in {options.IdleTimeout.TotalSeconds:0}s.");
                return;
            }
        }
    }

    private IEnumerable<string> Answer(string text)
    {
        var replies = new List<string>();
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var op = root.TryGetProperty("op", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
            if (op is not ("subscribe" or "unsubscribe")
                || !root.TryGetProperty("args", out var args) || args.ValueKind != JsonValueKind.Array || args.GetArrayLength() == 0)
            {
                return [Error("60012", $"Invalid request: {text}")];
            }

            foreach (var arg in args.EnumerateArray())
            {
                var channel = arg.TryGetProperty("channel", out var c) ? c.GetString() : null;
                var instId = arg.TryGetProperty("instId", out var i) ? i.GetString() : null;
                if (channel is null || instId is null)
                {
                    replies.Add(Error("60012", $"Invalid request: {text}"));
                    continue;
                }

                if (channel != "trades" || market.Find(Exchanges.Okx, instId) is not { } instrument
                    || instrument.Instrument.ExchangeSymbol != instId)
                {
                    replies.Add(Error("60018", $"Wrong URL or channel:{channel},instId:{instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document."));
                    continue;
                }

                lock (_lock)
                {
                    if (op == "subscribe")
                    {
                        _instIds.Add(instId);
                    }
                    else
                    {
                        _instIds.Remove(instId);
                    }
                }

                replies.Add($$"""{"event":"{{op}}","arg":{"channel":"{{channel}}","instId":"{{instId}}"},"connId":"{{_connId}}"}""");
            }
        }
        catch (JsonException)
        {
            replies.Add(Error("60012", $"Invalid request: {text}"));
        }

        return replies;
    }

    private string Error(string code, string message) =>
        $$"""{"event":"error","code":"{{code}}","msg":{{JsonSerializer.Serialize(message)}},"connId":"{{_connId}}"}""";
}
