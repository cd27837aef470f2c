using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.IntegrationTests;

/// <summary>Issue 16 item 8: one account's black-hole webhook does not slow down another account's deliveries.</summary>
[Collection(SystemCollection.Name)]
public sealed class WebhookFairnessTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_black_hole_endpoint_of_one_account_leaves_another_accounts_webhook_latency_unchanged()
    {
        await using var healthy = await CountingReceiver.StartAsync();
        using var blackHole = BlackHole.Start();
        await using var bus = await MarketBus.ConnectAsync(system);
        var healthyMarket = await RuleFiringOnEveryRiseAsync(healthy.Url);
        var blackHoleMarket = await RuleFiringOnEveryRiseAsync(blackHole.Url);

        var baseline = await MedianLatencyAsync(bus, healthyMarket, healthy);

        // More firings into the black hole than the 16 slots that all users used to share: each attempt there holds
        // its connection until the webhook timeout (10 s).
        await blackHoleMarket.FireAsync(bus, times: 24);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.True(blackHole.Connections >= 2, $"{blackHole.Connections} connections to the black hole so far");
            return Task.CompletedTask;
        }, Wait);

        var beside = await MedianLatencyAsync(bus, healthyMarket, healthy);

        // Generous: the same order of magnitude. Shared slots made it the black hole's timeout (10 s) instead.
        Assert.True(beside < (baseline * 5) + TimeSpan.FromSeconds(1),
            $"healthy webhook latency beside the black hole {beside.TotalMilliseconds:F0} ms, baseline {baseline.TotalMilliseconds:F0} ms");
    }

    /// <summary>A new account with a rule 'price above 100, every time, no cooldown' on a market of its own.</summary>
    private async Task<Market> RuleFiringOnEveryRiseAsync(string webhookUrl)
    {
        var (_, _, client) = await system.CreateUserAsync();
        var symbol = MarketBus.NewSymbol();
        using var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type = "price_above", value = 100m },
            webhookUrl,
            repeat = "every",
            cooldownSeconds = 0,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return new Market(symbol);
    }

    /// <summary>Median time from a trade that fires the healthy rule to its webhook arriving, over five firings.</summary>
    private static async Task<TimeSpan> MedianLatencyAsync(MarketBus bus, Market market, CountingReceiver receiver)
    {
        var samples = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            await market.FireAsync(bus, times: 1);
            await receiver.NextAsync(Wait);
            samples.Add(clock.Elapsed);
        }

        return samples.Order().ElementAt(samples.Count / 2);
    }

    private sealed class Market(string symbol)
    {
        private long _tradeId;

        /// <summary>Fires an 'every' rule on 'above 100' <paramref name="times"/> times: 101 fires, 99 re-arms.</summary>
        public async Task FireAsync(MarketBus bus, int times)
        {
            for (var i = 0; i < times; i++)
            {
                await bus.PublishTradeAsync(new Trade("binance", symbol, ++_tradeId, 101m, 1m, TakerSide.Buy, DateTimeOffset.UtcNow));
                await bus.PublishTradeAsync(new Trade("binance", symbol, ++_tradeId, 99m, 1m, TakerSide.Sell, DateTimeOffset.UtcNow));
            }
        }
    }

    /// <summary>A webhook receiver that answers 200 at once and signals each delivery.</summary>
    private sealed class CountingReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly SemaphoreSlim _deliveries = new(0);

        private CountingReceiver(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public static async Task<CountingReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var receiver = new CountingReceiver(app);
            app.MapPost("/hook", () =>
            {
                receiver._deliveries.Release();
                return Results.Ok();
            });
            await app.StartAsync();
            receiver.Url = app.Urls.First().TrimEnd('/') + "/hook";
            return receiver;
        }

        public async Task NextAsync(TimeSpan timeout) =>
            Assert.True(await _deliveries.WaitAsync(timeout), $"no webhook delivery within {timeout.TotalSeconds} s");

        public async ValueTask DisposeAsync()
        {
            await _app.DisposeAsync();
            _deliveries.Dispose();
        }
    }

    /// <summary>A loopback TCP endpoint that accepts connections and never answers: a webhook black hole.</summary>
    private sealed class BlackHole : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _held = [];
        private readonly CancellationTokenSource _stop = new();

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hook";

        /// <summary>Connections accepted so far (held open, never answered).</summary>
        public int Connections
        {
            get
            {
                lock (_held)
                {
                    return _held.Count;
                }
            }
        }

        public static BlackHole Start()
        {
            var hole = new BlackHole();
            hole._listener.Start();
            _ = hole.AcceptAsync();
            return hole;
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    lock (_held)
                    {
                        _held.Add(socket);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_held)
            {
                _held.ForEach(s => s.Dispose());
            }

            _stop.Dispose();
        }
    }
}
